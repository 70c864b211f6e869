"""The terminal worker the program spawns first thing: taken over by the gateway's transport when it was
offered the same spec, ended (never left building another terminal) otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.terminal import early
from app.terminal.gateway import Gateway
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.transport import ProcessTransport

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def nothing_left() -> Iterator[None]:
    yield
    early.discard()


def sim_spec(data_dir: Path) -> TerminalSpec:
    return TerminalSpec(kind=TerminalKind.SIM, data_dir=data_dir, speed=0.0)


async def test_the_transport_takes_over_the_launched_worker(tmp_path: Path) -> None:
    early.launch()
    launched = early._early
    assert launched is not None
    early.offer(sim_spec(tmp_path))
    gateway = Gateway(sim_spec(tmp_path))
    try:
        await gateway.start()
        transport = gateway._transport
        assert isinstance(transport, ProcessTransport)
        assert transport.pid == launched.process.pid  # no second process was spawned
        assert early._early is None
        assert await gateway.initialize()
        assert (await gateway.account_info()).login > 0
    finally:
        await gateway.close()
    assert not launched.process.is_alive()


async def test_a_worker_offered_another_spec_is_ended_and_a_new_one_spawned(tmp_path: Path) -> None:
    early.launch()
    launched = early._early
    assert launched is not None
    early.offer(sim_spec(tmp_path / "other"))
    transport = ProcessTransport(sim_spec(tmp_path / "mine"))
    try:
        await transport.start()
        assert transport.pid != launched.process.pid
        assert not launched.process.is_alive()
        assert early._early is None
    finally:
        await transport.close(0.5)


def test_an_unclaimed_worker_ends_with_discard() -> None:
    early.launch()
    launched = early._early
    assert launched is not None
    early.discard()
    assert not launched.process.is_alive()
    assert early.claim(TerminalSpec(kind=TerminalKind.SIM)) is None


def test_a_second_launch_ends_the_first() -> None:
    early.launch()
    first = early._early
    assert first is not None
    early.launch()
    assert not first.process.is_alive()
    assert early._early is not None and early._early.process.is_alive()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the umask from /proc")
async def test_it_creates_files_private_whatever_the_umask(tmp_path: Path) -> None:
    """It is spawned before the program sets its umask, so it sets its own as the spec arrives."""
    previous = os.umask(0o022)
    try:
        early.launch()
    finally:
        os.umask(previous)
    early.offer(sim_spec(tmp_path))
    transport = ProcessTransport(sim_spec(tmp_path))
    try:
        await transport.start()
        status = Path(f"/proc/{transport.pid}/status").read_text()
        umask = next(line.split()[1] for line in status.splitlines() if line.startswith("Umask:"))
        assert int(umask, 8) == 0o077
    finally:
        await transport.close(0.5)


def test_the_spec_is_read_from_the_command_line_without_the_engine_or_numpy(tmp_path: Path) -> None:
    """The worker starts building its terminal once the program sends the spec, and the spec comes from the parsed
    command line: parsing it imports neither the engine, the endpoint nor numpy (each costs the worker's start
    the time it takes to import)."""
    script = (
        "import sys\n"
        "from app.cli import parse\n"
        f"command = parse(['--headless', '--data-dir', {str(tmp_path)!r}, '--terminal', 'sim', "
        f"'--config', {str(tmp_path / 'absent.toml')!r}])\n"
        "spec = command.options.terminal_spec()\n"
        "heavy = sorted(m for m in ('numpy', 'app.engine.engine', 'app.runtime', 'fastapi', 'pydantic') "
        "if m in sys.modules)\n"
        "print(spec.kind, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["sim", "[]"], done.stdout + done.stderr


def test_the_program_module_the_spawned_worker_imports_again_stays_light() -> None:
    """A spawned worker imports the program's main module again before it can serve: that import brings neither
    asyncio, numpy nor the command line (the worker imports what it needs itself)."""
    script = (
        "import sys\n"
        "import app.main\n"
        "print(sorted(m for m in ('asyncio', 'numpy', 'app.cli', 'app.config') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
