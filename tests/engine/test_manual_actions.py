"""The trader's own actions (close, close a part, breakeven now, pause for one trade) reach the simulator's
positions through the executor and are journaled with their real outcome; the events they and DTMS's own
actions publish carry the figures a notification names (volume, price, money, R, SL old -> new, reason)."""

from __future__ import annotations

import pytest

from app.engine.defense.rules import DefenseSettings, why_not_next
from app.engine.model import ActionKind, ActionOutcome
from app.engine.model import DefensiveState as S
from app.engine.registry import Registration
from app.errors import NotOwner
from app.runtime import Services

from .conftest import Recorded, open_position, quote, set_price
from .test_action_retcodes import inject
from .test_defense_actions import act, buy
from .test_protection import R, buy_with_sl, position


async def test_close_part_reaches_the_position_and_the_journal(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready, volume=1.0)
    events = Recorded()
    ready.engine.subscribe(events)
    await set_price(ready, "EURUSD", round(entry + 0.5 * R, 5))
    await ready.engine.step()
    plan = ready.engine.plan_close(ticket, fraction=0.25)
    assert plan.kind is ActionKind.PARTIAL_CLOSE and plan.volume == pytest.approx(0.25) and not plan.refused
    assert "0.25 of 1 lots" in plan.summary and plan.request["type"] == "SELL"
    result = await ready.engine.run_manual(plan)
    assert result.ok and result.retcode == 10009
    assert (await position(ready, ticket)).volume == pytest.approx(0.75)
    assert ready.engine.trade(ticket).volume == pytest.approx(0.75)
    (record,) = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.PARTIAL_CLOSE]
    assert record.outcome is ActionOutcome.SUCCESS and record.retcode == 10009
    (action,) = events.of("action")
    p = action.payload
    assert p["manual"] and p["volume"] == pytest.approx(0.25) and p["r"] == pytest.approx(0.5, abs=0.06)
    assert p["money"] == pytest.approx(0.25 * 100_000 * (p["price"] - entry), rel=0.01)
    await ready.engine.step()
    assert not [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.EXTERNAL_CHANGE], (
        "the trader's close is not taken for a change made outside DTMS"
    )


async def test_close_whole_trade_is_archived_as_closed_by_dtms(ready: Services) -> None:
    ticket, _ = await buy_with_sl(ready, volume=0.5)
    result = await ready.engine.close_trade(ticket)
    assert result.ok
    assert not await ready.gateway.positions(ticket=ticket)
    await ready.engine.step()
    assert ready.engine.trade(ticket) is None
    stored = await ready.engine.repository.load_trade(ticket)
    assert not stored.active and "DTMS" in (stored.close_reason or "")


async def test_breakeven_now_moves_the_sl_or_says_why_not(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready)
    await set_price(ready, "EURUSD", round(entry - 0.3 * R, 5))
    await ready.engine.step()  # the engine plans with the prices of its last cycle
    refused = ready.engine.plan_breakeven(ticket)
    assert "does not allow" in refused.refused
    result = await ready.engine.run_manual(refused)
    assert result.outcome is ActionOutcome.NOT_SENT and (await position(ready, ticket)).sl == pytest.approx(entry - R)
    await set_price(ready, "EURUSD", round(entry + 0.5 * R, 5))
    await ready.engine.step()
    result = await ready.engine.breakeven_now(ticket)
    assert result.ok and (await position(ready, ticket)).sl == pytest.approx(entry)
    trade = ready.engine.trade(ticket)
    assert trade.sl == pytest.approx(entry) and trade.breakeven_triggered


async def test_a_refused_order_is_journaled_as_failed_and_reported(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready)
    await set_price(ready, "EURUSD", round(entry + 0.5 * R, 5))
    await ready.engine.step()
    await inject(ready, 10016, count=1)
    result = await ready.engine.breakeven_now(ticket)
    assert not result.ok and result.outcome is ActionOutcome.FAILED and "10016" in result.message
    (record,) = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.BREAKEVEN]
    assert record.outcome is ActionOutcome.FAILED and record.retcode == 10016
    assert (await position(ready, ticket)).sl == pytest.approx(entry - R)


async def test_only_trades_dtms_owns_are_touched(ready: Services) -> None:
    _, ask = await quote(ready, "EURUSD")
    ticket = await open_position(ready, "EURUSD", "BUY", 0.3, sl=round(ask - R, 5))
    await ready.engine.register(Registration(ticket=ticket, strategy_type="scalper"))
    with pytest.raises(NotOwner):
        ready.engine.plan_close(ticket)
    with pytest.raises(NotOwner):
        await ready.engine.set_trade_paused(ticket, True)


async def test_paused_trade_gets_no_protection_and_the_pause_persists(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready)
    await ready.engine.set_trade_paused(ticket, True)
    assert (await ready.engine.repository.load_trade(ticket)).dtms_paused
    await set_price(ready, "EURUSD", round(entry + 1.2 * R, 5))
    await ready.engine.step()
    assert (await position(ready, ticket)).sl == pytest.approx(entry - R), "nothing sent while paused"
    await ready.engine.set_trade_paused(ticket, False)
    await ready.engine.step()
    assert (await position(ready, ticket)).sl == pytest.approx(entry + 0.1 * R, abs=1e-9)


async def test_protection_events_carry_reason_sl_and_money(ready: Services) -> None:
    _, entry = await buy_with_sl(ready)
    events = Recorded()
    ready.engine.subscribe(events)
    await set_price(ready, "EURUSD", round(entry + 1.6 * R, 5))
    await ready.engine.step()
    by_kind = {e.payload["kind"]: e.payload for e in events.of("action")}
    be = by_kind["BREAKEVEN"]
    assert be["sl_old"] == pytest.approx(entry - R) and be["sl_new"] == pytest.approx(entry + 0.1 * R, abs=1e-9)
    assert be["reason"].startswith("profit") and be["state"] == "HEALTHY"
    part = by_kind["PARTIAL_TAKE"]
    assert part["volume"] == pytest.approx(0.5) and part["price"] > entry and part["money"] > 0
    assert part["volume_left"] == pytest.approx(0.5)


async def test_transition_events_carry_what_was_done(ready: Services) -> None:
    trade, entry = await buy(ready, volume=0.8)
    events = Recorded()
    ready.engine.subscribe(events)
    await set_price(ready, "EURUSD", round(entry - 0.0008, 5))
    await act(ready, trade, -2.5)
    (changed,) = events.of("state_changed")
    p = changed.payload
    assert p["to"] == "WARNING_L1" and p["sl_old"] == pytest.approx(entry - R) and p["sl_new"] == trade.sl
    assert [a["kind"] for a in p["actions"]] == ["TIGHTEN"] and p["actions"][0]["sl_new"] == trade.sl
    (action,) = events.of("action")
    assert action.payload["transition"] and action.payload["reason"] == p["reason"]


def test_why_not_next_names_the_rule_that_held_the_trade() -> None:
    from app.engine.model import Direction, Trade

    trade = Trade(
        ticket=1, symbol="EURUSD", direction=Direction.BUY, entry=1.1, volume=1, sl=1.09, tp=0, state=S.WARNING_L1
    )
    settings = DefenseSettings()
    assert why_not_next(trade, -3.0, settings) == ""
    assert "one step per deep check" in why_not_next(trade, -6.35, settings)
    assert "WARNING_L2 first" in why_not_next(trade, -6.35, settings)
    trade.dtms_paused = True
    assert "paused for this trade" in why_not_next(trade, -4.5, settings)
    trade.dtms_paused, trade.managed_by = False, "scalper"
    assert "managed by scalper" in why_not_next(trade, -4.5, settings)
