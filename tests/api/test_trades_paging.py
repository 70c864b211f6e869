"""GET /dtms/trades: the answer without parameters as before, pages that list every trade once, filters."""

from __future__ import annotations

import httpx

from app.api import schemas, views
from app.api.trade_list import TradeRows
from app.engine.model import DefensiveState
from app.engine.registry import Registration
from app.runtime import Services
from tests.api.conftest import open_position


async def managed(ready: Services, count: int, symbols: tuple[str, ...] = ("EURUSD", "XAUUSD")) -> list[int]:
    tickets = []
    for i in range(count):
        ticket = await open_position(ready, symbols[i % len(symbols)], "BUY" if i % 2 else "SELL", sl=0.0)
        await ready.engine.register(Registration(ticket=ticket))
        tickets.append(ticket)
    return tickets


def quote(ready: Services, symbol: str) -> views.Quote | None:
    data = ready.engine.market.get(symbol)
    return (data.bid, data.ask) if data is not None else None


async def test_without_parameters_the_answer_is_every_trade_as_before(ready: Services, api: httpx.AsyncClient) -> None:
    await managed(ready, 9)
    await ready.engine.run_fast_cycle()
    trades = ready.engine.trades()
    trades[0].state, trades[0].score, trades[0].last_action = DefensiveState.WARNING_L1, 41.5, "TRAIL SUCCESS"
    response = await api.get("/dtms/trades")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    answer = response.json()
    before = schemas.TradesResponse(
        trades=[views.trade_info(t, quote(ready, t.symbol)) for t in sorted(trades, key=lambda t: t.ticket)],
        count=len(trades),
    ).model_dump(mode="json", exclude={"total", "next_cursor"})
    assert {k: v for k, v in answer.items() if k not in ("total", "next_cursor")} == before
    assert answer["total"] == 9 and answer["next_cursor"] is None
    assert all(row["profit_r"] is not None for row in answer["trades"])
    schemas.TradesResponse.model_validate(answer)

    trades[1].sl = 1.01  # a changed trade shows its change; the others come from their kept rows
    again = (await api.get("/dtms/trades")).json()
    assert [row["sl"] for row in again["trades"]] == [t.sl for t in sorted(trades, key=lambda t: t.ticket)]


async def test_pages_list_every_trade_exactly_once_while_trades_open_and_close(
    ready: Services, api: httpx.AsyncClient
) -> None:
    first = await managed(ready, 23)
    seen: list[int] = []
    page = (await api.get("/dtms/trades", params={"limit": 5})).json()
    assert page["total"] == 23 and page["count"] == 5
    opened: list[int] = []
    closed: set[int] = set()
    rounds = 0
    while True:
        seen += [row["ticket"] for row in page["trades"]]
        if page["next_cursor"] is None:
            break
        rounds += 1
        # between pages: one trade already listed and one not yet listed close, a new one opens
        unseen = [t for t in first if t not in seen and t not in closed]
        gone = [next(t for t in seen if t not in closed)] + unseen[-1:]
        for ticket in gone:
            assert (await ready.gateway.control("close_position", ticket=ticket))["retcode"] == 10009
            closed.add(ticket)
        await ready.engine.run_fast_cycle()
        opened += await managed(ready, 1)
        page = (await api.get("/dtms/trades", params={"limit": 5, "cursor": page["next_cursor"]})).json()
    assert rounds >= 3
    assert len(seen) == len(set(seen)), "a trade was listed twice"
    open_throughout = [t for t in first if t not in closed]
    assert set(open_throughout) <= set(seen), "a trade open all along was skipped"
    assert set(opened) <= set(seen)  # tickets grow: trades opened meanwhile come on later pages
    assert seen == sorted(seen)


async def test_filters_and_totals(ready: Services, api: httpx.AsyncClient) -> None:
    tickets = await managed(ready, 12, symbols=("EURUSD", "XAUUSD", "GBPUSD"))
    ready.engine.trade(tickets[1]).state = DefensiveState.HEDGED
    ready.engine.trade(tickets[4]).state = DefensiveState.HEDGED
    xau = (await api.get("/dtms/trades", params={"symbol": "xauusd", "limit": 2})).json()
    assert xau["total"] == 4 and xau["count"] == 2 and xau["next_cursor"] == str(xau["trades"][-1]["ticket"])
    rest = (await api.get("/dtms/trades", params={"symbol": "XAUUSD", "cursor": xau["next_cursor"]})).json()
    assert [r["ticket"] for r in xau["trades"] + rest["trades"]] == tickets[1::3] and rest["next_cursor"] is None
    hedged = (await api.get("/dtms/trades", params={"state": "HEDGED", "symbol": "XAUUSD"})).json()
    assert [r["ticket"] for r in hedged["trades"]] == [tickets[1], tickets[4]] and hedged["total"] == 2
    assert (await api.get("/dtms/trades", params={"state": "WARNING_L2"})).json()["trades"] == []
    for bad in ({"limit": 0}, {"cursor": "abc"}, {"state": "FINE"}, {"limit": 100_000}):
        assert (await api.get("/dtms/trades", params=bad)).status_code == 422


async def test_a_row_is_rendered_again_only_when_its_trade_changed(ready: Services) -> None:
    (ticket,) = await managed(ready, 1)
    trade = ready.engine.trade(ticket)
    rows = TradeRows()
    first = rows.row(trade, (1.1, 1.1002))
    assert rows.row(trade, (1.1, 1.1002)) == first and rows.rendered == 1
    moved = rows.row(trade, (1.2, 1.2002))  # a new price: only profit_r changes, the row is kept
    assert moved != first and rows.rendered == 1
    trade.last_action = "TRAIL SUCCESS"
    assert b'"last_action":"TRAIL SUCCESS"' in rows.row(trade, (1.2, 1.2002)) and rows.rendered == 2
