"""The trade list's kept rows: rendered again exactly when a field the row shows changed, never served stale."""

from __future__ import annotations

from app.api import schemas
from app.api.trade_list import TradeRows
from app.engine.model import DefensiveState, Direction, Trade, TradeSource

#: a different value for each field a row shows (score -1.0 -> -2.0: equal hashes, different numbers)
CHANGES: dict[str, object] = {
    "ticket": 778,
    "symbol": "XAUUSD",
    "direction": Direction.SELL,
    "entry": 1.2,
    "volume": 0.2,
    "sl": 1.05,
    "tp": 1.3,
    "state": DefensiveState.HEDGED,
    "score": -2.0,
    "r": 0.004,
    "synthetic_r": True,
    "managed_by": "grid-bot",
    "strategy_type": "grid-bot",
    "source": TradeSource.ADOPTED,
    "magic": 12,
    "comment": "grid 3",
    "breakeven_triggered": True,
    "partial_taken": True,
    "hedge_ticket": 999,
    "registered_at": 1_772_600_001.5,
    "last_action": "TRAIL SUCCESS",
    "last_action_at": 1_772_600_002.0,
    "active": False,
}


def trade() -> Trade:
    return Trade(
        ticket=777, symbol="EURUSD", direction=Direction.BUY, entry=1.1, volume=0.1, sl=1.09, tp=1.12, score=-1.0,
        r=0.01, registered_at=1_772_600_000.0, magic=5, comment="",
    )  # fmt: skip


def test_every_field_a_row_shows_is_in_the_changes() -> None:
    assert set(CHANGES) == set(schemas.TradeInfo.model_fields) - {"profit_r"}


def test_a_row_is_rendered_again_exactly_when_a_field_it_shows_changed() -> None:
    quote = (1.1003, 1.1005)
    for name, value in CHANGES.items():
        rows = TradeRows()
        live = trade()
        first = rows.row(live, quote)
        assert rows.row(live, quote) == first and rows.rendered == 1
        live.state_since, live.last_evaluated_at = 5.0, 6.0  # not shown: the row is kept
        assert rows.row(live, quote) == first and rows.rendered == 1
        setattr(live, name, value)
        changed = rows.row(live, quote)
        assert rows.rendered == 2, name
        assert changed == TradeRows().row(live, quote) != first, name  # what a fresh render gives
        assert rows.row(live, quote) == changed and rows.rendered == 2, name


def test_rows_of_trades_alike_share_the_tuple_of_their_alike_values() -> None:
    from app.api.trade_list import _OWN

    rows = TradeRows()
    one, other, different = trade(), trade(), trade()
    other.ticket, other.entry, other.score = 778, 1.3, 4.0
    different.ticket, different.state = 779, DefensiveState.WARNING_L1
    for each in (one, other, different):
        rows.row(each, None)
    kept = rows._rows
    assert kept[777][_OWN] is kept[778][_OWN] and kept[779][_OWN] is not kept[777][_OWN]
    assert kept[777][_OWN + 1] is kept[778][_OWN + 1], "one template for the rows alike, not a text a row"
    assert rows.row(other, None) == TradeRows().row(other, None) and rows.rendered == 3


def test_a_row_is_byte_for_byte_the_models_json_whatever_its_values() -> None:
    """Rows are put together from a template shared by trades alike and each trade's own numbers: the text must
    be exactly the model's, with comments holding what a template could trip on (%, commas, quotes, NUL)."""
    from app.api import views
    from app.api.trade_list import _dumps

    odd = [
        {},
        {"comment": 'grid 100% , "quoted" %b %s \x00 ünï'},
        {"hedge_ticket": 12345, "last_action_at": 1_772_600_009.25, "last_action": "TRAIL SUCCESS"},
        {"entry": 1e-05, "sl": 0.0, "tp": 123456.789, "score": -0.0, "r": 0.0, "volume": 100.0},
        {"strategy_type": "grid-bot", "managed_by": "grid-bot", "state": DefensiveState.HEDGED, "active": False},
    ]
    rows = TradeRows()
    for quote in (None, (1.1003, 1.1005)):
        for number, changes in enumerate(odd):
            live = trade()
            live.ticket = 1000 + number
            for name, value in changes.items():
                setattr(live, name, value)
            expected = _dumps(views.trade_info(live, quote).model_dump(mode="json")).encode()
            assert rows.row(live, quote) == expected, changes
    assert rows.rendered == len(odd), "the second quote took every row from the cache"


def test_a_row_whose_own_values_hold_the_separator_is_kept_whole(monkeypatch) -> None:
    from app.api import trade_list, views

    monkeypatch.setattr(trade_list, "_SEP", b"7")  # ticket 777 and its other numbers now hold it
    rows, live, quote = TradeRows(), trade(), (1.1003, 1.1005)
    expected = trade_list._dumps(views.trade_info(live, quote).model_dump(mode="json")).encode()
    assert rows.row(live, quote) == expected and rows.row(live, quote) == expected and rows.rendered == 1
    assert rows._rows[777][-1] is None, "kept whole, not as a template and numbers"
