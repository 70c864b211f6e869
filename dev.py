"""Set up a virtual environment and run DTMS Desk or its tests, with nothing but Python installed.

    python3 dev.py run [main.py arguments...]    # install into .venv, then start the program
    python3 dev.py test [pytest arguments...]    # install with test extras into .venv, then run every test

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
    """Create .venv once and (re)install the project whenever pyproject.toml or the extras change."""
    python = venv_python()
    if not python.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".dtms-installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        target = f".[{extras}]" if extras else "."
        print(f"installing dtms-desk{f'[{extras}]' if extras else ''} into {VENV}", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", target], check=True, cwd=ROOT)
        stamp.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        return run(ensure_environment(""), [str(ROOT / "main.py"), *rest], dict(os.environ))
    python = ensure_environment("test")
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    return run(python, ["-m", "pytest", *rest], env)


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
