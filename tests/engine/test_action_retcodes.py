"""Every trade server answer of DTMS_SPEC.md §4 handled as specified: transient ones retried, permanent ones
stopped and journaled as failures, 10012 checked against the terminal so a done close is never sent twice."""

from __future__ import annotations

import pytest

from app.engine.model import ActionKind, ActionOutcome
from app.runtime import Services

from .conftest import set_price
from .test_protection import R, advance, buy_with_sl, position

TRANSIENT = [10004, 10020, 10021, 10024, 10031]
PERMANENT = [10016, 10030]


async def inject(services: Services, retcode: int, count: int = 1, **extra: object) -> None:
    await services.gateway.control("inject_fault", kind="retcode", retcode=retcode, count=count, **extra)


@pytest.mark.parametrize("retcode", TRANSIENT)
async def test_transient_answer_is_retried_then_succeeds(ready: Services, retcode: int) -> None:
    ticket, entry = await buy_with_sl(ready, volume=0.3)
    await inject(ready, retcode, count=1)
    await set_price(ready, "EURUSD", round(entry + 1.5 * R, 5))
    await ready.engine.step()
    p = await position(ready, ticket)
    journal = [
        a for a in await ready.engine.journal(ticket) if a.kind in (ActionKind.BREAKEVEN, ActionKind.PARTIAL_TAKE)
    ]
    first = journal[-1]  # newest first: the oldest is the injected answer
    assert first.retcode == retcode and first.outcome is ActionOutcome.RETRYING
    assert any(a.outcome is ActionOutcome.SUCCESS for a in journal)
    assert p.sl == pytest.approx(entry + 0.1 * R, abs=1e-9) and p.volume == pytest.approx(0.15)


@pytest.mark.parametrize("retcode", PERMANENT)
async def test_permanent_answer_is_a_journaled_failure_not_a_success(ready: Services, retcode: int) -> None:
    ticket, entry = await buy_with_sl(ready)
    await inject(ready, retcode, count=1)
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()
    assert (await position(ready, ticket)).sl == pytest.approx(entry - R), "the failed change did not happen"
    trade = ready.engine.trade(ticket)
    assert not trade.breakeven_triggered, "a failed breakeven is not reported as done"
    (record,) = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.BREAKEVEN]
    assert record.retcode == retcode and record.outcome is ActionOutcome.FAILED and record.attempt == 1
    assert trade.last_action == "BREAKEVEN FAILED"
    await ready.engine.step()
    assert len([a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.BREAKEVEN]) == 1, (
        "not resent unchanged at the next cycle"
    )
    await advance(ready, 75)
    await ready.engine.step()
    assert (await position(ready, ticket)).sl == pytest.approx(entry + 0.1 * R, abs=1e-9), "tried again later"


async def test_frozen_answer_waits_for_the_next_cycle(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready)
    await inject(ready, 10029, count=1)
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()
    journal = await ready.engine.journal(ticket)
    assert [(a.retcode, a.outcome) for a in journal] == [(10029, ActionOutcome.RETRYING)]
    await ready.engine.step()
    assert (await position(ready, ticket)).sl == pytest.approx(entry + 0.1 * R, abs=1e-9)


async def test_timeout_with_the_close_actually_done_is_not_sent_twice(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready, volume=0.4)
    await inject(ready, 10012, count=1, executed=True, action=1)
    await set_price(ready, "EURUSD", round(entry + 1.5 * R, 5))
    await ready.engine.step()
    await advance(ready, 30)
    await ready.engine.step()
    assert (await position(ready, ticket)).volume == pytest.approx(0.2), "closed once, not twice"
    partials = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.PARTIAL_TAKE]
    assert len(partials) == 1
    assert partials[0].retcode == 10012 and partials[0].outcome is ActionOutcome.SUCCESS
    assert "was done" in partials[0].detail
    deals = await ready.gateway.history_deals(position=ticket)
    assert sum(1 for d in deals if d.entry == 1) == 1


async def test_timeout_without_the_deal_done_is_sent_again(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready, volume=0.4)
    await inject(ready, 10012, count=1, executed=False, action=1)
    await set_price(ready, "EURUSD", round(entry + 1.5 * R, 5))
    await ready.engine.step()
    assert (await position(ready, ticket)).volume == pytest.approx(0.2)
    partials = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.PARTIAL_TAKE]
    assert [a.outcome for a in reversed(partials)] == [ActionOutcome.RETRYING, ActionOutcome.SUCCESS]


async def test_algo_trading_disabled_is_not_sent_and_not_a_success(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready)
    await ready.gateway.control("inject_fault", kind="algo_disabled")
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()
    # the terminal shows Algo Trading off: the permission rail blocks sending and says why; nothing is sent
    journal = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.BREAKEVEN]
    assert all(a.outcome is ActionOutcome.NOT_SENT for a in journal)
    rails = {r.rail.value: r for r in ready.engine.health().rails}
    assert rails["trading_permission"].tripped and "Algo Trading" in rails["trading_permission"].detail
    assert not ready.engine.trade(ticket).breakeven_triggered
