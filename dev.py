"""Set up a virtual environment and run DTMS Desk or its tests, with nothing but Python installed.

    python3 dev.py run [dtms-desk arguments...]  # install into .venv, then start the program
    python3 dev.py test [pytest arguments...]    # install with test extras into .venv, then run every test
    python3 dev.py lint                          # ruff (lint and format) and mypy over the whole tree

Uses only the standard library, so it works before anything is installed (Linux, macOS and Windows).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_environment(extras: str) -> Path:
    """Create .venv once and (re)install the project when pyproject.toml changes or the extras are missing.

    An environment installed with the test extras also serves ``run``, so switching between run and test
    installs nothing. pip's own output is shown only when an install fails."""
    python = venv_python()
    if not python.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".dtms-installed"
    project = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    recorded = stamp.read_text().split() if stamp.exists() else []
    if recorded[:1] != [project] or (extras and extras not in recorded[1:]):
        target = f".[{extras}]" if extras else "."
        print(
            f"installing dtms-desk{f'[{extras}]' if extras else ''} into {VENV} (a minute or two the first time)",
            flush=True,
        )
        pip(python, "install", "--upgrade", "pip")
        pip(python, "install", "-e", target)
        stamp.write_text(" ".join([project, *([extras] if extras else [])]))
    return python


def pip(python: Path, *args: str) -> None:
    """Run pip quietly; on failure print everything it said and stop."""
    done = subprocess.run(
        [str(python), "-m", "pip", *args, "--disable-pip-version-check"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if done.returncode != 0:
        print(done.stdout, file=sys.stderr)
        print(f"pip {' '.join(args)} failed (exit code {done.returncode})", file=sys.stderr)
        sys.exit(done.returncode)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "lint"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        return run(ensure_environment(""), [str(ROOT / "main.py"), *rest], dict(os.environ))
    python = ensure_environment("test")
    if command == "lint":
        return lint(python)
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    return run(python, ["-m", "pytest", *rest], env)


def lint(python: Path) -> int:
    """The checks a contributor keeps clean: ruff's lint rules, ruff's format and mypy (settings in pyproject)."""
    checks = (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"])
    failed = [" ".join(check) for check in checks if subprocess.call([str(python), "-m", *check], cwd=ROOT) != 0]
    if failed:
        print(f"lint failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("lint: ruff and mypy are clean")
    return 0


def run(python: Path, args: list[str], env: dict[str, str]) -> int:
    """Become the program on POSIX, so Ctrl+C and SIGTERM reach it directly; a child process on Windows."""
    os.chdir(ROOT)
    if os.name != "nt":
        os.execve(str(python), [str(python), *args], env)
    return subprocess.call([str(python), *args], env=env)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
