"""Book-keeping invariants of the simulated broker under random sequences of trades and price moves."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import FAR, answered, open_terminal

SYMBOLS = ("EURUSD", "USDJPY", "XAUUSD")

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("open"), st.sampled_from(SYMBOLS), st.sampled_from((0, 1)), st.integers(min_value=1, max_value=50)
        ),
        st.tuples(st.just("close"), st.integers(min_value=0, max_value=30), st.integers(min_value=1, max_value=50)),
        st.tuples(st.just("move"), st.sampled_from(SYMBOLS), st.floats(min_value=-0.01, max_value=0.01)),
    ),
    min_size=1,
    max_size=25,
)


@pytest.fixture(scope="module")
def mt5_pair():  # noqa: ANN201
    terminals = {
        mode: open_terminal(margin_mode=mode, balance=10_000_000.0)
        for mode in (c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING, c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING)
    }
    yield terminals
    for terminal in terminals.values():
        terminal.close()


def _play(mt5: SimulatedTerminal, plan: list[tuple]) -> None:
    for step in plan:
        if step[0] == "open":
            _, symbol, side, lots = step
            mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol=symbol, volume=lots / 100, type=side)
        elif step[0] == "close":
            _, index, lots = step
            positions = mt5.positions_get()
            if positions:
                position = positions[index % len(positions)]
                mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol=position.symbol, type=1 - position.type,
                               volume=min(lots / 100, position.volume), position=position.ticket)  # fmt: skip
        else:
            _, symbol, change = step
            bid = mt5.symbol_info_tick(symbol).bid
            mt5.control("set_price", symbol=symbol, bid=round(bid * (1 + change), mt5.symbol_info(symbol).digits))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
def test_books_stay_consistent(mt5_pair: dict[int, SimulatedTerminal], plan: list[tuple]) -> None:
    """Whatever is traded: equity = balance + the positions' profits, the balance is the sum of the deals,
    positions_get() agrees with positions_get(ticket=), each position's deals net to its volume, and a netting
    account holds at most one position per symbol."""
    for mode, mt5 in mt5_pair.items():
        _play(mt5, plan)
        positions = mt5.positions_get()
        assert positions == tuple(mt5.positions_get(ticket=p.ticket)[0] for p in positions)
        account = mt5.account_info()
        assert account.profit == pytest.approx(sum(p.profit for p in positions), abs=1e-6)
        assert account.equity == pytest.approx(account.balance + account.profit, abs=0.011)
        deals = answered(mt5.history_deals_get(0, FAR))
        assert account.balance == pytest.approx(sum(d.profit for d in deals), abs=0.01)
        for position in positions:
            signed = sum((d.volume if d.type == position.type else -d.volume)
                         for d in answered(mt5.history_deals_get(position=position.ticket)))  # fmt: skip
            assert signed == pytest.approx(position.volume)
        if mode == c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING:
            symbols = [p.symbol for p in positions]
            assert len(symbols) == len(set(symbols))
