"""The prices in the engine's texts a trader reads (confirmations, journal details, reasons) are at the symbol's
digits: on BTCUSD (2 digits, prices near 90,000) six significant digits would drop the cents."""

from __future__ import annotations

import pytest

from app.engine.broker import SymbolRules
from app.engine.defense.rules import Decision, DefenseAction
from app.engine.defense.rules import DefenseActionKind as K
from app.engine.model import ActionKind, ActionOutcome, DefensiveState, Direction, Trade
from app.engine.prices import price_text
from app.engine.protection import plan_protection
from app.engine.reconcile import outside_changes_text
from app.engine.registry import Registration
from app.engine.settings import ProtectionSettings
from app.runtime import Services

from .conftest import managed, open_position, set_price

BID, ASK = 88921.02, 88936.37
R_BTC = 1500.0


async def bitcoin_buy(services: Services) -> Trade:
    """A BUY of 0.05 BTCUSD at a held price, its SL one R (1,500.00) below the entry."""
    await set_price(services, "BTCUSD", BID, ASK)
    ticket = await open_position(services, "BTCUSD", "BUY", 0.05, sl=round(ASK - R_BTC, 2))
    await services.engine.register(Registration(ticket=ticket))
    return managed(services, ticket)


def test_price_text_keeps_every_digit_of_the_symbol() -> None:
    assert price_text(88921.02, 2) == "88921.02"
    assert price_text(88921.0, 2) == "88921.00"
    assert price_text(1.085, 5) == "1.08500"
    assert price_text(151.2, 3) == "151.200"
    assert price_text(88921.02, None) == "88921", "digits unknown: the shortest form, as before"


def test_outside_changes_say_sl_and_tp_at_the_digits_and_volume_as_it_is() -> None:
    text = outside_changes_text({"sl": (87436.37, 88000.55), "volume": (0.05, 0.03)}, 2)
    assert text == "sl 87436.37 -> 88000.55, volume 0.05 -> 0.03"


async def test_confirmations_keep_the_cents_of_a_bitcoin_price(ready: Services) -> None:
    trade = await bitcoin_buy(ready)
    assert trade.entry == pytest.approx(ASK)
    await set_price(ready, "BTCUSD", 89236.37, 89251.72)
    await ready.engine.step()
    sl = managed(ready, trade.ticket).sl  # one R below the entry, or tightened by the deep check: .37 either way
    breakeven = ready.engine.plan_breakeven(trade.ticket)
    assert f"from {sl:.2f} to 88936.37 (breakeven)" in breakeven.summary, breakeven.summary
    assert f"{sl:.2f}".endswith(".37") and "TP" not in breakeven.summary, "no TP: none is named"
    close = ready.engine.plan_close(trade.ticket)
    assert "a SELL deal at market (now 89236.37)" in close.summary, close.summary


async def test_an_sl_moved_outside_dtms_is_journaled_with_its_cents(ready: Services) -> None:
    trade = await bitcoin_buy(ready)
    answer = await ready.gateway.call(
        "order_send", {"action": 6, "position": trade.ticket, "symbol": "BTCUSD", "sl": 88000.55, "tp": 0.0}
    )
    assert answer.value.retcode == 10009
    await ready.engine.step()
    (record,) = [a for a in await ready.engine.journal(trade.ticket) if a.kind is ActionKind.EXTERNAL_CHANGE]
    assert record.detail == "changed outside DTMS: sl 87436.37 -> 88000.55", record.detail


async def test_a_defensive_sl_move_not_sent_names_both_levels_with_their_cents(ready: Services) -> None:
    trade = await bitcoin_buy(ready)
    rules = ready.engine.market.get("BTCUSD").rules
    decision = Decision(
        ticket=trade.ticket,
        from_state=DefensiveState.HEALTHY,
        to_state=DefensiveState.WARNING_L1,
        reason="score -2.5 <= -2",
        score=-2.5,
        at=ready.engine.clock.now(),
        actions=(DefenseAction(kind=K.TIGHTEN, sl=87336.32),),  # looser than the SL: nothing is sent
    )
    await ready.engine.defense.carry_out(trade, decision, rules=rules, bid=BID, ask=ASK, hedging_account=True)
    (record,) = [a for a in await ready.engine.journal(trade.ticket) if a.kind is ActionKind.TIGHTEN]
    assert record.outcome is ActionOutcome.NOT_SENT
    assert record.detail == "SL 87336.32 would not be tighter than 87436.37", record.detail


def test_the_trailing_reason_names_the_best_price_at_the_digits() -> None:
    rules = SymbolRules(
        symbol="BTCUSD",
        digits=2,
        point=0.01,
        tick_size=0.01,
        stops_level=500,
        freeze_level=0,
        volume_min=0.01,
        volume_max=10.0,
        volume_step=0.01,
        filling_mode=3,
    )
    trade = Trade(
        ticket=1,
        symbol="BTCUSD",
        direction=Direction.BUY,
        entry=88936.37,
        volume=0.05,
        sl=89086.37,
        tp=0.0,
        initial_sl=87436.37,
        r=R_BTC,
        breakeven_triggered=True,
        partial_taken=True,
        best_price=91936.3,
    )
    settings = ProtectionSettings()
    (trail,) = plan_protection(
        trade, bid=91936.3, ask=91951.3, rules=rules, atr=1000.0, now=10_000.0, settings=settings
    )
    assert trail.reason == f"trailing {settings.trail_atr_multiple:g} x ATR behind 91936.30", trail.reason
