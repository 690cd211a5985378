"""`make run` keeps its web server when the worker or beat crashes: Procfile.local runs them
under scripts/restarting.sh, which starts a command again whenever it exits and stops it, and
itself, on SIGTERM. Checked on the script alone and under honcho, as `make run` starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESTARTING = ROOT / "scripts" / "restarting.sh"
HONCHO = ROOT / ".venv" / "bin" / "honcho"


def recorder(pids: Path, *, then: str) -> list[str]:
    """A Python process that appends its pid to `pids`, then runs `then`."""
    code = f"import os, sys, time; open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n'); {then}"
    return [sys.executable, "-c", code]


def started(pids: Path) -> list[int]:
    return [int(line) for line in pids.read_text().split()] if pids.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for good; only its parent has yet to collect it.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def wait_for(predicate: Callable[[], object], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Whatever a test starts, killed (with its process group) if the test left it running."""
    started_here: list[subprocess.Popen[bytes]] = []
    yield started_here
    for process in started_here:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def restarting(processes: list[subprocess.Popen[bytes]], *command: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [str(RESTARTING), *command],
        env={**os.environ, "RESTART_FAST_EXIT": "0"},  # always wait 1 s before a restart
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    processes.append(process)
    return process


def test_a_command_that_exits_is_started_again(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    pids = tmp_path / "pids"
    wrapper = restarting(processes, *recorder(pids, then="sys.exit(1)"))

    assert wait_for(lambda: len(started(pids)) >= 3), started(pids)
    assert wrapper.poll() is None
    assert len(set(started(pids))) == len(started(pids))  # a new process each time


@pytest.mark.parametrize("when", ["running", "between-restarts"])
def test_sigterm_stops_the_command_and_the_script(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]], when: str
) -> None:
    pids = tmp_path / "pids"
    then = "time.sleep(60)" if when == "running" else "sys.exit(1)"
    wrapper = restarting(processes, *recorder(pids, then=then))
    assert wait_for(lambda: started(pids))
    time.sleep(0.3)  # the command is running, or the script waits to start it again

    wrapper.send_signal(signal.SIGTERM)  # the script alone, not its process group

    assert wrapper.wait(timeout=10) == 0
    assert not any(alive(pid) for pid in started(pids))
    # Nothing else of the script's is left either (the back-off's sleep, say).
    leftover = subprocess.run(
        ["pgrep", "-s", str(wrapper.pid)], capture_output=True, text=True, check=False
    )
    assert leftover.stdout == ""


def test_under_honcho_a_crashing_worker_leaves_the_web_server_running(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    web, worker = tmp_path / "web", tmp_path / "worker"
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f"web: {subprocess.list2cmdline(recorder(web, then='time.sleep(60)'))}\n"
        f"worker: {RESTARTING} {subprocess.list2cmdline(recorder(worker, then='sys.exit(1)'))}\n"
    )
    honcho = subprocess.Popen(
        [str(HONCHO), "--procfile", str(procfile), "--app-root", str(ROOT), "start"],
        env={**os.environ, "RESTART_FAST_EXIT": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    processes.append(honcho)

    assert wait_for(lambda: len(started(worker)) >= 3), started(worker)
    assert honcho.poll() is None
    [web_pid] = started(web)
    assert alive(web_pid)

    honcho.send_signal(signal.SIGTERM)
    honcho.wait(timeout=20)
    assert not any(alive(pid) for pid in started(web) + started(worker))


def test_make_run_runs_the_worker_and_beat_under_the_script() -> None:
    commands = dict(
        line.split(":", 1) for line in (ROOT / "Procfile.local").read_text().splitlines() if line
    )
    assert commands["worker"].split()[0] == "scripts/restarting.sh"
    assert commands["beat"].split()[0] == "scripts/restarting.sh"
    # The web server is what must stay up: honcho ends the stack if it stops.
    assert "restarting" not in commands["web"]
