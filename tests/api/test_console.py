"""The headless console: a status line on change or every heartbeat, with the address; repeated log lines held
back; the command line's --demo, --quiet and the console entry point."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from app.cli import parse
from app.console import print_status_until
from app.engine.registry import Registration
from app.logs import ConsoleFormatter, RepeatFilter
from app.runtime import Services
from tests.api.conftest import open_position

ADDRESS = "http://127.0.0.1:8123"


async def collect_until(services: Services, done: object, **kwargs: float) -> list[str]:
    lines: list[str] = []
    stop = asyncio.Event()
    printing = asyncio.ensure_future(
        print_status_until(services, stop, lambda: ADDRESS, write=lines.append, check_s=0.001, **kwargs)
    )
    try:
        for _ in range(2000):
            if done(lines):
                break
            await asyncio.sleep(0.001)
    finally:
        stop.set()
        await printing
    return lines


async def test_a_line_on_change_only_each_with_the_address(ready: Services) -> None:
    ticket = await open_position(ready, "EURUSD", "BUY", 0.1)
    stop = asyncio.Event()
    seen: list[str] = []
    printing = asyncio.ensure_future(
        print_status_until(ready, stop, lambda: ADDRESS, write=seen.append, heartbeat_s=3600.0, check_s=0.001)
    )
    for _ in range(100):  # unchanged: one line, however many checks
        await asyncio.sleep(0.001)
    assert len(seen) == 1 and "0 managed trades" in seen[0]
    await ready.engine.register(Registration(ticket=ticket))
    for _ in range(500):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.001)
    for _ in range(50):  # and nothing more while it stays so
        await asyncio.sleep(0.001)
    stop.set()
    assert await printing == 2
    assert len(seen) == 2 and "1 managed trade (1 HEALTHY)" in seen[1]
    assert all(line.startswith("DTMS READY") and line.endswith(f"bots: {ADDRESS}") for line in seen)
    assert "balance" in seen[1]


async def test_unchanged_status_is_repeated_at_the_heartbeat(ready: Services) -> None:
    lines = await collect_until(ready, lambda lines: len(lines) >= 3, heartbeat_s=0.0)
    assert len(lines) >= 3 and len(set(line.split(" | bots")[0].split(" | simulator")[0] for line in lines)) == 1


def test_repeated_log_lines_are_held_back_and_counted() -> None:
    now = [0.0]
    repeats = RepeatFilter(burst=3, window_s=600.0, clock=lambda: now[0])
    record = lambda: logging.LogRecord("dtms.x", logging.WARNING, __file__, 1, "reconnect %d failed", (1,), None)  # noqa: E731
    passed = [repeats.filter(record()) for _ in range(10)]
    assert passed == [True] * 3 + [False] * 7
    other = logging.LogRecord("dtms.x", logging.WARNING, __file__, 1, "something else", (), None)
    assert repeats.filter(other)
    now[0] = 601.0
    summary = record()
    assert repeats.filter(summary)
    text = ConsoleFormatter("%(message)s").format(summary)
    assert text == "reconnect 1 failed (and 7 more like it before, in the log file)"


def test_the_command_line_flags(tmp_path: Path) -> None:
    config = ["--config", str(tmp_path / "absent.toml"), "--data-dir", str(tmp_path)]
    default = parse(config)
    assert (default.demo, default.quiet, default.run_demo, default.headless) == (None, False, True, False)
    quiet = parse(["--headless", "--no-demo", "--quiet", *config])
    assert (quiet.demo, quiet.quiet, quiet.run_demo, quiet.headless) == (False, True, False, True)
    (tmp_path / "off.toml").write_text("[terminal]\nsim_demo = false\n", encoding="utf-8")
    forced = parse(["--demo", "--config", str(tmp_path / "off.toml"), "--data-dir", str(tmp_path)])
    assert forced.run_demo is True


def test_quiet_keeps_the_console_to_warnings_and_the_file_to_everything(tmp_path: Path) -> None:
    from app.logs import configure_logging

    root = logging.getLogger()
    kept = list(root.handlers)
    try:
        configure_logging(tmp_path, console_level=logging.WARNING)
        console = [
            h for h in root.handlers if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
        ]
        files = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
        assert [h.level for h in console] == [logging.WARNING] and [h.level for h in files] == [logging.NOTSET]
        assert any(isinstance(f, RepeatFilter) for f in console[0].filters)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            if handler not in kept:
                handler.close()
        for handler in kept:
            root.addHandler(handler)


async def test_a_trade_changing_state_is_a_change_and_the_key_kept_is_one_number(ready: Services) -> None:
    from app.console import status_key
    from app.engine.model import DefensiveState

    ticket = await open_position(ready, "EURUSD", "BUY", 0.1)
    await ready.engine.register(Registration(ticket=ticket))
    before = status_key(ready)
    assert isinstance(before.trades, int)
    assert status_key(ready) == before
    trade = ready.engine.registry.get(ticket)
    assert trade is not None
    trade.state = DefensiveState.WARNING_L1
    try:
        assert status_key(ready) != before
    finally:
        trade.state = DefensiveState.HEALTHY
    assert status_key(ready) == before
