"""The shared connection pool over a real socket, auto_register_dtms inside and outside a loop, and the
client package's independence from the rest of the program."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.client import auto_register_dtms, close_dtms_client, register_trade_with_dtms_api

TRADE = {"symbol": "EURUSD", "direction": "SELL", "entry_price": 1.0851, "volume": 0.05}
ROOT = Path(__file__).resolve().parents[2]


def _answer(request: httpx.Request) -> httpx.Response:
    ticket = json.loads(request.content)["ticket"]
    info = {
        "ticket": ticket,
        "symbol": "EURUSD",
        "direction": "SELL",
        "entry": 1.0851,
        "volume": 0.05,
        "sl": 0.0,
        "tp": 0.0,
        "state": "HEALTHY",
    }
    return httpx.Response(
        200, json={"success": True, "ticket": ticket, "already_registered": False, "trade_info": info}
    )


def _crash(request: httpx.Request) -> httpx.Response:
    raise RuntimeError("the bot's transport broke")


def mock_client(handler: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


# --- the pool, on a real socket -------------------------------------------------------------------------


async def test_one_pool_serves_every_call_with_at_most_ten_connections_and_five_kept(fake: Any, live_url: str) -> None:
    fake.enable_delay = 0.2
    calls = [register_trade_with_dtms_api(ticket, TRADE, api_url=live_url) for ticket in range(1, 21)]
    assert all(await asyncio.gather(*calls))
    assert fake.max_in_flight == 10  # 20 concurrent registrations, never more than 10 connections
    first_round = set(fake.peers)

    fake.peers.clear()
    calls = [register_trade_with_dtms_api(ticket, TRADE, api_url=live_url) for ticket in range(21, 31)]
    assert all(await asyncio.gather(*calls))
    assert len(set(fake.peers) & first_round) == 5  # five connections were kept alive for reuse
    assert sorted(fake.trades) == list(range(1, 31))


async def test_sequential_calls_reuse_one_connection(fake: Any, live_url: str) -> None:
    for ticket in (7, 8, 7):
        assert await register_trade_with_dtms_api(ticket, TRADE, api_url=live_url)
    assert len(set(fake.peers)) == 1
    assert fake.trades[7].ticket == 7


async def test_nobody_listening_is_retried_then_reported(caplog: pytest.LogCaptureFixture, dead_url: str) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    try:
        assert not await register_trade_with_dtms_api(3, TRADE, retry_count=2, api_url=dead_url, sleep=record)
    finally:
        await close_dtms_client()
    assert waits == [1.0, 2.0]
    assert "ConnectError" in caplog.text and "after 3 attempts" in caplog.text


# --- auto_register_dtms ---------------------------------------------------------------------------------


async def test_inside_a_loop_it_returns_a_named_kept_task() -> None:
    async with mock_client(_answer) as client:
        task = auto_register_dtms(4242, TRADE, client=client)
        assert isinstance(task, asyncio.Task)
        assert task.get_name() == "dtms-register-4242"
        assert await task is True


async def test_a_crash_inside_the_task_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async with mock_client(_crash) as client:
        task = auto_register_dtms(77, TRADE, client=client)
        assert isinstance(task, asyncio.Task)
        await asyncio.wait([task])
        await asyncio.sleep(0)  # done callbacks run on the next loop turn
    assert isinstance(task.exception(), RuntimeError)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == "dtms-register-77 failed"
    assert record.exc_info is not None and "the bot's transport broke" in str(record.exc_info[1])


async def test_a_cancelled_registration_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    gate = asyncio.Event()

    async def never(seconds: float) -> None:
        await gate.wait()

    async with mock_client(lambda request: httpx.Response(503)) as client:
        task = auto_register_dtms(78, TRADE, client=client, sleep=never)
        assert isinstance(task, asyncio.Task)
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.wait([task])
        await asyncio.sleep(0)
    assert "dtms-register-78 was cancelled" in caplog.text


def test_outside_a_loop_it_runs_to_completion_and_returns_the_result() -> None:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return _answer(request)

    result = auto_register_dtms(99, TRADE, client=mock_client(answer))
    assert result is True
    assert len(requests) == 1


def test_outside_a_loop_the_shared_pool_works_call_after_call(fake: Any, threaded_url: str) -> None:
    # Each call runs its own short loop; the pool it opened must not leak into the next one.
    assert auto_register_dtms(11, TRADE, api_url=threaded_url) is True
    assert auto_register_dtms(12, {**TRADE, "direction": "sell"}, api_url=threaded_url) is True
    assert auto_register_dtms(11, TRADE, api_url=threaded_url) is True
    assert sorted(fake.trades) == [11, 12]
    assert [body["ticket"] for body in fake.enable_bodies] == [11, 12, 11]


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the sockets such a bot leaves open, collected below
def test_a_loop_that_ended_without_closing_its_pool_does_not_break_the_next(fake: Any, threaded_url: str) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    for ticket in (21, 22):  # each asyncio.run is a new loop; close_dtms_client() is never called
        assert asyncio.run(register_trade_with_dtms_api(ticket, TRADE, api_url=threaded_url, sleep=record))
    assert waits == []  # the second loop got a working pool at once, no retry
    assert [body["ticket"] for body in fake.enable_bodies] == [21, 22]
    asyncio.run(close_dtms_client())  # also forgets the pools of loops that ended
    gc.collect()


def test_outside_a_loop_a_refusal_returns_false(fake: Any, threaded_url: str) -> None:
    fake.positions[13] = ("EURUSD", "BUY")
    assert auto_register_dtms(13, TRADE, api_url=threaded_url) is False


# --- independence ---------------------------------------------------------------------------------------


def test_the_client_imports_without_qt_or_the_engine() -> None:
    probe = (
        "import sys, app.client\n"
        "banned = ('PySide6', 'qasync', 'fastapi', 'uvicorn', 'app.engine', 'app.terminal', 'app.store', 'app.views')\n"
        "print([m for m in sys.modules if m.startswith(banned)])\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
