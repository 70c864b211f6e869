"""register_trade_with_dtms_api: what it sends, when it retries and how long it waits, what it logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from app.api.schemas import EnableTradeRequest, EnableTradeResponse, TradeInfo
from app.client import close_dtms_client, register_trade_with_dtms_api

URL = "http://dtms.test"
TRADE = {"symbol": "EURUSD", "direction": "buy", "entry_price": 1.0850, "volume": 0.1, "stop_loss": 1.08}


def ok(ticket: int = 1001, *, already: bool = False) -> httpx.Response:
    info = TradeInfo(
        ticket=ticket, symbol="EURUSD", direction="BUY", entry=1.085, volume=0.1, sl=1.08, tp=0.0, state="HEALTHY"
    )
    answer = EnableTradeResponse(success=True, ticket=ticket, already_registered=already, trade_info=info)
    return httpx.Response(200, json=answer.model_dump())


def refusal(
    status: int,
    error: str = "rejected",
    detail: str = "refused",
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "detail": detail, "field": field}, headers=headers)


class Scripted:
    """A MockTransport handler answering from a script (its last step repeats), recording each request."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def register(script: Scripted, trade: dict[str, Any] | None = None, **kwargs: Any) -> tuple[bool, Sleeps]:
    sleeps = Sleeps()
    async with script.client() as client:
        result = await register_trade_with_dtms_api(
            1001, TRADE if trade is None else trade, api_url=URL, client=client, sleep=sleeps, **kwargs
        )
    return result, sleeps


async def test_success_posts_the_contract_body_once() -> None:
    script = Scripted(ok())
    result, sleeps = await register(script)
    assert result is True
    assert sleeps == []
    [request] = script.requests
    assert (request.method, str(request.url)) == ("POST", f"{URL}/dtms/trade/enable")
    assert request.headers["content-type"] == "application/json"
    assert script.bodies() == [
        {"ticket": 1001, "symbol": "EURUSD", "direction": "BUY", "entry": 1.085, "volume": 0.1, "stop_loss": 1.08}
    ]


async def test_the_body_maps_the_names_existing_bots_use() -> None:
    script = Scripted(ok())
    trade = {
        "ticket": 5,
        "symbol": "XAUUSD",
        "direction": "Sell",
        "entry": None,
        "entry_price": 2400.5,
        "sl": 2410.0,
        "tp": 0,
        "volume": 0.02,
        "strategy_type": "range_scalp",
        "confidence": 71,
    }
    assert (await register(script, trade))[0] is True
    [body] = script.bodies()
    assert body == {
        "ticket": 1001,
        "symbol": "XAUUSD",
        "direction": "SELL",
        "entry": 2400.5,
        "volume": 0.02,
        "stop_loss": 2410.0,
        "strategy_type": "range_scalp",
    }
    EnableTradeRequest.model_validate(body)


async def test_an_already_registered_trade_is_a_success(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "app.client")
    result, sleeps = await register(Scripted(ok(already=True)))
    assert result is True
    assert sleeps == []
    assert "already manages ticket 1001" in caplog.text


async def test_503_is_retried_with_growing_waits_until_it_succeeds() -> None:
    script = Scripted(
        refusal(503, "not_ready", "engine is CONNECTING"), refusal(503, "not_ready", "engine is RECOVERING"), ok()
    )
    result, sleeps = await register(script)
    assert result is True
    assert sleeps == [1.0, 2.0]
    assert len(script.requests) == 3


async def test_after_every_retry_fails_it_gives_up_and_logs_why(caplog: pytest.LogCaptureFixture) -> None:
    script = Scripted(refusal(503, "not_ready", "engine is CONNECTING: attempt 2 of 3"))
    result, sleeps = await register(script)
    assert result is False
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(script.requests) == 4
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "after 4 attempts" in errors[0].getMessage()
    assert "engine is CONNECTING: attempt 2 of 3" in errors[0].getMessage()
    assert sum("retrying in" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING) == 3


@pytest.mark.parametrize(
    "failure",
    [
        refusal(500, "internal_error", "boom"),
        refusal(502, "bad_gateway", "upstream"),
        httpx.Response(504, text="gateway timeout"),
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
    ids=["500", "502", "504-text", "connect", "read-timeout", "disconnected"],
)
async def test_temporary_failures_are_retried(failure: httpx.Response | Exception) -> None:
    script = Scripted(failure, ok())
    result, sleeps = await register(script)
    assert result is True
    assert sleeps == [1.0]
    assert len(script.requests) == 2


async def test_429_waits_as_long_as_the_server_asks() -> None:
    script = Scripted(refusal(429, "busy", "slow down", headers={"Retry-After": "3"}), ok())
    result, sleeps = await register(script)
    assert result is True
    assert sleeps == [3.0]


async def test_a_huge_or_dated_retry_after_does_not_stall_the_bot() -> None:
    script = Scripted(
        refusal(503, headers={"Retry-After": "86400"}),
        refusal(503, headers={"Retry-After": "Wed, 21 Oct 2037 07:28:00 GMT"}),
        ok(),
    )
    result, sleeps = await register(script)
    assert result is True
    assert sleeps == [30.0, 2.0]


@pytest.mark.parametrize(
    ("status", "error", "detail", "field"),
    [
        (400, "invalid_request", "body is not JSON", None),
        (401, "unauthorized", "bearer token required", None),
        (403, "forbidden", "Origin is not local", None),
        (404, "not_found", "no open position with ticket 1001", None),
        (409, "conflict", "direction 'BUY' contradicts the open position's direction 'SELL'", "direction"),
        (422, "validation_error", "volume: must be greater than 0 when given", "volume"),
    ],
)
async def test_a_refusal_is_final_and_its_reason_is_logged(
    caplog: pytest.LogCaptureFixture, status: int, error: str, detail: str, field: str | None
) -> None:
    script = Scripted(refusal(status, error, detail, field))
    result, sleeps = await register(script)
    assert result is False
    assert sleeps == []
    assert len(script.requests) == 1
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"HTTP {status} {error}: {detail}" in record.getMessage()
    if field:
        assert f"(field {field})" in record.getMessage()


async def test_a_framework_style_422_is_still_explained(caplog: pytest.LogCaptureFixture) -> None:
    body = {"detail": [{"loc": ["body", "symbol"], "msg": "Field required", "type": "missing"}]}
    result, _ = await register(Scripted(httpx.Response(422, json=body)))
    assert result is False
    assert "symbol: Field required" in caplog.text


async def test_a_bad_trade_dict_is_refused_before_sending(caplog: pytest.LogCaptureFixture) -> None:
    script = Scripted(ok())
    result, _ = await register(script, {**TRADE, "direction": "long"})
    assert result is False
    assert script.requests == []
    assert "not sent" in caplog.text and "direction" in caplog.text


async def test_a_200_without_success_is_not_taken_for_one(caplog: pytest.LogCaptureFixture) -> None:
    body = json.loads(ok().content) | {"success": False}
    result, sleeps = await register(Scripted(httpx.Response(200, json=body)))
    assert result is False
    assert sleeps == []
    assert "did not take ticket 1001" in caplog.text


async def test_an_unreadable_200_is_a_logged_failure(caplog: pytest.LogCaptureFixture) -> None:
    result, _ = await register(Scripted(httpx.Response(200, json=[{"ok": True}, 200])))
    assert result is False
    assert "unexpected body" in caplog.text


async def test_retry_count_zero_means_a_single_attempt() -> None:
    script = Scripted(refusal(503))
    result, sleeps = await register(script, retry_count=0)
    assert result is False
    assert (len(script.requests), sleeps) == (1, [])


async def test_the_timeout_applies_to_each_request() -> None:
    script = Scripted(ok())
    await register(script, timeout=1.5)
    assert script.requests[0].extensions["timeout"] == {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}


async def test_a_bad_api_address_fails_at_once(caplog: pytest.LogCaptureFixture) -> None:
    sleeps = Sleeps()
    try:
        result = await register_trade_with_dtms_api(1001, TRADE, api_url="ftp://127.0.0.1:8001", sleep=sleeps)
    finally:
        await close_dtms_client()
    assert result is False
    assert sleeps == []
    assert "bad API address" in caplog.text


async def test_the_token_argument_is_sent_as_a_bearer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTMS_API_TOKEN", "from-env")
    script = Scripted(ok())
    await register(script, token="s3cret")
    assert script.requests[0].headers["authorization"] == "Bearer s3cret"


async def test_the_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTMS_API_TOKEN", "from-env")
    script = Scripted(ok())
    await register(script)
    assert script.requests[0].headers["authorization"] == "Bearer from-env"


async def test_without_a_token_no_authorization_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DTMS_API_TOKEN", raising=False)
    script = Scripted(ok())
    await register(script)
    assert "authorization" not in script.requests[0].headers
