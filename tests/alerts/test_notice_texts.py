"""Every notice names its trade and says what was done in a trader's words: volume, price, money and R of a
close, SL old -> new, the reason and the state; a failure gives MT5's answer in words and what comes next."""

from __future__ import annotations

import pytest

from app.alerts.notices import Notice, NoticePolicy, Severity, group
from app.engine.events import EngineEvent, EventKind

TRADE = {"ticket": 4711, "symbol": "EURUSD", "direction": "BUY"}


def notice(event_kind: EventKind, /, **payload) -> Notice | None:
    return NoticePolicy().notice_for(EngineEvent(kind=event_kind, payload=TRADE | payload))


def action(**payload) -> Notice:
    made = notice(EventKind.ACTION, **payload)
    assert made is not None
    assert made.title.startswith("#4711 EURUSD BUY: ") and made.ticket == 4711
    return made


def test_breakeven_names_the_sl_move_reason_and_state() -> None:
    n = action(
        kind="BREAKEVEN",
        outcome="SUCCESS",
        sl_old=1.085,
        sl_new=1.0872,
        reason="profit 1.05 R >= 1 R",
        state="HEALTHY",
        retcode=10009,
    )
    assert n.title.endswith("SL moved to breakeven") and n.severity is Severity.INFO
    assert "SL 1.085 -> 1.0872" in n.message and "profit 1.05 R >= 1 R" in n.message and "HEALTHY" in n.message
    assert "10009" not in n.message, "a success is told in DTMS's words, not MT5's"


def test_trail_names_the_new_sl() -> None:
    n = action(
        kind="TRAIL", outcome="SUCCESS", sl_old=1.0872, sl_new=1.0891, reason="trailing 1.5 x ATR", state="HEALTHY"
    )
    assert n.title.endswith("SL trailed") and "SL 1.0872 -> 1.0891" in n.message


@pytest.mark.parametrize(
    "kind, words", [("PARTIAL_TAKE", "partial profit taken"), ("PARTIAL_CLOSE", "part of the position closed")]
)
def test_partial_close_names_volume_price_money_r_and_what_is_left(kind: str, words: str) -> None:
    n = action(
        kind=kind,
        outcome="SUCCESS",
        volume=0.5,
        price=1.0895,
        money=245.0,
        r=1.52,
        volume_left=0.5,
        reason="profit 1.52 R >= 1.5 R",
        state="HEALTHY",
    )
    assert n.title.endswith(words)
    assert "Closed 0.5 lots at 1.0895 (+245.00, +1.52 R); 0.5 lots left" in n.message
    assert "profit 1.52 R >= 1.5 R" in n.message


def test_close_hedge_readd_and_manual_close() -> None:
    close = action(
        kind="CLOSE",
        outcome="SUCCESS",
        volume=1.0,
        price=1.081,
        money=-390.0,
        r=-0.98,
        manual=True,
        reason="asked by the trader in the window",
        state="WARNING_L1",
    )
    assert close.title.endswith("trade closed (your order)") and "-390.00, -0.98 R" in close.message
    hedge = action(
        kind="HEDGE",
        outcome="SUCCESS",
        volume=0.4,
        price=1.0811,
        side="SELL",
        sl_new=1.0831,
        reason="score -6.2 <= -6: hedged",
        state="HEDGED",
    )
    assert "Opened 0.4 lots SELL at 1.0811 with SL 1.0831" in hedge.message
    assert hedge.title.endswith("hedge opened")
    unhedge = action(kind="CLOSE_HEDGE", outcome="SUCCESS", volume=0.4, price=1.0850, reason="break of structure")
    assert unhedge.title.endswith("hedge closed") and "closed 0.4 lots at 1.085" in unhedge.message.lower()
    readd = action(kind="READD", outcome="SUCCESS", volume=0.2, price=1.0880, reason="recovered")
    assert readd.title.endswith("volume re-added") and "added 0.2 lots at 1.088" in readd.message.lower()


def test_failure_gives_mt5_meaning_and_what_dtms_does_next() -> None:
    n = action(
        kind="BREAKEVEN",
        outcome="FAILED",
        retcode=10016,
        sl_old=1.085,
        sl_new=1.0872,
        reason="profit 1.05 R >= 1 R",
        next="DTMS tries again in 60 s if it is still due",
    )
    assert n.severity is Severity.ACTION_FAILED and n.title.endswith("breakeven failed")
    assert "MT5 answered 10016: invalid stops (SL/TP)" in n.message
    assert "Meant: SL 1.085 -> 1.0872" in n.message and "Next: DTMS tries again in 60 s" in n.message
    unknown = action(
        kind="PARTIAL_TAKE",
        outcome="UNKNOWN",
        retcode=None,
        mt5="no answer; outcome unknown",
        volume=0.5,
        next="DTMS reads the outcome from the terminal",
    )
    assert unknown.severity is Severity.WARNING and "outcome unknown" in unknown.title
    refused = action(kind="CLOSE", outcome="NOT_SENT", mt5="position is already closed", manual=True, volume=1.0)
    assert refused.title.endswith("close not sent") and "position is already closed" in refused.message


def test_warning_l1_and_its_tighten_are_one_notice() -> None:
    n = notice(
        EventKind.STATE_CHANGED,
        **{"from": "HEALTHY", "to": "WARNING_L1"},
        score=-2.5,
        reason="score -2.5 <= -2",
        sl_old=1.085,
        sl_new=1.0866,
        actions=[{"kind": "TIGHTEN", "outcome": "SUCCESS", "sl_old": 1.085, "sl_new": 1.0866}],
    )
    assert n is not None and n.title == "#4711 EURUSD BUY: warning level 1" and n.severity is Severity.WARNING
    assert "HEALTHY -> WARNING_L1: score -2.5 <= -2." in n.message
    assert "SL tightened: SL 1.085 -> 1.0866" in n.message


def test_warning_l2_tells_the_partial_close_and_breakeven_and_a_failed_one_raises_the_severity() -> None:
    actions = [
        {
            "kind": "PARTIAL_CLOSE",
            "outcome": "SUCCESS",
            "volume": 0.4,
            "price": 1.0861,
            "money": 44.0,
            "r": 0.55,
            "volume_left": 0.4,
        },
        {"kind": "BREAKEVEN", "outcome": "FAILED", "retcode": 10029, "sl_old": 1.085, "sl_new": 1.0855},
    ]
    n = notice(
        EventKind.STATE_CHANGED,
        **{"from": "WARNING_L1", "to": "WARNING_L2"},
        score=-4.2,
        reason="score -4.2 <= -4",
        actions=actions,
    )
    assert n is not None and n.severity is Severity.ACTION_FAILED
    assert "closed 0.4 lots at 1.0861 (+44.00, +0.55 R); 0.4 lots left" in n.message
    assert "breakeven failed (MT5 answered 10029: order or position frozen)" in n.message


def test_closed_trade_and_rail() -> None:
    closed = notice(EventKind.TRADE_CLOSED, reason="stop loss", price=1.0850, profit=-120.5)
    assert closed is not None and closed.title == "#4711 EURUSD BUY: closed"
    assert closed.message == "stop loss at 1.085, result -120.50"
    rail = NoticePolicy().notice_for(
        EngineEvent(
            kind=EventKind.RAIL,
            payload={"rail": "hourly_loss", "tripped": True, "detail": "hourly loss 1.8 % of balance, limit 1 %"},
        )
    )
    assert rail is not None and "blocked" in rail.message and rail.severity is Severity.WARNING


def test_group_names_every_trade_most_serious_first() -> None:
    notices = [Notice(title=f"#{t} EURUSD BUY: now protected", message="1 lots", ticket=t) for t in (1, 2, 3)]
    notices.append(
        Notice(
            title="#4 GBPUSD SELL: breakeven failed",
            message="MT5 answered 10016",
            severity=Severity.ACTION_FAILED,
            ticket=4,
        )
    )
    grouped = group(notices)
    assert grouped.title == "#4 GBPUSD SELL: breakeven failed and 3 more events"
    assert grouped.tickets == (4, 1, 2, 3) and grouped.severity is Severity.ACTION_FAILED
    assert all(f"#{t} " in grouped.message for t in (1, 2, 3, 4))


def test_prices_are_said_at_the_symbols_digits() -> None:
    policy = NoticePolicy({"BTCUSD": 2, "EURUSD": 5}.get)
    bitcoin = {"ticket": 4712, "symbol": "BTCUSD", "direction": "BUY"}

    def told(event_kind: EventKind, trade: dict[str, object], /, **payload: object) -> str:
        n = policy.notice_for(EngineEvent(kind=event_kind, payload=trade | payload))
        assert n is not None
        return n.message

    moved = told(EventKind.ACTION, bitcoin, kind="BREAKEVEN", outcome="SUCCESS", sl_old=87436.37, sl_new=89086.37)
    assert "SL 87436.37 -> 89086.37" in moved, "six significant digits would say SL 87436.4 -> 89086.4"
    closed = told(EventKind.TRADE_CLOSED, bitcoin, reason="stop loss hit", price=89086.3, profit=7.5)
    assert closed == "stop loss hit at 89086.30, result +7.50"
    assert "SL 1.08500 -> 1.08720" in told(
        EventKind.ACTION, TRADE, kind="TRAIL", outcome="SUCCESS", sl_old=1.085, sl_new=1.0872
    )
    registered = told(EventKind.TRADE_REGISTERED, bitcoin, volume=0.05, entry=88936.37, source="REGISTERED")
    assert registered.startswith("0.05 lots at 88936.37, ")
    unknown = {"ticket": 4713, "symbol": "US30", "direction": "SELL"}
    assert "SL 44210.5 -> 44190.2" in told(
        EventKind.ACTION, unknown, kind="TRAIL", outcome="SUCCESS", sl_old=44210.5, sl_new=44190.2
    ), "digits not known: the shortest form"
