"""The earlier DTMS server's clients, replayed field by field against DTMS Desk.

Written from the earlier server's contract (what its exit manager, trade registry check, web dashboard and
diagnostics scripts read; see tests/data/README.md): every listed field present with its name, type and
meaning, next to our own fields. Timestamps listed as ISO must parse with ``datetime.fromisoformat``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.schemas_earlier import DTMS_OWNER
from app.engine.registry import DTMS_OWNER_NAME
from app.runtime import Services
from tests.api.conftest import client_for, open_position


def iso(value: Any) -> datetime:
    assert isinstance(value, str), value
    return datetime.fromisoformat(value)


def dashboard_shows(body: dict[str, Any], nested: str) -> bool:
    """The earlier dashboard shows an answer only when ``success`` is true and the nested object is non-empty."""
    return body.get("success") is True and bool(body.get(nested))


async def registered(ready: Services, api: httpx.AsyncClient, **extra: Any) -> int:
    ticket = await open_position(ready, "EURUSD", "BUY", sl=1.0)
    answer = await api.post(
        "/dtms/trade/enable", json={"ticket": ticket, "symbol": "EURUSD", "direction": "BUY", **extra}
    )
    assert answer.status_code == 200, answer.text
    return ticket


async def test_root_names_the_server_and_points_to_the_docs(api: httpx.AsyncClient) -> None:
    body = (await api.get("/")).json()
    assert body["message"] == "DTMS Desk" and isinstance(body["version"], str) and body["status"] == "running"
    iso(body["timestamp"])
    assert body["docs"] == "/docs" and (await api.get(body["docs"])).status_code == 200


async def test_health_as_the_diagnostics_read_it(ready: Services, api: httpx.AsyncClient) -> None:
    health = await api.get("/health")
    body = health.json()
    assert health.status_code == 200 and body["status"] == "healthy"
    assert body["dtms_initialized"] is True and body["dtms_available"] is True
    iso(body["timestamp"])
    assert "error" not in body  # only when not healthy

    dtms = (await api.get("/dtms/health")).json()
    assert (dtms["dtms_initialized"], dtms["ready"]) == (True, True)
    assert dtms["monitoring_active"] is ready.engine.monitoring  # False here: the tests step the engine by hand
    assert isinstance(dtms["active_trades"], int) and "error" not in dtms
    iso(dtms["timestamp"])


async def test_health_names_the_error_while_not_ready(idle: Services, make_app: Any) -> None:
    async with client_for(make_app(idle)) as api:
        health = await api.get("/health")
        dtms = await api.get("/dtms/health")
    assert health.status_code == 503 and health.json()["status"] in ("unhealthy", "degraded")
    assert isinstance(health.json()["error"], str) and health.json()["error"]
    assert dtms.status_code == 503 and dtms.json()["ready"] is False and dtms.json()["error"] == "engine is STARTING"
    iso(dtms.json()["timestamp"])


async def test_status_as_the_dashboard_and_diagnostics_read_it(ready: Services, api: httpx.AsyncClient) -> None:
    await registered(ready, api)
    await ready.engine.run_fast_cycle()
    body = (await api.get("/dtms/status")).json()
    assert dashboard_shows(body, "dtms_status") and isinstance(body["summary"], str) and body["summary"]
    status = body["dtms_status"]
    assert status["system_active"] is ready.engine.monitoring
    assert isinstance(status["uptime"], str) and status["uptime"]
    assert status["active_trades"] == 1 and status["trades_by_state"] == {"HEALTHY": 1}
    assert isinstance(status["performance"], dict)
    iso(status["last_check"])  # a fast check ran
    assert "1 trade" in body["summary"]


async def test_trade_as_the_exit_manager_and_dashboard_read_it(ready: Services, api: httpx.AsyncClient) -> None:
    ticket = await registered(ready, api)
    await ready.engine.run_fast_cycle()
    position = (await ready.gateway.positions(ticket=ticket))[0]
    body = (await api.get(f"/dtms/trade/{ticket}")).json()
    assert body["state"] == "HEALTHY"  # the exit manager's field: HEDGED and WARNING_L2 mean "DTMS defends"
    assert dashboard_shows(body, "trade_info") and "HEALTHY" in body["summary"]
    info = body["trade_info"]
    assert (info["ticket"], info["symbol"], info["state"], info["type"]) == (ticket, "EURUSD", "HEALTHY", "BUY")
    assert isinstance(info["current_score"], float)
    assert isinstance(info["state_entry_time"], str) and iso(info["state_entry_time"])
    assert isinstance(info["warnings"], dict) and isinstance(info["actions_taken"], list)
    assert isinstance(info["performance"], dict)
    assert info["volume"] == position.volume and info["open_price"] == position.price_open
    assert info["current_price"] == position.price_current and info["profit"] == position.profit
    assert (info["sl"], info["tp"]) == (position.sl, position.tp)
    assert info["protection_active"] is ready.engine.monitoring


async def test_an_unmanaged_ticket_is_a_404_for_the_exit_manager(api: httpx.AsyncClient) -> None:
    assert (await api.get("/dtms/trade/424242")).status_code == 404


async def test_the_registry_check_sees_dtms_by_its_earlier_name(ready: Services, api: httpx.AsyncClient) -> None:
    assert DTMS_OWNER == DTMS_OWNER_NAME == "dtms_manager"
    own = await registered(ready, api)
    other = await registered(ready, api, strategy_type="range_scalp")
    said_by_name = await registered(ready, api, strategy_type="dtms_manager")
    assert (await api.get(f"/trade-registry/{own}")).json()["managed_by"] == "dtms_manager"
    assert (await api.get(f"/trade-registry/{said_by_name}")).json()["managed_by"] == "dtms_manager"
    assert ready.engine.registry.can_modify(said_by_name)  # that name is DTMS itself, not another manager
    assert (await api.get(f"/trade-registry/{other}")).json()["managed_by"] == "range_scalp"
    unknown = await api.get("/trade-registry/999999")
    assert unknown.status_code == 200 and unknown.json()["managed_by"] == ""
    listed = {t["ticket"]: t["managed_by"] for t in (await api.get("/dtms/trades")).json()["trades"]}
    assert listed[own] == "dtms_manager" and listed[other] == "range_scalp"


async def test_actions_with_their_real_outcome_and_the_total(ready: Services, api: httpx.AsyncClient) -> None:
    empty = (await api.get("/dtms/actions")).json()
    assert empty["success"] is True and empty["action_history"] == [] and empty["total_actions"] == 0
    tickets = [await registered(ready, api) for _ in range(3)]
    trade = ready.engine.trade(tickets[0])
    assert trade is not None
    await ready.gateway.control("set_price", symbol="EURUSD", bid=round(trade.entry + 1.3 * trade.r, 5))
    await ready.engine.run_fast_cycle()  # breakeven for each trade
    body = (await api.get("/dtms/actions?limit=2")).json()
    assert dashboard_shows(body, "action_history") and isinstance(body["summary"], str)
    assert body["total_actions"] == 3 and body["count"] == 2 and len(body["action_history"]) == 2
    for item in body["action_history"]:
        assert item["action_type"] == "BREAKEVEN" and item["ticket"] in tickets and item["symbol"] == "EURUSD"
        assert item["success"] is True and isinstance(item["details"], dict)
        iso(item["timestamp"])
    detail = (await api.get(f"/dtms/trade/{tickets[0]}")).json()
    assert [a["action_type"] for a in detail["trade_info"]["actions_taken"]] == ["BREAKEVEN"]


async def test_enable_answers_in_the_earlier_shape(ready: Services, api: httpx.AsyncClient) -> None:
    ticket = await open_position(ready, "EURUSD", "SELL", volume=0.2, sl=2.0, tp=0.5)
    position = (await ready.gateway.positions(ticket=ticket))[0]
    sent = {"ticket": ticket, "symbol": "EURUSD", "direction": "SELL"}
    first = (await api.post("/dtms/trade/enable", json=sent)).json()
    again = (await api.post("/dtms/trade/enable", json=sent)).json()
    assert first["success"] is True and first["already_registered"] is False and first["summary"]
    info = first["trade_info"]
    assert (info["ticket"], info["symbol"], info["direction"]) == (ticket, "EURUSD", "SELL")
    assert (info["entry_price"], info["volume"]) == (position.price_open, 0.2)
    assert (info["stop_loss"], info["take_profit"]) == (2.0, 0.5)
    assert again["already_registered"] is True and again["trade_info"]["state"] == "HEALTHY"


async def test_initialize_and_engine(ready: Services, api: httpx.AsyncClient) -> None:
    await registered(ready, api)
    await ready.engine.run_fast_cycle()
    init = (await api.post("/dtms/initialize")).json()
    assert init["success"] is True and isinstance(init["summary"], str) and "error" not in init
    body = (await api.get("/dtms/engine")).json()
    assert body["success"] is True and isinstance(body["summary"], str)
    engine = body["engine_info"]
    assert engine["monitoring_active"] is ready.engine.monitoring and engine["active_trades_count"] == 1
    iso(engine["last_fast_check"])
    assert engine["last_deep_check"] is None or iso(engine["last_deep_check"])


@pytest.mark.parametrize("path", ["/dtms/trade/enable", "/dtms/trade/disable"])
async def test_a_wrong_method_on_a_known_path_is_a_405(api: httpx.AsyncClient, path: str) -> None:
    response = await api.get(path)
    assert response.status_code == 405 and response.json()["error"] == "method_not_allowed"
    assert response.headers["Allow"] == "POST"


async def test_the_docs_load_from_this_machine(app_for_docs: FastAPI) -> None:
    async with client_for(app_for_docs) as api:
        swagger = await api.get("/docs")
        redoc = await api.get("/redoc")
        assert swagger.status_code == 200 and redoc.status_code == 200
        for page in (swagger.text, redoc.text):
            assert "https://" not in page.replace("https://github.com", "")  # no CDN, no web font
        for name in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
            assert f"/docs/static/{name}" in swagger.text + redoc.text
            served = await api.get(f"/docs/static/{name}")
            assert served.status_code == 200 and len(served.content) > 10_000
        assert (await api.get("/docs/static/../../etc/passwd")).status_code == 404
        assert (await api.get("/docs/static/other.js")).status_code == 404


@pytest.fixture
async def app_for_docs(idle: Services, make_app: Any) -> FastAPI:
    return make_app(idle)  # the docs answer whatever the engine's state


async def test_our_client_library_reads_the_same_answers(ready: Services, make_app: Any) -> None:
    from app.client import DtmsClient

    async with DtmsClient("http://127.0.0.1:8001", transport=httpx.ASGITransport(app=make_app(ready))) as dtms:
        answer = await dtms.enable_trade(
            await open_position(ready, "EURUSD", "BUY", sl=1.0), symbol="EURUSD", direction="BUY"
        )
        assert answer.trade_info.managed_by == "dtms_manager" and answer.trade_info.stop_loss == 1.0
        assert (await dtms.registry(answer.ticket)).managed_by == "dtms_manager"
        assert (await dtms.registry(31337)).managed_by == ""
        status = await dtms.status()
        assert status.success and status.dtms_status is not None and status.dtms_status.active_trades == 1
        actions = await dtms.actions(limit=5)
        assert actions.success and actions.total_actions == 0 and actions.action_history == []
        engine = await dtms.engine()
        assert engine.success and engine.engine_info.active_trades_count == 1
        detail = await dtms.trade(answer.ticket)
        assert detail.trade_info is not None and detail.trade_info.type == "BUY"
        assert (await dtms.health()).dtms_initialized
