from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How much the API fuzzing sent (tests/fuzz/test_api_schema.py), one line."""
    sent = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "teardown"
        for name, value in getattr(report, "user_properties", ())
        if name == "fuzz_requests"
    ]
    if sent:
        terminalreporter.write_line(
            f"API fuzzing: {len(sent)} operations, {sum(sent)} generated requests."
        )
