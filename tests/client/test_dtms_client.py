"""DtmsClient against the DTMS look-alike served in-process (httpx.ASGITransport)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from app.client import DtmsApiError, DtmsClient

TRADE = {"symbol": "XAUUSD", "direction": "buy", "entry_price": 2400.85, "volume": 0.02, "sl": 2390.0, "tp": 2420.0}


@pytest.fixture
async def dtms(fake: Any) -> AsyncIterator[DtmsClient]:
    async with DtmsClient("http://dtms.test", transport=httpx.ASGITransport(app=fake.app)) as client:
        yield client


async def test_enable_then_read_the_trade_back(dtms: DtmsClient) -> None:
    answer = await dtms.enable_trade(31, TRADE)
    assert (answer.success, answer.ticket, answer.already_registered) == (True, 31, False)
    assert answer.trade_info.sl == 2390.0
    again = await dtms.enable_trade(31, symbol="XAUUSD", direction="BUY")
    assert again.already_registered is True

    detail = await dtms.trade(31)
    assert (detail.state, detail.direction, detail.tp, detail.synthetic_r) == ("HEALTHY", "BUY", 2420.0, False)
    assert [trade.ticket for trade in await dtms.trades()] == [31]


async def test_keyword_fields_complete_the_trade_dict(dtms: DtmsClient, fake: Any) -> None:
    await dtms.enable_trade(32, {"symbol": "EURUSD"}, direction="sell", entry=None, strategy_type="scalper")
    assert fake.enable_bodies == [{"ticket": 32, "symbol": "EURUSD", "direction": "SELL", "strategy_type": "scalper"}]
    assert (await dtms.registry(32)).managed_by == "scalper"


async def test_a_bad_value_is_refused_before_sending(dtms: DtmsClient, fake: Any) -> None:
    with pytest.raises(ValidationError):
        await dtms.enable_trade(33, {**TRADE, "volume": -1})
    assert fake.enable_bodies == []


async def test_a_refusal_raises_with_the_servers_reason(dtms: DtmsClient, fake: Any) -> None:
    fake.positions[34] = ("XAUUSD", "SELL")
    with pytest.raises(DtmsApiError) as caught:
        await dtms.enable_trade(34, TRADE)
    error = caught.value
    assert (error.status_code, error.error, error.field, error.temporary) == (409, "conflict", "direction", False)
    assert "is a SELL XAUUSD" in error.detail


async def test_an_unknown_ticket(dtms: DtmsClient) -> None:
    entry = await dtms.registry(404)
    assert (entry.ticket, entry.managed_by, entry.breakeven_triggered) == (404, "", False)
    with pytest.raises(DtmsApiError) as caught:
        await dtms.trade(404)
    assert (caught.value.status_code, caught.value.error) == (404, "not_found")


async def test_disable_stops_listing_the_trade(dtms: DtmsClient) -> None:
    await dtms.enable_trade(35, TRADE)
    assert (await dtms.disable_trade(35)).success is True
    assert await dtms.trades() == []
    assert (await dtms.trade(35)).active is False
    with pytest.raises(DtmsApiError):
        await dtms.disable_trade(36)


async def test_health_is_read_while_not_ready(dtms: DtmsClient, fake: Any) -> None:
    fake.ready = False
    health = await dtms.health()
    assert (health.status, health.readiness, health.state, health.reason) == (
        "unhealthy",
        "not_ready",
        "CONNECTING",
        "attempt 1 of 3",
    )
    fake.ready = True
    assert (await dtms.health()).status == "healthy"


async def test_health_without_a_health_body_raises() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, json={"error": "not_ready", "detail": "x"}))
    async with DtmsClient("http://dtms.test", transport=transport) as client:
        with pytest.raises(DtmsApiError) as caught:
            await client.health()
    assert caught.value.temporary is True


async def test_wait_until_ready_returns_once_dtms_is_ready(dtms: DtmsClient, fake: Any) -> None:
    fake.ready = False
    waiting = asyncio.create_task(dtms.wait_until_ready(5.0, interval=0.01))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    fake.ready = True
    assert await asyncio.wait_for(waiting, 2.0) is True


async def test_wait_until_ready_gives_up_after_its_timeout(caplog: pytest.LogCaptureFixture, dead_url: str) -> None:
    async with DtmsClient(dead_url) as client:
        assert await client.wait_until_ready(0.2, interval=0.05) is False
    assert "not ready after 0.2 s" in caplog.text


async def test_the_token_is_sent_on_every_call() -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={"status": "healthy", "dtms_initialized": True})

    async with DtmsClient("http://dtms.test", token="t0k", transport=httpx.MockTransport(answer)) as client:
        await client.health()
        await client.wait_until_ready(1.0)
    assert seen == ["Bearer t0k", "Bearer t0k"]
