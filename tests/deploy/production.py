"""The production image, reproduced on this machine without Docker.

docker-compose.yml and the Dockerfile are read as data (YAML, Compose interpolation, the few
Dockerfile instructions that matter), so the tests run the very command strings and environment
the deployment declares: the build context is copied as .dockerignore filters it, the image's
build step runs in the copy, and each service's command runs there with the venv's bin first on
PATH standing in for the image's interpreter.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


# Compose interpolation (https://docs.docker.com/reference/compose-file/interpolation/).


class InterpolationError(Exception):
    """A `${VAR:?message}` whose variable is missing: Compose refuses to start with the message."""


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` closing the `${` that opens at `start`, nested `${...}` included."""
    depth = 0
    index = start
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise InterpolationError(f"unclosed ${{ in {text!r}")


def _braced(expression: str, environ: Mapping[str, str]) -> str:
    match = _NAME.match(expression)
    if match is None:
        raise InterpolationError(f"invalid variable in ${{{expression}}}")
    name, rest = match.group(), expression[match.end() :]
    if not rest:
        return environ.get(name, "")
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise InterpolationError(f"unsupported expression ${{{expression}}}")
    operand = rest[len(operator) :]
    value = environ.get(name)
    # The colon forms treat an empty value as missing; the operand is only expanded when used.
    present = bool(value) if operator.startswith(":") else value is not None
    if operator.endswith("-"):
        return value if present and value is not None else interpolate(operand, environ)
    if operator.endswith("+"):
        return interpolate(operand, environ) if present else ""
    if not present or value is None:
        raise InterpolationError(f"{name}: {interpolate(operand, environ)}")
    return value


def interpolate(text: str, environ: Mapping[str, str]) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith("$$", index):
            out.append("$")
            index += 2
        elif text.startswith("${", index):
            end = _closing_brace(text, index)
            out.append(_braced(text[index + 2 : end], environ))
            index = end + 1
        elif text[index] == "$" and (match := _NAME.match(text, index + 1)):
            out.append(environ.get(match.group(), ""))
            index = match.end()
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def interpolate_tree(node: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, environ)
    if isinstance(node, dict):
        return {key: interpolate_tree(value, environ) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(item, environ) for item in node]
    return node


def load_compose(environ: Mapping[str, str]) -> dict[str, Any]:
    """docker-compose.yml as Compose sees it: anchors merged, every value interpolated."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    return interpolate_tree(raw, environ)


def service_environment(
    compose: Mapping[str, Any], service: str, environ: Mapping[str, str]
) -> dict[str, str]:
    """A service's `environment:`; a key without a value passes through only when it is set."""
    declared = compose["services"][service].get("environment") or {}
    resolved: dict[str, str] = {}
    for key, value in declared.items():
        if value is None:
            if key in environ:
                resolved[key] = environ[key]
        else:
            resolved[key] = str(value)
    return resolved


def service_command(compose: Mapping[str, Any], service: str) -> list[str]:
    command = compose["services"][service]["command"]
    # A string command is split shell-style by Compose, without a shell.
    return shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]


# The Dockerfile: only the instructions whose effect the tests reproduce.


@dataclass
class Dockerfile:
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    run: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    exposed: list[str] = field(default_factory=list)
    base: str = ""
    user: str = ""


def load_dockerfile() -> Dockerfile:
    lines = [
        line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")
    ]
    # Docker drops the backslash-newline of a continuation and keeps the rest of the line.
    logical = re.sub(r"\\\n", "", "\n".join(lines)).splitlines()
    parsed = Dockerfile()
    for line in filter(None, (item.strip() for item in logical)):
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            parsed.base = rest.strip()
        elif instruction == "WORKDIR":
            parsed.workdir = rest.strip()
        elif instruction == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                parsed.env[key] = value
        elif instruction == "RUN":
            parsed.run.append(rest.strip())
        elif instruction == "CMD":
            parsed.cmd = json.loads(rest)
        elif instruction == "HEALTHCHECK":
            parsed.healthcheck = json.loads(rest.split(" CMD ", 1)[1])
        elif instruction == "EXPOSE":
            parsed.exposed = rest.split()
        elif instruction == "USER":
            parsed.user = rest.strip()
    return parsed


def dockerignore_patterns() -> list[str]:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for pattern in patterns:
        # Fail loudly on syntax this small matcher would get wrong, rather than copy too much.
        if pattern.startswith("!") or "/" in pattern.removeprefix("**/"):
            raise ValueError(f".dockerignore pattern not supported by the test: {pattern}")
    return patterns


def is_ignored(relative: PurePosixPath, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatchcase(part, pattern[3:]) for part in relative.parts):
                return True
        elif fnmatch.fnmatchcase(relative.parts[0], pattern):
            return True
    return False


def copy_build_context(destination: Path) -> None:
    """The project as `COPY . .` puts it in the image."""
    patterns = dockerignore_patterns()

    def ignore(directory: str, names: list[str]) -> set[str]:
        base = PurePosixPath(Path(directory).relative_to(ROOT).as_posix())
        return {name for name in names if is_ignored(base / name, patterns)}

    shutil.copytree(ROOT, destination, ignore=ignore)


@dataclass
class Image:
    """The image built into a directory: its code (the Dockerfile's WORKDIR) and its ENV."""

    app_dir: Path
    dockerfile: Dockerfile

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """What a container of this image sees: no host variables beyond PATH and HOME."""
        workdir = self.dockerfile.workdir.rstrip("/")
        env = {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": os.environ.get("HOME", str(self.app_dir)),
            "LANG": "C.UTF-8",
        }
        for key, value in self.dockerfile.env.items():
            if value == workdir or value.startswith(f"{workdir}/"):
                value = str(self.app_dir) + value[len(workdir) :]
            env[key] = value
        env.update(extra or {})
        return env

    def run_build_step(
        self, containing: str, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        """Run the Dockerfile's RUN line that contains `containing`, as /bin/sh -c does."""
        (line,) = [run for run in self.dockerfile.run if containing in run]
        return subprocess.run(
            ["/bin/sh", "-c", line],
            cwd=self.app_dir,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def build_image(destination: Path) -> Image:
    copy_build_context(destination)
    return Image(app_dir=destination, dockerfile=load_dockerfile())


def resolve(argv: list[str], env: Mapping[str, str]) -> list[str]:
    """argv with its program found on the image's PATH, which must be the venv's."""
    program = shutil.which(argv[0], path=env["PATH"])
    if program is None or Path(program).parent != VENV_BIN:
        raise FileNotFoundError(f"{argv[0]} is not in {VENV_BIN}")
    return [program, *argv[1:]]


def run(
    argv: list[str], *, image: Image, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        resolve(argv, env),
        cwd=image.app_dir,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# Long-running services.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to the whole process group (Celery's pool children too), then SIGKILL."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        # The leader may be gone while its children linger.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def running(
    argv: list[str], *, image: Image, env: Mapping[str, str], log_path: Path
) -> Iterator[Service]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            resolve(argv, env),
            cwd=image.app_dir,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = Service(process=process, log_path=log_path)
    try:
        yield service
    finally:
        service.stop()


def wait_until(condition: Any, *, timeout: float, service: Service, what: str) -> Any:
    """Poll `condition()` until it returns something truthy; fail early if the service died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        if not service.alive():
            raise AssertionError(
                f"exited with {service.process.returncode} before {what}:\n{service.log()}"
            )
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {timeout:.0f}s:\n{service.log()}")
