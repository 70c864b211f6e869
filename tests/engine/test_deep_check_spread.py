"""Deep checks at a bar close spread over the following cycles when they do not fit one cycle's budget."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine.model import ActionKind, Trade
from app.runtime import Services

from .conftest import quote, set_price
from .test_deep_check import R, advance, deep, hold_and_buy


async def test_checks_that_do_not_fit_a_cycle_come_in_the_next_cycles_once_each(ready: Services) -> None:
    tickets = await hold_and_buy(ready, count=4)
    deep(ready).budget_s, deep(ready).min_checks = 0.0, 1  # one check per cycle
    await advance(ready, 301)  # the bar closes: one trade checked, three wait
    checked = [t for t in tickets if ready.engine.trade(t).last_deep_check_at is not None]
    assert len(checked) == 1 and deep(ready).checks == 1
    for expected in (2, 3, 4):
        await advance(ready, 2)  # same bar: the next waiting trade, before any other
        assert deep(ready).checks == expected
    assert all(ready.engine.trade(t).last_deep_check_at is not None for t in tickets)
    await advance(ready, 2)
    assert deep(ready).checks == 4  # each once on these bars


async def test_profit_protection_runs_in_every_cycle_while_checks_wait(ready: Services) -> None:
    tickets = await hold_and_buy(ready, count=3)
    deep(ready).budget_s, deep(ready).min_checks = 0.0, 1
    await advance(ready, 301)
    assert deep(ready).checks == 1
    bid, ask = await quote(ready, "EURUSD")
    await set_price(ready, "EURUSD", round(bid + 1.3 * R, 5))  # profit past 1 R: breakeven for every trade
    await ready.engine.step()
    for ticket in tickets:
        kinds = [a.kind for a in await ready.engine.journal(ticket)]
        assert ActionKind.BREAKEVEN in kinds, "profit protection waited behind deep checks"
    assert deep(ready).checks == 2


async def test_a_trade_checked_from_the_line_is_not_looked_at_again_until_its_next_bar(
    ready: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = await hold_and_buy(ready, count=4)
    check = deep(ready)
    looked: list[int] = []
    original = check._check

    async def counted(trade: Trade, *args: Any) -> int:
        looked.append(trade.ticket)
        return await original(trade, *args)

    monkeypatch.setattr(check, "_check", counted)
    check.budget_s, check.min_checks = 0.0, 1
    await advance(ready, 301)  # the bar closes: one checked, three wait in line
    for _ in range(5):
        await advance(ready, 2)
    assert sorted(looked) == sorted(tickets), "a trade was looked at again on the bars its check already scored"


async def test_the_line_is_kept_in_order_across_bar_closes(ready: Services) -> None:
    tickets = await hold_and_buy(ready, count=3)
    check = deep(ready)
    check.budget_s, check.min_checks = 0.0, 1
    await advance(ready, 301)  # bar 1: the first checked, two wait
    first = [t for t in tickets if ready.engine.trade(t).last_deep_check_at is not None]
    await advance(ready, 300)  # bar 2 while two still wait from bar 1: they come first, once each
    await advance(ready, 2)
    checked = [ready.engine.trade(t).last_deep_check_at for t in tickets]
    assert all(at is not None for at in checked) and check.checks == 3
    assert first == [tickets[0]]


async def test_a_cycle_gives_its_checks_about_what_the_rest_of_it_costs(
    ready: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.engine.cycle import CHECK_BUDGET_LEAST_S, CHECK_BUDGET_MOST_S

    await hold_and_buy(ready, count=2)
    check = deep(ready)
    budgets: list[float] = []
    original = check.after_fast_cycle

    async def recorded(groups: Any, positions: Any, now: float, budget_s: float) -> int:
        budgets.append(budget_s)
        return await original(groups, positions, now, budget_s)

    monkeypatch.setattr(check, "after_fast_cycle", recorded)
    for _ in range(3):
        await advance(ready, 2)
    assert len(budgets) == 3
    # cheap cycles: about the least (less only what a cycle ran over the average), never more than the most
    assert all(CHECK_BUDGET_LEAST_S / 2 <= b <= CHECK_BUDGET_MOST_S for b in budgets), budgets
    ready.engine.cycle._work_s = 1.0  # cycles that cost a second: the checks still get no more than the most
    await advance(ready, 2)
    assert budgets[-1] == CHECK_BUDGET_MOST_S


async def test_each_cycle_names_the_trades_it_scored(ready: Services) -> None:
    """The window compares only these scores each cycle: a trade scored and left out would keep a stale score."""
    from app.engine.events import EventKind

    tickets = await hold_and_buy(ready, count=3)
    scored: list[tuple[int, ...]] = []
    ready.engine.subscribe(lambda e: scored.append(e.payload["scored"]) if e.kind is EventKind.CYCLE else None)
    deep(ready).budget_s, deep(ready).min_checks = 0.0, 1  # one check per cycle
    await advance(ready, 301)
    for _ in range(3):
        await advance(ready, 2)
    checked = [c for c in scored if c]
    assert all(len(c) == 1 for c in checked) and sorted(c[0] for c in checked) == sorted(tickets)
    assert scored[-1] == (), "nothing scored: nothing named"
    assert [c[0] for c in checked] == sorted(tickets, key=lambda t: ready.engine.trade(t).last_deep_check_at or 0.0), (
        "each named in the cycle that scored it"
    )


async def test_a_cycle_whose_own_work_ran_over_leaves_its_checks_that_much_less(ready: Services) -> None:
    from app.engine.cycle import CHECK_BUDGET_LEAST_S

    cycle = ready.engine.cycle
    cycle._work_s = 0.02
    assert cycle._check_budget(0.02) == pytest.approx(0.02)
    cycle._work_s = 0.02
    assert cycle._check_budget(0.01) == pytest.approx(0.018)  # a cheap cycle: the average, no more
    cycle._work_s = 0.02
    budget = cycle._check_budget(0.03)  # 10 ms over: a bar close's new bars
    assert 0.03 + budget == pytest.approx(2 * cycle._work_s), "the cycle with its checks costs twice the average"
    cycle._work_s = 0.02
    assert cycle._check_budget(0.2) == 0.0, "far over: only the few checks every cycle makes"
    cycle._work_s = 0.002  # a small desk: the usual budget is the least, and an overrun still counts against it
    assert cycle._check_budget(0.002) == pytest.approx(CHECK_BUDGET_LEAST_S)
    cycle._work_s = 0.002
    budget = cycle._check_budget(0.007)  # 5 ms over
    assert budget == pytest.approx(CHECK_BUDGET_LEAST_S - 0.8 * 0.005)
