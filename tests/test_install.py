"""``pip install .`` as a user does it: the wheel installs into a fresh environment, outside this checkout, and
its ``dtms-desk --headless --demo`` protects the demo's three trades, then stops cleanly on SIGTERM.

Offline: the wheel is built without build isolation, and the fresh environment borrows the dependencies of
the environment running the tests (a ``.pth`` line naming its site-packages), so nothing is downloaded.
"""

from __future__ import annotations

import os
import re
import signal
import site
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "QT_QPA_PLATFORM")}
    env["PIP_NO_INDEX"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fresh environment's bin (Scripts) directory, with the wheel of this checkout installed."""
    base = tmp_path_factory.mktemp("install")
    wheels = base / "wheels"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        env=_clean_env(),
        cwd=base,
    )
    wheel = next(wheels.glob("dtms_desk-*.whl"))
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    fresh_site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env=_clean_env()
        ).stdout.strip()
    )
    (fresh_site / "borrowed-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    _run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], env=_clean_env(), cwd=base)
    return bin_dir


@pytest.mark.slow
def test_the_wheel_carries_the_resources_and_the_commands(installed: Path, tmp_path: Path) -> None:
    python = str(installed / ("python.exe" if os.name == "nt" else "python"))
    code = (
        "import app, app.demo, app.views.program as p; print(app.__file__); print(len(app.demo.load_scenario()));"
        " print(p.STYLE_SHEET.is_file())"
    )
    out = _run([python, "-c", code], env=_clean_env(), cwd=tmp_path).stdout.split()
    assert "site-packages" in out[0] and not out[0].startswith(str(ROOT)), "imported from the wheel"
    assert out[1:] == ["3", "True"]
    assert (installed / "dtms-desk").exists() or (installed / "dtms-desk.exe").exists()
    assert (
        "usage: dtms-desk" in _run([str(installed / "dtms-desk-cli"), "--help"], env=_clean_env(), cwd=tmp_path).stdout
    )
    assert "usage: dtms-desk" in _run([python, "-m", "app", "--help"], env=_clean_env(), cwd=tmp_path).stdout


@pytest.mark.slow
def test_the_installed_command_protects_the_demo_trades_headless(installed: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    process = subprocess.Popen(
        [
            str(installed / "dtms-desk"),
            "--headless",
            "--demo",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--config",
            str(tmp_path / "dtms.toml"),
        ],
        cwd=tmp_path,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline and process.poll() is None:
            found = [m for line in list(lines) if (m := re.search(r"listening on (http://\S+)", line))]
            url = found[0].group(1) if found else None
            time.sleep(0.1)
        assert url, "".join(lines)
        managed: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            managed = httpx.get(f"{url}/dtms/trades", timeout=5).json()["trades"]
            if len(managed) == 3:
                break
            time.sleep(0.2)
        assert sorted(t["symbol"] for t in managed) == ["EURUSD", "GBPUSD", "USDJPY"], "".join(lines)
        assert all(t["managed_by"] == "dtms_manager" and t["active"] for t in managed)
        status = httpx.get(f"{url}/dtms/status", timeout=5).json()
        assert status["dtms_status"]["system_active"] is True and status["dtms_status"]["active_trades"] == 3
        while time.monotonic() < deadline and not any("3 managed trades" in line for line in lines):
            time.sleep(0.1)
        status_lines = [line for line in lines if line.startswith("DTMS ")]
        assert status_lines and all(f"bots: {url}" in line for line in status_lines), "".join(lines)
        assert any("adoption policy in force: none" in line for line in lines), "".join(lines)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, "".join(lines)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
