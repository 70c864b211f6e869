"""The simulated terminal's bulk position table answers what each position answers one by one; its history
indexes answer what a scan of the whole history finds."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from app.terminal import constants as c
from tests.terminal.sim_helpers import answered, open_terminal

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")


def test_the_bulk_answer_equals_each_position_asked_alone_through_opens_changes_and_closes() -> None:
    rng = random.Random(8)
    mt5 = open_terminal(balance=1e9)
    try:
        for step in range(40):
            open_now = [p.ticket for p in answered(mt5.positions_get())]
            kind = rng.choice(("open", "open", "close", "modify", "partial", "advance"))
            if kind == "open" or not open_now:
                for _ in range(rng.randint(1, 30)):
                    symbol = rng.choice(SYMBOLS)
                    result = mt5.order_send(
                        action=1, symbol=symbol, volume=rng.choice((0.01, 0.1, 0.5)), type=rng.randint(0, 1),
                        comment=rng.choice(("", "grid", "bot 2")),
                    )  # fmt: skip
                    assert result.retcode == 10009
            elif kind == "close":
                for ticket in rng.sample(open_now, min(len(open_now), rng.randint(1, 10))):
                    mt5.control("close_position", ticket=ticket)
            elif kind == "partial":
                ticket = rng.choice(open_now)
                (position,) = answered(mt5.positions_get(ticket=ticket))
                if position.volume >= 0.1:
                    mt5.control("close_position", ticket=ticket, volume=0.05)
            elif kind == "modify":
                ticket = rng.choice(open_now)
                (position,) = answered(mt5.positions_get(ticket=ticket))
                mt5.control("modify_position", ticket=ticket, tp=round(position.price_open * 1.5, 2))
            else:
                mt5.control("advance", seconds=rng.choice((1.0, 3600.0)))
            bulk = answered(mt5.positions_get())
            assert len(bulk) > 0 or step == 0
            alone = tuple(answered(mt5.positions_get(ticket=p.ticket))[0] for p in bulk)
            assert bulk == alone, f"step {step}: {kind}"
            assert [type(v) for p in bulk for v in p] == [type(v) for p in alone for v in p]
        assert len(answered(mt5.positions_get())) > 50
    finally:
        mt5.close()


@pytest.mark.parametrize("mode", [c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING, c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING])
def test_history_by_order_and_by_position_equals_a_scan_of_the_whole_history(mode: int) -> None:
    rng = random.Random(mode)
    mt5 = open_terminal(balance=1e9, margin_mode=mode)
    try:
        for _ in range(60):
            open_now = answered(mt5.positions_get())
            kind = rng.choice(("open", "open", "close", "partial")) if open_now else "open"
            if kind == "open":  # on a netting account an opposite deal reduces or reverses the position
                symbol = rng.choice(SYMBOLS[:2])
                volume = rng.choice((0.1, 0.2, 0.5))
                assert mt5.order_send(action=1, symbol=symbol, volume=volume, type=rng.randint(0, 1)).retcode == 10009
            else:
                position = rng.choice(open_now)
                volume = position.volume if kind == "close" else round(position.volume / 2, 2)
                if volume >= 0.01:
                    mt5.control("close_position", ticket=position.ticket, volume=volume)
        far = datetime(2100, 1, 1, tzinfo=UTC)
        deals = answered(mt5.history_deals_get(datetime(2000, 1, 1, tzinfo=UTC), far))
        orders = answered(mt5.history_orders_get(datetime(2000, 1, 1, tzinfo=UTC), far))
        assert len(deals) > 50 and len(orders) > 50
        for order in {d.order for d in deals if d.order}:
            assert answered(mt5.history_deals_get(ticket=order)) == tuple(d for d in deals if d.order == order)
        positions = {d.position_id for d in deals if d.position_id}
        for position_id in positions:
            assert answered(mt5.history_deals_get(position=position_id)) == tuple(
                d for d in deals if d.position_id == position_id
            )
            by_position = answered(mt5.history_orders_get(position=position_id))
            assert sorted(by_position) == sorted(o for o in orders if o.position_id == position_id)
            assert by_position[0].ticket == position_id  # the order that opened it first
    finally:
        mt5.close()
