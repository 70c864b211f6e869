"""Health, status, initialisation, the OpenAPI document and the simulator routes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.runtime import Services
from app.terminal.spec import TerminalKind
from tests.api.conftest import client_for, open_services

DESIGN_ROUTES = {
    ("get", "/health"),
    ("get", "/dtms/health"),
    ("post", "/dtms/trade/enable"),
    ("post", "/dtms/trade/disable"),
    ("get", "/dtms/trades"),
    ("get", "/dtms/trade/{ticket}"),
    ("get", "/trade-registry/{ticket}"),
    ("get", "/dtms/status"),
    ("get", "/dtms/actions"),
    ("post", "/dtms/initialize"),
    ("get", "/events"),
}
SIM_ROUTES = {
    ("post", "/sim/order_send"),
    ("get", "/sim/positions"),
    ("get", "/sim/ticks"),
    ("post", "/sim/ticks"),
    ("post", "/sim/faults"),
}


def _routes(document: dict[str, dict[str, object]]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item}


async def test_not_ready_is_a_503_with_the_reason(idle: Services, make_app: Callable[..., FastAPI]) -> None:
    async with client_for(make_app(idle)) as api:
        health = await api.get("/health")
        dtms = await api.get("/dtms/health")
        enable = await api.post("/dtms/trade/enable", json={"ticket": 5, "symbol": "EURUSD", "direction": "BUY"})
        disable = await api.post("/dtms/trade/disable", json={"ticket": 5})
        ping = await api.get("/ping")
    assert health.status_code == 503
    assert (health.json()["status"], health.json()["readiness"], health.json()["state"]) == (
        "unhealthy",
        "not_ready",
        "STARTING",
    )
    assert dtms.status_code == 503
    assert {k: v for k, v in dtms.json().items() if k != "timestamp"} == {
        "dtms_initialized": False,
        "monitoring_active": False,
        "active_trades": 0,
        "ready": False,
        "state": "STARTING",
        "reason": "engine is STARTING",
        "error": "engine is STARTING",
    }
    for refused in (enable, disable):
        assert refused.status_code == 503
        assert refused.json() == {"error": "not_ready", "detail": "engine is STARTING", "field": None}
        assert refused.headers["Retry-After"] == "1"
    assert ping.status_code == 200 and ping.json() == {"ok": True}


async def test_ready_health_and_status(ready: Services, api: httpx.AsyncClient) -> None:
    health = await api.get("/health")
    assert health.status_code == 200
    body = health.json()
    assert (body["status"], body["dtms_initialized"], body["state"], body["epoch"], body["terminal"]) == (
        "healthy",
        True,
        "READY",
        1,
        "sim",
    )
    dtms = await api.get("/dtms/health")
    assert dtms.status_code == 200 and dtms.json()["ready"] is True and dtms.json()["reason"] is None
    status = (await api.get("/dtms/status")).json()
    assert (status["state"], status["connected"], status["active_trades"]) == ("READY", True, 0)


async def test_initialize_retries_only_after_failure(idle: Services, make_app: Callable[..., FastAPI]) -> None:
    await idle.gateway.start()
    await idle.gateway.control("inject_fault", kind="disconnect", failing_initializes=3)
    assert not await idle.engine.start()
    async with client_for(make_app(idle)) as api:
        failed = await api.get("/health")
        assert failed.status_code == 503 and failed.json()["state"] == "FAILED"
        assert "could not connect after 3 attempts" in failed.json()["reason"]
        retry = await api.post("/dtms/initialize")
        again = await api.post("/dtms/initialize")
        assert retry.status_code == 202 and retry.json()["accepted"] is True
        assert again.status_code == 200 and again.json()["accepted"] is False
        for _ in range(200):
            if idle.engine.ready:
                break
            await asyncio.sleep(0.01)
        assert (await api.get("/health")).status_code == 200
        done = await api.post("/dtms/initialize")
        assert done.status_code == 200 and done.json() == {
            "accepted": False,
            "state": "READY",
            "reason": None,
            "success": True,
            "summary": "DTMS is initialized and monitoring",
        }


async def test_the_openapi_document_names_every_route(ready: Services, api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    assert DESIGN_ROUTES | SIM_ROUTES <= _routes(document)
    enable = document["paths"]["/dtms/trade/enable"]["post"]
    assert {"200", "404", "409", "415", "422", "503"} <= set(enable["responses"])
    assert (await api.get("/docs")).status_code == 200


async def test_sim_routes_exist_only_on_the_simulator(tmp_path: Path, make_app: Callable[..., FastAPI]) -> None:
    services = await open_services(tmp_path, terminal=TerminalKind.MT5)
    try:
        async with client_for(make_app(services)) as api:
            assert (await api.get("/sim/ticks")).status_code == 404
            assert (await api.post("/sim/order_send", json={"action": 1})).status_code == 404
            document = (await api.get("/openapi.json")).json()
        assert not _routes(document) & SIM_ROUTES
        assert DESIGN_ROUTES <= _routes(document)
    finally:
        await services.close()


async def test_an_order_sent_through_sim_can_be_registered(ready: Services, api: httpx.AsyncClient) -> None:
    request = {"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0, "type_filling": 1, "comment": "bot"}
    result = await api.post("/sim/order_send", json=request)
    assert result.status_code == 200
    body = result.json()
    assert body["retcode"] == 10009 and body["request"]["symbol"] == "EURUSD" and body["volume"] == 0.1
    positions = (await api.get("/sim/positions")).json()
    assert [p["ticket"] for p in positions] == [body["order"]] and positions[0]["comment"] == "bot"
    enable = await api.post(
        "/dtms/trade/enable",
        json={"ticket": body["order"], "symbol": "EURUSD", "direction": "BUY", "entry": body["price"]},
    )
    assert enable.status_code == 200 and enable.json()["already_registered"] is False


async def test_a_refused_order_is_answered_with_its_retcode(ready: Services, api: httpx.AsyncClient) -> None:
    refused = await api.post("/sim/order_send", json={"action": 1, "symbol": "EURUSD", "volume": 1e9, "type": 0})
    assert refused.status_code == 200 and refused.json()["retcode"] == 10014  # invalid volume, as MT5 answers


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": [1]}, "action"),
        ({"volume": True}, "volume"),
        ({"symbol": None}, "symbol"),
        ({"magic": 2**70}, "magic"),
    ],
)
async def test_an_order_request_with_unusable_values_is_a_422(
    ready: Services, api: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await api.post("/sim/order_send", json={"action": 1, **body})
    assert response.status_code == 422 and response.json()["field"] == field


async def test_sim_ticks_hold_a_price_and_hand_it_back(ready: Services, api: httpx.AsyncClient) -> None:
    ticks = (await api.get("/sim/ticks")).json()
    assert {"EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "BTCUSD"} <= set(ticks)
    assert ticks["EURUSD"]["digits"] == 5 and ticks["EURUSD"]["ask"] > ticks["EURUSD"]["bid"] > 0
    held = await api.post("/sim/ticks", json={"symbol": "EURUSD", "bid": 1.2, "ask": 1.2002})
    assert held.status_code == 200
    assert (held.json()["bid"], held.json()["ask"], held.json()["scripted"]) == (1.2, 1.2002, True)
    tick = await ready.gateway.tick("EURUSD")
    assert (tick.bid, tick.ask) == (1.2, 1.2002)
    live = await api.post("/sim/ticks", json={"symbol": "EURUSD", "mode": "live"})
    assert live.status_code == 200 and live.json()["scripted"] is False
    unknown = await api.post("/sim/ticks", json={"symbol": "NOPE", "bid": 1.0})
    assert unknown.status_code == 422 and "unknown symbol" in unknown.json()["detail"]
    both = await api.post("/sim/ticks", json={"symbol": "EURUSD", "bid": 1.0, "mode": "live"})
    assert both.status_code == 422


async def test_sim_faults_are_armed_and_cleared(ready: Services, api: httpx.AsyncClient) -> None:
    armed = await api.post("/sim/faults", json={"kind": "retcode", "retcode": 10004, "count": 1})
    assert armed.status_code == 200
    assert armed.json()["scripted"] == [{"kind": "retcode", "count": 1, "retcode": 10004, "executed": False}]
    requote = await api.post("/sim/order_send", json={"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0})
    assert requote.json()["retcode"] == 10004
    assert (await api.post("/sim/faults", json={"kind": "bogus"})).status_code == 422
    cleared = await api.post("/sim/faults", json={"kind": "clear"})
    assert cleared.status_code == 200 and cleared.json()["scripted"] == []


async def test_a_lost_terminal_is_a_503_not_an_error_inside_a_200(ready: Services, api: httpx.AsyncClient) -> None:
    await api.post("/sim/faults", json={"kind": "disconnect"})
    lost = await api.post("/sim/order_send", json={"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0})
    assert lost.status_code == 503
    assert lost.json()["error"] == "terminal_unavailable" and "-10004" in lost.json()["detail"]
    assert (await api.get("/sim/positions")).status_code == 503


async def test_the_real_terminals_states_are_reachable_from_sim_faults(ready: Services, api: httpx.AsyncClient) -> None:
    armed = await api.post("/sim/faults", json={"kind": "broker_link_lost"})
    assert armed.status_code == 200 and armed.json()["states"] == ["broker_link_lost"]
    order = await api.post("/sim/order_send", json={"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0})
    assert order.json()["retcode"] == 10031
    hidden = await api.post("/sim/faults", json={"kind": "outside_market_watch", "symbols": ["GBPUSD"]})
    assert hidden.status_code == 200
    loading = await api.post("/sim/faults", json={"kind": "history_loading", "symbols": ["GBPUSD"], "count": 2})
    assert loading.json()["history_loading"] == {"GBPUSD": 2}
    partial = await api.post("/sim/faults", json={"kind": "partial_fill", "fraction": 0.5, "count": 1})
    assert partial.json()["partial_fills"] == [{"fraction": 0.5, "count": 1}]
    assert (await api.post("/sim/faults", json={"kind": "partial_fill", "fraction": 2})).status_code == 422
    assert (await api.post("/sim/faults", json={"kind": "outside_market_watch"})).status_code == 422
    cleared = await api.post("/sim/faults", json={"kind": "clear"})
    assert cleared.json()["states"] == [] and cleared.json()["partial_fills"] == []
