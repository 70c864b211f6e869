"""The simulated terminal's bulk position table answers what each position answers one by one."""

from __future__ import annotations

import random

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
