"""dev.py installs only when needed and keeps pip's output to itself unless pip fails."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_dev(tmp_path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_under_test", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.VENV = tmp_path / ".venv"
    return module


class RecordingRun:
    """Stands in for subprocess.run: records pip's arguments and answers with a canned exit code and output."""

    def __init__(self, returncode: int = 0, output: str = "") -> None:
        self.calls: list[list[str]] = []
        self.returncode, self.output = returncode, output

    def __call__(self, args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(args))
        return subprocess.CompletedProcess(args, self.returncode, stdout=self.output)


def fake_venv(dev: ModuleType) -> None:
    python = dev.venv_python()
    python.parent.mkdir(parents=True)
    python.write_text("")


def test_switching_between_run_and_test_installs_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = load_dev(tmp_path)
    fake_venv(dev)
    run = RecordingRun(output="WARNING: Location 'file:///opt/pypi/simple/x/' is ignored\n")
    monkeypatch.setattr(dev.subprocess, "run", run)
    dev.ensure_environment("test")
    installs = len(run.calls)
    assert installs == 2 and run.calls[-1][3:5] == ["install", "-e"]
    for extras in ("", "test", "", "test"):
        dev.ensure_environment(extras)
    assert len(run.calls) == installs, "nothing installed again while pyproject.toml is unchanged"
    printed = capsys.readouterr()
    assert "WARNING" not in printed.out + printed.err and printed.out.count("installing") == 1


def test_a_failing_install_shows_what_pip_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = load_dev(tmp_path)
    fake_venv(dev)
    monkeypatch.setattr(dev.subprocess, "run", RecordingRun(returncode=1, output="ERROR: no matching distribution"))
    with pytest.raises(SystemExit) as stopped:
        dev.ensure_environment("")
    assert stopped.value.code == 1
    assert "ERROR: no matching distribution" in capsys.readouterr().err
    assert not (dev.VENV / ".dtms-installed").exists()
