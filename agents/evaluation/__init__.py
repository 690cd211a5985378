"""The built-in agents measured on labelled requests: `run.py` runs them, `requests.jsonl` holds
them, and `manage.py evaluate_agents` prints the figures."""
