"""Safety rails (DTMS_SPEC.md §5): losses against balance (deposits are not losses), stop-outs in a row,
spread against its median, stale bars and blackout windows; while tripped, no risk is added."""

from __future__ import annotations

from app.engine.rails import Rail, SafetyRails, consecutive_stop_outs, realized_profit
from app.engine.registry import Registration
from app.engine.settings import RailSettings
from app.runtime import Services
from app.terminal import constants as mt5
from app.terminal.structs import TradeDeal
from tests.engine.conftest import Recorded, open_position, quote, set_price

NOW = 1_772_618_400.0  # 10:00 UTC


def deal(
    profit: float,
    *,
    at: float,
    reason: int = mt5.DEAL_REASON_CLIENT,
    type_: int = mt5.DEAL_TYPE_SELL,
    entry: int = mt5.DEAL_ENTRY_OUT,
    ticket: int = 1,
) -> TradeDeal:
    return TradeDeal(
        ticket=ticket,
        order=ticket,
        time=int(at),
        time_msc=int(at * 1000),
        type=type_,
        entry=entry,
        magic=0,
        position_id=ticket,
        reason=reason,
        volume=1.0,
        price=1.0,
        commission=0.0,
        swap=0.0,
        profit=profit,
        fee=0.0,
        symbol="EURUSD",
        comment="",
        external_id="",
    )


def test_deposits_and_withdrawals_are_not_losses() -> None:
    deals = [
        deal(-5000.0, at=NOW - 100, type_=mt5.DEAL_TYPE_BALANCE, entry=mt5.DEAL_ENTRY_IN),
        deal(-50.0, at=NOW - 50),
    ]
    assert realized_profit(deals, NOW - 86400) == -50.0


def test_daily_and_hourly_loss_rails_trip_and_gate_added_risk() -> None:
    rails = SafetyRails(RailSettings())
    changes = rails.evaluate_account(balance=10_000.0, floating=0.0, deals=[deal(-150.0, at=NOW - 7200)], now=NOW)
    assert rails.risk_allowed("EURUSD") == (True, "")
    assert changes == []
    changes = rails.evaluate_account(balance=10_000.0, floating=-60.0, deals=[deal(-150.0, at=NOW - 7200)], now=NOW)
    assert [c.rail for c in changes] == [Rail.DAILY_LOSS], "2.1 % today; 0.6 % in the last hour"
    allowed, why = rails.risk_allowed("EURUSD")
    assert not allowed and "daily_loss" in why
    changes = rails.evaluate_account(balance=10_000.0, floating=0.0, deals=[deal(-150.0, at=NOW - 600)], now=NOW)
    assert {c.rail for c in changes} == {Rail.DAILY_LOSS, Rail.HOURLY_LOSS}
    assert rails.risk_allowed("EURUSD")[0] is False


def test_three_losing_stop_outs_in_a_row_trip_the_rail() -> None:
    stops = [deal(-10.0, at=NOW - i * 60, reason=mt5.DEAL_REASON_SL, ticket=i) for i in range(1, 4)]
    assert consecutive_stop_outs(stops) == 3
    assert consecutive_stop_outs(stops + [deal(20.0, at=NOW, ticket=9)]) == 0, "a win since breaks the run"
    rails = SafetyRails(RailSettings())
    changes = rails.evaluate_account(balance=10_000.0, floating=0.0, deals=stops, now=NOW)
    assert [c.rail for c in changes] == [Rail.STOP_OUTS]


def test_spread_and_stale_bars_are_per_symbol() -> None:
    rails = SafetyRails(RailSettings())
    changes = rails.evaluate_symbol("EURUSD", spread=0.0003, spread_median=0.0001, bar_age_s=10.0)
    assert [c.rail for c in changes] == [Rail.SPREAD]
    assert not rails.risk_allowed("EURUSD")[0] and rails.risk_allowed("GBPUSD")[0]
    changes = rails.evaluate_symbol("GBPUSD", spread=0.0001, spread_median=0.0001, bar_age_s=301.0)
    assert [c.rail for c in changes] == [Rail.STALE_BARS]
    changes = rails.evaluate_symbol("EURUSD", spread=0.0001, spread_median=0.0001, bar_age_s=10.0)
    assert [(c.rail, c.tripped) for c in changes] == [(Rail.SPREAD, False)]
    assert rails.risk_allowed("EURUSD")[0]


def test_blackout_window() -> None:
    rails = SafetyRails(RailSettings(blackouts=((NOW - 60, NOW + 60),)))
    rails.evaluate_account(balance=10_000.0, floating=0.0, deals=[], now=NOW)
    assert rails.risk_allowed("EURUSD") == (False, "blackout: manual blackout window")
    rails.evaluate_account(balance=10_000.0, floating=0.0, deals=[], now=NOW + 61)
    assert rails.risk_allowed("EURUSD")[0]


def test_the_rails_of_a_symbol_no_longer_managed_are_dropped_and_a_tripped_one_cleared() -> None:
    rails = SafetyRails(RailSettings())
    rails.evaluate_symbol("EURUSD", spread=0.0003, spread_median=0.0001, bar_age_s=10.0)  # tripped
    rails.evaluate_symbol("GBPUSD", spread=0.0001, spread_median=0.0001, bar_age_s=10.0)
    rails.evaluate_account(balance=10_000.0, floating=-500.0, deals=[], now=NOW)  # daily and hourly loss
    assert rails.forget_symbols({"EURUSD", "GBPUSD"}) == []
    (cleared,) = rails.forget_symbols({"USDJPY"})
    assert (cleared.rail, cleared.symbol, cleared.tripped) == (Rail.SPREAD, "EURUSD", False)
    assert cleared.detail == "no trade on EURUSD left"
    assert {s.symbol for s in rails.snapshot()} == {None}, "the account's rails stay"
    assert rails.risk_allowed("EURUSD") == rails.risk_allowed("USDJPY")


async def test_a_tripped_spread_rail_clears_once_its_symbols_last_trade_is_gone(ready: Services) -> None:
    events = Recorded()
    ready.engine.subscribe(events)
    ticket = await open_position(ready, "GBPUSD", "BUY", 0.1)
    await ready.engine.register(Registration(ticket=ticket))
    for _ in range(12):  # the spread's median needs ten quotes
        await ready.engine.step()
    bid, ask = await quote(ready, "GBPUSD")
    await set_price(ready, "GBPUSD", bid, bid + 10 * (ask - bid))
    await ready.engine.step()
    assert [(e.payload["symbol"], e.payload["tripped"]) for e in events.of("rail")] == [("GBPUSD", True)]
    assert (await ready.gateway.control("close_position", ticket=ticket))["retcode"] == 10009
    await ready.engine.step()
    await ready.engine.step()
    assert ready.engine.trade(ticket) is None
    told = [(e.payload["symbol"], e.payload["tripped"], e.payload["detail"]) for e in events.of("rail")]
    assert told[1:] == [("GBPUSD", False, "no trade on GBPUSD left")] and len(told) == 2
    assert not any(status.tripped for status in ready.engine.health().rails), "no longer shown as tripped"
