"""Defensive transitions carried out on the simulator: orders, MT5 positions, journal, events, restarts.

Scores are given (the state machine is tested on its own in test_defense.py); everything after the decision
is real: the engine's executor, the simulated terminal, the database.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.defense.actions import PENDING_PREFIX, SETTLED, hedge_comment, readd_comment
from app.engine.defense.rules import DefenseActionKind as K
from app.engine.defense.rules import decide
from app.engine.model import ActionKind, ActionOutcome, Direction, Trade
from app.engine.model import DefensiveState as S
from app.engine.registry import Registration
from app.runtime import Services
from app.terminal import constants as mt5

from .conftest import Recorded, managed, open_position, open_services, quote, set_price
from .test_defense import make_score

R = 0.0020
ATR = 0.0040


async def buy(services: Services, volume: float = 1.0, **registration) -> tuple[Trade, float]:
    bid, ask = await quote(services, "EURUSD")
    await set_price(services, "EURUSD", bid, ask)
    ticket = await open_position(services, "EURUSD", "BUY", volume, sl=round(ask - R, 5))
    await services.engine.register(Registration(ticket=ticket, **registration))
    return managed(services, ticket), ask


async def act(services: Services, trade: Trade, total: float, *, gated: bool = False, **flags) -> None:
    """Decide with the given score at the current price and carry the decision out; ``gated`` tells the
    state machine about tripped safety rails, as the deep check does."""
    bid, ask = await quote(services, "EURUSD")
    score = make_score(total, trade.direction, price=bid if trade.direction is Direction.BUY else ask, **flags)
    now = services.engine.clock.now()
    hedging = int((await services.gateway.account_info()).margin_mode) == mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
    allowed, rail = services.engine.rails.risk_allowed(trade.symbol)
    decision = decide(
        trade,
        score,
        now,
        services.engine.settings.defense,
        hedging_account=hedging,
        atr=ATR,
        risk_block=rail if gated and not allowed else "",
    )
    assert decision is not None
    rules = services.engine.market.get("EURUSD").rules
    await services.engine.defense.carry_out(trade, decision, rules=rules, bid=bid, ask=ask, hedging_account=hedging)


async def positions(services: Services) -> dict[int, object]:
    return {int(p.ticket): p for p in await services.gateway.positions(symbol="EURUSD")}


async def kinds_in_journal(services: Services, ticket: int) -> list[tuple[ActionKind, ActionOutcome]]:
    return [(a.kind, a.outcome) for a in reversed(await services.engine.journal(ticket))]


async def test_warning_l1_tightens_the_real_sl_from_r_computed_from_mt5(ready: Services) -> None:
    trade, entry = await buy(ready)  # registered with the ticket only: entry, volume, SL come from MT5
    assert trade.entry == entry and trade.volume == 1.0 and trade.initial_sl == pytest.approx(entry - R)
    assert trade.r == pytest.approx(R)
    events = Recorded()
    ready.engine.subscribe(events)
    await set_price(ready, "EURUSD", round(entry - 0.0008, 5))
    bid, _ = await quote(ready, "EURUSD")
    await act(ready, trade, -2.5)
    position = (await positions(ready))[trade.ticket]
    assert position.sl == pytest.approx(round(bid - 0.3 * R, 5))
    assert trade.state is S.WARNING_L1 and trade.sl == position.sl and trade.pending_action is None
    assert trade.flat_timer_until == ready.engine.clock.now() + 75 * 60
    (transition,) = await ready.engine.transitions(trade.ticket)
    assert (transition.from_state, transition.to_state) == (S.HEALTHY, S.WARNING_L1)
    journal = await ready.engine.journal(trade.ticket)
    tighten = [a for a in journal if a.kind is ActionKind.TIGHTEN]
    assert [(a.outcome, a.retcode) for a in tighten] == [(ActionOutcome.SUCCESS, 10009)]
    assert events.kinds()[-2:] == ["state_changed", "action"]
    stored = await ready.engine.repository.load_trade(trade.ticket)
    assert stored.state is S.WARNING_L1 and stored.flat_timer_until == trade.flat_timer_until


async def test_warning_l2_closes_half_and_moves_the_sl_to_entry(ready: Services) -> None:
    trade, entry = await buy(ready, volume=0.8)
    trade.state = S.WARNING_L1
    await set_price(ready, "EURUSD", round(entry + 0.0006, 5))
    await act(ready, trade, -4.0)
    position = (await positions(ready))[trade.ticket]
    assert position.volume == pytest.approx(0.4) and position.sl == pytest.approx(entry)
    assert trade.state is S.WARNING_L2 and trade.volume == pytest.approx(0.4)
    assert trade.closed_volume == pytest.approx(0.4)
    assert (ActionKind.PARTIAL_CLOSE, ActionOutcome.SUCCESS) in await kinds_in_journal(ready, trade.ticket)
    assert (ActionKind.BREAKEVEN, ActionOutcome.SUCCESS) in await kinds_in_journal(ready, trade.ticket)


async def test_l2_under_water_never_sends_a_breakeven_the_broker_would_refuse(ready: Services) -> None:
    trade, entry = await buy(ready, volume=0.8)
    trade.state = S.WARNING_L1
    await set_price(ready, "EURUSD", round(entry - 0.0010, 5))  # a BUY under water: SL at entry is impossible
    await act(ready, trade, -4.5)
    assert (await positions(ready))[trade.ticket].sl == pytest.approx(entry - R)
    journal = await kinds_in_journal(ready, trade.ticket)
    assert (ActionKind.PARTIAL_CLOSE, ActionOutcome.SUCCESS) in journal
    assert not [k for k, _ in journal if k is ActionKind.BREAKEVEN]
    assert trade.state is S.WARNING_L2
    transitions = await ready.engine.transitions(trade.ticket)
    assert "cannot go to breakeven" in transitions[-1].reason


async def test_hedge_is_opened_stored_and_the_flat_timer_closes_both(ready: Services) -> None:
    trade, entry = await buy(ready, volume=0.5)
    trade.state = S.WARNING_L2
    await set_price(ready, "EURUSD", round(entry - 0.0010, 5))
    bid, _ = await quote(ready, "EURUSD")
    await act(ready, trade, -6.5)
    hedges = [p for p in (await positions(ready)).values() if p.comment == hedge_comment(trade.ticket)]
    assert len(hedges) == 1
    hedge = hedges[0]
    assert hedge.type == mt5.POSITION_TYPE_SELL and hedge.volume == pytest.approx(0.25)
    assert hedge.sl == pytest.approx(round(bid + 0.5 * ATR, 5))
    assert trade.state is S.HEDGED and trade.hedge_ticket == hedge.ticket
    assert trade.flat_timer_until == ready.engine.clock.now() + 75 * 60
    stored = await ready.engine.repository.load_trade(trade.ticket)
    assert stored.hedge_ticket == hedge.ticket and stored.flat_timer_until == trade.flat_timer_until
    await ready.gateway.control("advance", seconds=75 * 60 + 5)
    await ready.engine.step()  # reads the new time; the deep check of that cycle may act too
    if ready.engine.trade(trade.ticket) is not None and trade.state is S.HEDGED:
        await act(ready, trade, -1)
    assert trade.state is S.CLOSED
    assert trade.ticket not in await positions(ready) and hedge.ticket not in await positions(ready)
    await ready.engine.step()
    assert ready.engine.trade(trade.ticket) is None  # archived
    archived = await ready.engine.find_trade(trade.ticket)
    assert archived.close_reason == "closed by DTMS"


async def test_break_of_structure_closes_the_hedge_and_recovery_re_adds(ready: Services) -> None:
    trade, entry = await buy(ready, volume=0.8)
    trade.state = S.WARNING_L1
    await set_price(ready, "EURUSD", round(entry + 0.0005, 5))
    await act(ready, trade, -4.0)  # closes 0.4
    await act(ready, trade, -7.0)  # hedge 0.2
    hedge_ticket = trade.hedge_ticket
    assert hedge_ticket in await positions(ready)
    await act(ready, trade, 2.0, bos_in_favour=True)
    assert trade.state is S.RECOVERING and trade.hedge_ticket is None
    assert hedge_ticket not in await positions(ready)
    await ready.gateway.control("advance", seconds=30 * 60 + 5)
    await ready.engine.step()
    if trade.state is S.RECOVERING:
        await act(ready, trade, 1.5)
    assert trade.state is S.HEALTHY
    readds = [p for p in (await positions(ready)).values() if p.comment == readd_comment(trade.ticket)]
    assert len(readds) == 1 and readds[0].volume == pytest.approx(0.2) and readds[0].type == mt5.POSITION_TYPE_BUY
    assert trade.closed_volume == 0.0
    assert ready.engine.trade(readds[0].ticket) is None  # DTMS's own position is not adopted as a trade


async def test_re_add_and_hedge_are_withheld_while_a_rail_is_tripped(ready: Services) -> None:
    trade, entry = await buy(ready, volume=0.8)
    trade.state, trade.closed_volume, trade.recovery_timer_until = S.RECOVERING, 0.4, 0.0
    assert ready.engine.rails.evaluate_symbol("EURUSD", spread=0.001, spread_median=0.0001, bar_age_s=0.0)
    await act(ready, trade, 2.0)  # the state machine was not told: the executor side refuses on its own
    assert trade.state is S.HEALTHY
    (readd,) = [a for a in await ready.engine.journal(trade.ticket) if a.kind is ActionKind.READD]
    assert readd.outcome is ActionOutcome.NOT_SENT and "spread" in readd.detail
    assert not [p for p in (await positions(ready)).values() if p.comment == readd_comment(trade.ticket)]
    trade.state = S.WARNING_L2
    await act(ready, trade, -8.0, gated=True)  # the hedge becomes the netting alternative: close half, no new position
    assert trade.state is S.HEDGED and trade.hedge_ticket is None
    assert [p.ticket for p in (await positions(ready)).values()] == [trade.ticket]
    assert (await positions(ready))[trade.ticket].volume == pytest.approx(0.4)


async def test_a_refused_hedge_is_a_journaled_failure(ready: Services) -> None:
    trade, entry = await buy(ready, volume=0.5)
    trade.state = S.WARNING_L2
    await ready.gateway.control("inject_fault", kind="retcode", retcode=mt5.TRADE_RETCODE_INVALID_FILL, count=1)
    await act(ready, trade, -8)
    assert trade.hedge_ticket is None
    assert not [p for p in (await positions(ready)).values() if p.comment == hedge_comment(trade.ticket)]
    hedges = [a for a in await ready.engine.journal(trade.ticket) if a.kind is ActionKind.HEDGE]
    assert [(a.outcome, a.retcode) for a in hedges] == [(ActionOutcome.FAILED, mt5.TRADE_RETCODE_INVALID_FILL)]
    assert trade.last_action == "HEDGE FAILED"


async def test_a_position_dtms_does_not_own_is_never_touched(ready: Services) -> None:
    trade, entry = await buy(ready, strategy_type="scalper")
    assert trade.managed_by == "scalper"
    with pytest.raises(PermissionError):
        await act(ready, trade, -3)
    assert (await positions(ready))[trade.ticket].sl == pytest.approx(entry - R)
    assert await ready.engine.journal(trade.ticket) == []


async def test_netting_account_closes_half_and_tightens_instead_of_hedging(tmp_path: Path) -> None:
    services = await open_services(tmp_path, margin_mode=0)
    try:
        assert await services.engine.start()
        trade, entry = await buy(services, volume=0.6)
        trade.state = S.WARNING_L2
        await set_price(services, "EURUSD", round(entry + 0.0010, 5))
        bid, _ = await quote(services, "EURUSD")
        await act(services, trade, -6.0)
        (position,) = (await positions(services)).values()
        assert position.ticket == trade.ticket and position.volume == pytest.approx(0.3)
        assert position.sl == pytest.approx(round(bid - 0.3 * R, 5))
        assert (
            trade.state is S.HEDGED
            and trade.hedge_ticket is None
            and "netting" in (await services.engine.transitions(trade.ticket))[-1].reason
        )
    finally:
        await services.close()


@pytest.mark.parametrize("opened", [True, False])
async def test_a_hedge_under_way_at_a_restart_is_settled_never_sent_twice(tmp_path: Path, opened: bool) -> None:
    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()
        trade, entry = await buy(services, volume=0.5)
        trade.state = S.WARNING_L2
        await services.engine.repository.save_trades([trade])
        bid, ask = await quote(services, "EURUSD")
        decision = decide(
            trade,
            make_score(-7, price=bid),
            services.engine.clock.now(),
            services.engine.settings.defense,
            hedging_account=True,
            atr=ATR,
        )
        assert [a.kind for a in decision.actions] == [K.HEDGE]
        # the program stopped after persisting the pending transition (and, maybe, after the order went out)
        import json

        trade.pending_action = PENDING_PREFIX + json.dumps(
            decision.as_dict() | {"volume_before": trade.volume, "sl_before": trade.sl}
        )
        await services.engine.repository.save_trades([trade])
        if opened:
            await open_position(services, "EURUSD", "SELL", 0.25, comment=hedge_comment(trade.ticket))
    finally:
        await services.close()
    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()
        await services.engine.step()
        trade = managed(services, trade.ticket)
        hedges = [p for p in (await positions(services)).values() if p.comment == hedge_comment(trade.ticket)]
        assert len(hedges) == (1 if opened else 0)
        assert trade.state is S.HEDGED and trade.pending_action is None
        assert trade.hedge_ticket == (hedges[0].ticket if opened else None)
        (record,) = [a for a in await services.engine.journal(trade.ticket) if a.kind is ActionKind.HEDGE]
        assert record.outcome is (ActionOutcome.SUCCESS if opened else ActionOutcome.NOT_SENT)
        assert record.detail.startswith(SETTLED)
    finally:
        await services.close()


async def test_an_action_below_the_minimum_volume_is_journaled_once_per_state(ready: Services) -> None:
    trade, entry = await buy(ready, volume=0.01)
    await set_price(ready, "EURUSD", round(entry - 0.0008, 5))
    partial = (ActionKind.PARTIAL_CLOSE, ActionOutcome.NOT_SENT)
    await act(ready, trade, -2.5)  # HEALTHY -> WARNING_L1
    await act(ready, trade, -4.5)  # -> WARNING_L2: half of 0.01 cannot be closed
    assert trade.state is S.WARNING_L2
    assert (await kinds_in_journal(ready, trade.ticket)).count(partial) == 1
    assert (
        list(trade.cannot) == ["WARNING_L2:PARTIAL_CLOSE@0.01"]
        and "minimum" in trade.cannot["WARNING_L2:PARTIAL_CLOSE@0.01"]
    )
    for _ in range(3):  # the score swings back and forth: L2 again and again, the same skip
        await act(ready, trade, -1.0)  # -> WARNING_L1
        await act(ready, trade, -4.5)  # -> WARNING_L2
    assert trade.state is S.WARNING_L2
    assert (await kinds_in_journal(ready, trade.ticket)).count(partial) == 1  # not at every check
    assert len(await ready.engine.transitions(trade.ticket)) == 8  # the state changes are all journaled
    await act(ready, trade, -6.5)  # -> HEDGED: a hedge of 0.005 cannot be opened either
    assert trade.state is S.HEDGED and trade.hedge_ticket is None
    journal = await kinds_in_journal(ready, trade.ticket)
    assert journal.count((ActionKind.HEDGE, ActionOutcome.NOT_SENT)) == 1
    assert set(trade.cannot) == {"WARNING_L2:PARTIAL_CLOSE@0.01", "HEDGED:HEDGE@0.01"}  # the state says so
    stored = await ready.engine.repository.load_trade(trade.ticket)
    assert stored.cannot == trade.cannot
