"""Every trade route on the engine running on the simulator, in process."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.runtime import Services
from tests.api.conftest import open_position


async def test_a_trade_is_registered_once_with_mt5_as_the_truth(ready: Services, api: httpx.AsyncClient) -> None:
    ticket = await open_position(ready, "EURUSD", "BUY", volume=0.2, sl=1.0)
    position = (await ready.gateway.positions(ticket=ticket))[0]
    body = {
        "ticket": ticket,
        "symbol": "EURUSD",
        "direction": "BUY",
        "entry": 1.5,
        "volume": 0.1,
        "stop_loss": 1.0,
        "take_profit": 0,
    }
    first = await api.post("/dtms/trade/enable", json=body)
    second = await api.post("/dtms/trade/enable", json=body)
    assert first.status_code == 200 and second.status_code == 200
    assert (first.json()["success"], first.json()["already_registered"]) == (True, False)
    assert (second.json()["success"], second.json()["already_registered"]) == (True, True)
    info = first.json()["trade_info"]
    assert info["ticket"] == ticket and info["state"] == "HEALTHY" and info["managed_by"] == "dtms_manager"
    assert info["entry"] == position.price_open and info["volume"] == 0.2  # MT5's values, not the bot's
    assert info["r"] == pytest.approx(position.price_open - 1.0)
    assert info["profit_r"] == pytest.approx((position.price_current - position.price_open) / info["r"])
    assert len(ready.engine.trades()) == 1


@pytest.mark.parametrize(
    "sent",
    [
        {"direction": "buy", "entry": None, "stop_loss": None, "take_profit": None},
        {"direction": " Buy ", "entry_price": 0, "sl": 0, "tp": 0, "volume": 0.01},
        {"direction": "BUY", "strategy_type": "", "magic": 0, "comment": "bot", "unknown_key": [1, 2]},
    ],
)
async def test_what_existing_bots_send_is_accepted(
    ready: Services, api: httpx.AsyncClient, sent: dict[str, object]
) -> None:
    ticket = await open_position(ready, "XAUUSD", "BUY", volume=0.1)
    response = await api.post("/dtms/trade/enable", json={"ticket": ticket, "symbol": "xauusd", **sent})
    assert response.status_code == 200, response.text
    info = response.json()["trade_info"]
    assert info["symbol"] == "XAUUSD" and info["synthetic_r"] is True and info["r"] > 0


async def test_a_strategy_owned_trade_names_its_manager(ready: Services, api: httpx.AsyncClient) -> None:
    ticket = await open_position(ready, "GBPUSD", "SELL")
    response = await api.post(
        "/dtms/trade/enable",
        json={"ticket": ticket, "symbol": "GBPUSD", "direction": "SELL", "strategy_type": "breakout"},
    )
    assert response.json()["trade_info"]["managed_by"] == "breakout"
    entry = (await api.get(f"/trade-registry/{ticket}")).json()
    assert entry == {
        "ticket": ticket,
        "managed_by": "breakout",
        "breakeven_triggered": False,
        "symbol": "GBPUSD",
        "direction": "SELL",
        "strategy_type": "breakout",
    }


@pytest.mark.parametrize(("changes", "field"), [({"symbol": "GBPUSD"}, "symbol"), ({"direction": "sell"}, "direction")])
async def test_a_registration_contradicting_mt5_is_a_409(
    ready: Services, api: httpx.AsyncClient, changes: dict[str, str], field: str
) -> None:
    ticket = await open_position(ready, "EURUSD", "BUY")
    response = await api.post(
        "/dtms/trade/enable", json={"ticket": ticket, "symbol": "EURUSD", "direction": "BUY", **changes}
    )
    assert response.status_code == 409
    assert response.json()["error"] == "conflict" and response.json()["field"] == field
    assert ready.engine.trades() == []


async def test_a_ticket_that_is_not_an_open_position_is_a_404(ready: Services, api: httpx.AsyncClient) -> None:
    response = await api.post("/dtms/trade/enable", json={"ticket": 987654, "symbol": "EURUSD", "direction": "BUY"})
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "no open position with ticket 987654", "field": "ticket"}
    assert (await api.get("/dtms/trade/987654")).status_code == 404
    assert (await api.get("/trade-registry/987654")).json() == {
        "ticket": 987654,
        "managed_by": "",
        "breakeven_triggered": False,
        "symbol": None,
        "direction": None,
        "strategy_type": None,
    }


async def test_disable_stops_management_and_keeps_the_history(ready: Services, api: httpx.AsyncClient) -> None:
    ticket = await open_position(ready, "USDJPY", "SELL")
    await api.post("/dtms/trade/enable", json={"ticket": ticket, "symbol": "USDJPY", "direction": "SELL"})
    first = await api.post("/dtms/trade/disable", json={"ticket": ticket})
    again = await api.post("/dtms/trade/disable", json={"ticket": ticket})
    assert first.status_code == 200 and first.json() == {"success": True, "ticket": ticket}
    assert again.status_code == 404 and again.json()["error"] == "not_managed"
    detail = (await api.get(f"/dtms/trade/{ticket}")).json()
    assert detail["active"] is False and detail["close_reason"] == "management stopped"
    assert (await api.get(f"/trade-registry/{ticket}")).json()["managed_by"] == ""
    assert {"trades": [], "count": 0}.items() <= (await api.get("/dtms/trades")).json().items()
    assert await ready.gateway.positions(ticket=ticket)  # the position itself is untouched


async def test_trades_detail_and_actions_follow_the_engine(ready: Services, api: httpx.AsyncClient) -> None:
    tickets = [await open_position(ready, "EURUSD", "BUY", sl=1.0) for _ in range(3)]
    for ticket in reversed(tickets):
        await api.post("/dtms/trade/enable", json={"ticket": ticket, "symbol": "EURUSD", "direction": "BUY"})
    listed = (await api.get("/dtms/trades")).json()
    assert listed["count"] == 3 and [t["ticket"] for t in listed["trades"]] == sorted(tickets)

    entry = listed["trades"][0]["entry"]
    r = listed["trades"][0]["r"]
    await ready.gateway.control("set_price", symbol="EURUSD", bid=round(entry + 1.3 * r, 5))
    await ready.engine.run_fast_cycle()  # profit >= 1 R: breakeven for each trade

    actions = (await api.get("/dtms/actions?limit=2")).json()
    assert actions["count"] == 2
    assert {a["kind"] for a in actions["actions"]} == {"BREAKEVEN"}
    assert {a["outcome"] for a in actions["actions"]} == {"SUCCESS"}
    assert {a["retcode"] for a in actions["actions"]} == {10009}
    detail = (await api.get(f"/dtms/trade/{tickets[0]}")).json()
    assert detail["breakeven_triggered"] is True and detail["sl"] > entry
    assert [a["kind"] for a in detail["journal"]] == ["BREAKEVEN"]
    assert detail["initial_sl"] == 1.0 and detail["sent"]["direction"] == "BUY"
    assert detail["transitions"] == []
    status = (await api.get("/dtms/status")).json()
    assert status["trades_by_state"] == {"HEALTHY": 3} and status["last_fast_cycle_at"] is not None


async def test_one_hundred_concurrent_registrations_of_one_ticket(ready: Services, api: httpx.AsyncClient) -> None:
    ticket = await open_position(ready, "BTCUSD", "BUY", volume=0.5)
    body = {"ticket": ticket, "symbol": "BTCUSD", "direction": "BUY"}
    answers = await asyncio.gather(*(api.post("/dtms/trade/enable", json=body) for _ in range(100)))
    assert {a.status_code for a in answers} == {200}
    assert sorted(a.json()["already_registered"] for a in answers) == [False] + [True] * 99
    assert {a.json()["trade_info"]["ticket"] for a in answers} == {ticket}
    assert len({a.json()["trade_info"]["registered_at"] for a in answers}) == 1
    assert [t.ticket for t in ready.engine.trades()] == [ticket]
    registered = [e for e in await ready.repository.events_since(0, limit=1000) if e.kind == "trade_registered"]
    assert len(registered) == 1
