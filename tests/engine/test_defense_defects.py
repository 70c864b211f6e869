"""The earlier DTMS's engine-side defects (DTMS_SPEC.md §6), one test each, on the simulator.

Defects 5 and 6 are tested in test_regime.py and test_scoring.py, 7 and 9 (HTTP) under tests/api.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.defense.actions import hedge_comment
from app.engine.model import ActionKind as A
from app.engine.model import ActionOutcome as O
from app.engine.model import DefensiveState as S
from app.engine.registry import Registration
from app.terminal import constants as mt5

from .conftest import managed, open_position, open_services, quote, set_price
from .test_defense_actions import R, act, buy, positions

DONE = mt5.TRADE_RETCODE_DONE


async def test_defect_1_tighten_breakeven_hedge_and_close_all_are_orders_the_terminal_executes(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()
        trade, entry = await buy(services, volume=1.0)
        await set_price(services, "EURUSD", round(entry + 0.0004, 5))  # in profit, less than 0.3 R
        await act(services, trade, -2.5)  # HEALTHY -> WARNING_L1: tighten
        await act(services, trade, -4.5)  # -> WARNING_L2: close half, breakeven
        await act(services, trade, -7.0)  # -> HEDGED: hedge
        hedge = trade.hedge_ticket
        open_now = await positions(services)
        assert open_now[trade.ticket].sl == pytest.approx(entry) and open_now[hedge].comment == hedge_comment(
            trade.ticket
        )
        await act(services, trade, -1.0, choch_against=True)  # -> CLOSED: close the hedge and the trade
        assert await positions(services) == {}
        journal = [(a.kind, a.outcome, a.retcode) for a in reversed(await services.engine.journal(trade.ticket))]
        assert journal == [
            (A.TIGHTEN, O.SUCCESS, DONE),
            (A.PARTIAL_CLOSE, O.SUCCESS, DONE),
            (A.BREAKEVEN, O.SUCCESS, DONE),
            (A.HEDGE, O.SUCCESS, DONE),
            (A.CLOSE_HEDGE, O.SUCCESS, DONE),
            (A.CLOSE, O.SUCCESS, DONE),
        ]
    finally:
        await services.close()


async def test_defect_2_a_refused_partial_close_is_journaled_as_failed_never_as_success(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()
        trade, entry = await buy(services, volume=1.0)
        trade.state = S.WARNING_L1
        await services.gateway.control(
            "inject_fault",
            kind="retcode",
            retcode=mt5.TRADE_RETCODE_INVALID_FILL,
            count=1,
            action=mt5.TRADE_ACTION_DEAL,
        )
        await act(services, trade, -4.5)
        (partial,) = [a for a in await services.engine.journal(trade.ticket) if a.kind is A.PARTIAL_CLOSE]
        assert (partial.outcome, partial.retcode) == (O.FAILED, mt5.TRADE_RETCODE_INVALID_FILL)
        assert (await positions(services))[trade.ticket].volume == pytest.approx(1.0)
        assert trade.volume == 1.0 and trade.closed_volume == 0.0
        events = [e for e in await services.engine.repository.events_since(0) if e.kind == "action"]
        assert [e.payload["outcome"] for e in events if e.payload["kind"] == "PARTIAL_CLOSE"] == ["FAILED"]
    finally:
        await services.close()


async def test_defect_3_a_trade_handed_over_by_ticket_alone_has_entry_volume_initial_sl_and_r(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()
        _, ask = await quote(services, "EURUSD")
        ticket = await open_position(services, "EURUSD", "BUY", 0.7, sl=round(ask - R, 5))
        trade = (await services.engine.register(Registration(ticket=ticket))).trade
        (position,) = await services.gateway.positions(ticket=ticket)
        assert (trade.entry, trade.volume, trade.initial_sl) == (position.price_open, 0.7, position.sl)
        assert trade.r == pytest.approx(R) and not trade.synthetic_r
        await act(services, trade, -3.0)  # the tightening is measured in that R
        bid, _ = await quote(services, "EURUSD")
        assert (await positions(services))[ticket].sl == pytest.approx(round(bid - 0.3 * R, 5))
    finally:
        await services.close()


async def test_defect_4_the_flat_timer_runs_the_hedge_ticket_is_kept_and_hedged_ends(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()
        trade, entry = await buy(services, volume=0.6)
        await act(services, trade, -2.5)
        assert trade.flat_timer_until == services.engine.clock.now() + 75 * 60  # started at WARNING_L1
        await act(services, trade, -4.5)
        await act(services, trade, -7.0)
        stored = await services.engine.repository.load_trade(trade.ticket)
        assert stored.state is S.HEDGED and stored.hedge_ticket == trade.hedge_ticket is not None
        assert stored.flat_timer_until == trade.flat_timer_until
        await services.gateway.control("advance", seconds=75 * 60 + 1)
        await services.engine.step()  # reads the new time; this cycle's deep check may already act
        if trade.state is S.HEDGED:
            await act(services, trade, -1.0)
        assert trade.state is S.CLOSED and await positions(services) == {}
    finally:
        await services.close()


async def test_defect_8_state_timers_counters_and_hedge_survive_a_restart_and_carry_on(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()
        trade, entry = await buy(services, volume=0.6)
        await act(services, trade, -2.5)
        await act(services, trade, -4.5)
        await act(services, trade, -7.0)
        ticket = trade.ticket
        kept = {
            name: getattr(trade, name)
            for name in (
                "state",
                "flat_timer_until",
                "hedge_ticket",
                "closed_volume",
                "warnings",
                "last_warning_at",
                "volume",
                "sl",
                "r",
                "score",
            )
        }
    finally:
        await services.close()

    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()
        trade = managed(services, ticket)
        assert {name: getattr(trade, name) for name in kept} == kept
        assert kept["hedge_ticket"] in await positions(services)
        # the restored flat timer ends HEDGED when it expires, closing the restored hedge too
        await services.gateway.control("advance", seconds=kept["flat_timer_until"] - services.engine.clock.now() + 1)
        await services.engine.step()
        if trade.state is S.HEDGED:
            await act(services, trade, -1.0)
        assert trade.state is S.CLOSED and await positions(services) == {}
        assert [t.to_state for t in await services.engine.transitions(trade.ticket)] == [
            S.WARNING_L1,
            S.WARNING_L2,
            S.HEDGED,
            S.CLOSED,
        ]
    finally:
        await services.close()
