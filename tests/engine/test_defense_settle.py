"""Actions under way when the program stopped (or lost the terminal) are settled from what the terminal shows:
for every kind of pending action, done or not, the restart completes it exactly once, sends nothing again and
never journals DTMS's own change as a change made outside DTMS.

The program is stopped after it wrote the pending transition (and, in the "done" case, after the order went
through: the test makes the same change in the simulated terminal); the next start settles it during
recovery, before anything else looks at the positions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.config import AppSettings
from app.engine.defense.actions import PENDING_PREFIX, SETTLED, hedge_comment, readd_comment
from app.engine.defense.rules import Decision, DefenseAction, decide
from app.engine.defense.rules import DefenseActionKind as K
from app.engine.model import ActionKind as A
from app.engine.model import ActionOutcome as O
from app.engine.model import DefensiveState as S
from app.engine.model import Trade
from app.engine.registry import Registration
from app.errors import TemporaryError
from app.runtime import RuntimeOptions, Services
from app.terminal.spec import TerminalKind
from app.terminal.transport import InProcessTransport
from app.terminal.worker import RequestKind, WorkerReply, WorkerRequest

from .conftest import SIM_START, no_sleep, open_position, open_services, quote, set_price
from .test_defense import make_score

R = 0.0020
FLAT_S = 75 * 60.0
RECOVERY_S = 30 * 60.0


@dataclass(slots=True)
class Case:
    """One trade with a transition (or a profit-protection action) under way."""

    name: str
    ticket: int
    before: Trade
    hedge: int | None = None


async def _open(services: Services, volume: float = 1.0) -> Trade:
    _, ask = await quote(services, "EURUSD")
    ticket = await open_position(services, "EURUSD", "BUY", volume, sl=round(ask - R, 5))
    return (await services.engine.register(Registration(ticket=ticket))).trade


def _under_way(
    trade: Trade,
    to_state: S,
    *actions: DefenseAction,
    at: float,
    flat: float | None = None,
    recovery: float | None = None,
) -> None:
    """Write the transition into the trade as ``carry_out`` does before it sends anything."""
    decision = Decision(
        ticket=trade.ticket,
        from_state=trade.state,
        to_state=to_state,
        reason="test",
        score=-5.0,
        at=at,
        actions=actions,
        flat_timer_until=flat,
        recovery_timer_until=recovery,
    )
    pending = decision.as_dict() | {"unknown": [], "done": 0, "volume_before": trade.volume, "sl_before": trade.sl}
    trade.pending_action = PENDING_PREFIX + json.dumps(pending)


async def _hedge_for(services: Services, trade: Trade) -> int:
    return await open_position(services, "EURUSD", "SELL", 0.5, comment=hedge_comment(trade.ticket))


async def stop_with_everything_under_way(services: Services, done: bool) -> dict[str, Case]:
    """One trade per kind of pending action, saved as the program would have left it; with ``done`` the
    terminal has already carried each one out."""
    control = services.gateway.control
    bid, ask = await quote(services, "EURUSD")
    await set_price(services, "EURUSD", bid, ask)
    trades = {
        name: await _open(services)
        for name in (
            "tighten",
            "partial",
            "breakeven",
            "hedge",
            "close_hedge",
            "close_all",
            "readd",
            "partial_take",
            "trail",
        )
    }
    await set_price(services, "EURUSD", round(bid + 0.0010, 5))  # 5 pips in profit: breakeven is possible
    bid, _ = await quote(services, "EURUSD")
    now = services.engine.clock.now()
    cases: dict[str, Case] = {}

    trade = trades["tighten"]
    tightened = round(bid - 0.3 * R, 5)
    _under_way(trade, S.WARNING_L1, DefenseAction(kind=K.TIGHTEN, sl=tightened), at=now, flat=now + FLAT_S)
    if done:
        await control("modify_position", ticket=trade.ticket, sl=tightened)

    trade = trades["partial"]
    trade.state = S.WARNING_L1
    _under_way(trade, S.WARNING_L2, DefenseAction(kind=K.PARTIAL_CLOSE, volume=0.5), at=now)
    if done:
        await control("close_position", ticket=trade.ticket, volume=0.5)

    trade = trades["breakeven"]
    trade.state = S.WARNING_L1
    _under_way(trade, S.WARNING_L2, DefenseAction(kind=K.MOVE_SL_BREAKEVEN, sl=trade.entry), at=now)
    if done:
        await control("modify_position", ticket=trade.ticket, sl=trade.entry)

    trade = trades["hedge"]
    trade.state = S.WARNING_L2
    _under_way(
        trade, S.HEDGED, DefenseAction(kind=K.HEDGE, volume=0.5, sl=round(bid + 0.002, 5)), at=now, flat=now + FLAT_S
    )
    if done:
        await _hedge_for(services, trade)

    trade = trades["close_hedge"]
    hedge = await _hedge_for(services, trade)
    trade.state, trade.hedge_ticket = S.HEDGED, hedge
    _under_way(trade, S.RECOVERING, DefenseAction(kind=K.CLOSE_HEDGE), at=now, recovery=now + RECOVERY_S)
    if done:
        await control("close_position", ticket=hedge)
    cases["close_hedge"] = Case("close_hedge", trade.ticket, trade, hedge)

    trade = trades["close_all"]
    hedge = await _hedge_for(services, trade)
    trade.state, trade.hedge_ticket = S.HEDGED, hedge
    _under_way(trade, S.CLOSED, DefenseAction(kind=K.CLOSE_ALL), at=now)
    if done:
        await control("close_position", ticket=hedge)
        await control("close_position", ticket=trade.ticket)
    cases["close_all"] = Case("close_all", trade.ticket, trade, hedge)

    trade = trades["readd"]
    trade.state, trade.closed_volume = S.RECOVERING, 0.4
    _under_way(trade, S.HEALTHY, DefenseAction(kind=K.READD, volume=0.2, sl=trade.sl), at=now)
    if done:
        await open_position(services, "EURUSD", "BUY", 0.2, sl=trade.sl, comment=readd_comment(trade.ticket))

    trade = trades["partial_take"]
    trade.pending_action = A.PARTIAL_TAKE.value  # profit protection: written before the close is sent
    if done:
        await control("close_position", ticket=trade.ticket, volume=0.5)

    trade = trades["trail"]
    trade.pending_action = A.TRAIL.value  # profit protection: an SL move whose answer was lost
    if done:
        await control("modify_position", ticket=trade.ticket, sl=tightened)

    for name, trade in trades.items():
        cases.setdefault(name, Case(name, trade.ticket, trade))
        cases[name].before = Trade(**{f: getattr(trade, f) for f in trade.__dataclass_fields__})
    await services.repository.save_trades(list(trades.values()))
    return cases


def settled(records: list[Any], kind: A) -> list[tuple[O, str]]:
    return [(r.outcome, r.detail) for r in records if r.kind is kind]


@pytest.mark.parametrize("done", [True, False], ids=["done", "not-done"])
async def test_every_pending_action_is_settled_at_a_restart_and_never_sent_again(tmp_path: Path, done: bool) -> None:
    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()
        cases = await stop_with_everything_under_way(services, done)
        deals_before = (await services.gateway.control("state"))["deals"]
    finally:
        await services.close()

    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()  # recovery reconciles, and settles first
        engine = services.engine
        assert (await services.gateway.control("state"))["deals"] == deals_before  # nothing was sent again
        positions = {int(p.ticket): p for p in await services.gateway.positions()}
        yes = O.SUCCESS if done else O.NOT_SENT
        journal = {name: await engine.journal(case.ticket) for name, case in cases.items()}
        for name, records in journal.items():
            assert not [r for r in records if r.kind is A.EXTERNAL_CHANGE], (name, records)
        for name, case in cases.items():
            trade = engine.trade(case.ticket)
            if name == "close_all" and done:
                continue
            assert trade.pending_action is None, name
            assert (trade.volume, trade.sl) == (positions[case.ticket].volume, positions[case.ticket].sl), name

        tighten = engine.trade(cases["tighten"].ticket)
        assert tighten.state is S.WARNING_L1 and tighten.flat_timer_until is not None
        ((outcome, detail),) = settled(journal["tighten"], A.TIGHTEN)
        assert outcome is yes and detail.startswith(SETTLED)
        assert (tighten.sl > cases["tighten"].before.sl) is done

        partial = engine.trade(cases["partial"].ticket)
        assert partial.state is S.WARNING_L2 and settled(journal["partial"], A.PARTIAL_CLOSE)[0][0] is yes
        assert (partial.volume, partial.closed_volume) == ((0.5, 0.5) if done else (1.0, 0.0))

        breakeven = engine.trade(cases["breakeven"].ticket)
        assert breakeven.state is S.WARNING_L2 and settled(journal["breakeven"], A.BREAKEVEN)[0][0] is yes
        assert (breakeven.sl == breakeven.entry) is done

        hedged = engine.trade(cases["hedge"].ticket)
        hedges = [p for p in positions.values() if p.comment == hedge_comment(hedged.ticket)]
        assert hedged.state is S.HEDGED and len(hedges) == (1 if done else 0)
        assert hedged.hedge_ticket == (hedges[0].ticket if done else None)
        assert settled(journal["hedge"], A.HEDGE)[0][0] is yes

        recovering = engine.trade(cases["close_hedge"].ticket)
        assert recovering.state is S.RECOVERING and recovering.recovery_timer_until is not None
        assert (cases["close_hedge"].hedge in positions) is not done
        assert recovering.hedge_ticket == (None if done else cases["close_hedge"].hedge)
        assert settled(journal["close_hedge"], A.CLOSE_HEDGE)[0][0] is yes

        case = cases["close_all"]
        if done:  # settled, then archived in the same reconciliation
            assert engine.trade(case.ticket) is None
            archived = await engine.find_trade(case.ticket)
            assert archived.state is S.CLOSED and archived.close_reason == "closed by DTMS"
            assert case.hedge not in positions
        else:
            closing = engine.trade(case.ticket)
            assert closing.state is S.CLOSED and case.ticket in positions and case.hedge in positions
            ((outcome, detail),) = settled(journal["close_all"], A.CLOSE)
            assert outcome is O.NOT_SENT and "next check closes it" in detail

        readd = engine.trade(cases["readd"].ticket)
        readds = [p for p in positions.values() if p.comment == readd_comment(readd.ticket)]
        assert readd.state is S.HEALTHY and len(readds) == (1 if done else 0)
        assert readd.closed_volume == (0.0 if done else 0.4)
        assert settled(journal["readd"], A.READD)[0][0] is yes

        taken = engine.trade(cases["partial_take"].ticket)
        assert taken.partial_taken is done and taken.volume == (0.5 if done else 1.0)
        assert settled(journal["partial_take"], A.PARTIAL_TAKE)[0][0] is yes

        trailed = engine.trade(cases["trail"].ticket)
        assert (trailed.sl > cases["trail"].before.sl) is done
        assert settled(journal["trail"], A.TRAIL)[0][0] is yes

        transitions = {name: await engine.transitions(case.ticket) for name, case in cases.items()}
        assert all(len(t) == 1 for name, t in transitions.items() if name not in ("partial_take", "trail"))
    finally:
        await services.close()


class LosingTransport(InProcessTransport):
    """The in-process terminal, where the terminal can be made to stop answering at a chosen call."""

    def __init__(self, spec: Any) -> None:
        super().__init__(spec)
        self.lose_at: tuple[str, int] | None = None  # (function, how many of its calls still answer)

    async def request(self, request: WorkerRequest, deadline: float) -> WorkerReply:
        if request.kind is RequestKind.CALL and self.lose_at is not None and request.name == self.lose_at[0]:
            function, answering = self.lose_at
            if answering == 0:
                self.lose_at = None
                return WorkerReply(None, (-10005, "IPC timeout"), None)
            self.lose_at = (function, answering - 1)
        return await super().request(request, deadline)


async def test_a_terminal_lost_half_way_keeps_what_was_done_and_settles_the_rest(tmp_path: Path) -> None:
    """HEDGED -> CLOSED closes the hedge, then the trade. The terminal stops answering right after the hedge's
    close went through: that close is journaled from its own answer, the transition stays pending, and the
    next cycle settles the rest from the terminal (the trade is still open: not sent again blindly, the next
    check closes it) without taking anything for a change made outside DTMS."""
    options = RuntimeOptions(
        data_dir=tmp_path,
        settings=AppSettings(),
        terminal=TerminalKind.SIM,
        sim_speed=0.0,
        sim_start=SIM_START,
        in_process=True,
    )
    transport = LosingTransport(options.terminal_spec())
    services = await Services.open(options, transport=transport, sleep=no_sleep, autorun=False)
    try:
        assert await services.engine.start()
        trade = await _open(services)
        hedge = await _hedge_for(services, trade)
        now = services.engine.clock.now()
        trade.state, trade.hedge_ticket, trade.flat_timer_until = S.HEDGED, hedge, now
        bid, ask = await quote(services, "EURUSD")
        decision = decide(
            trade, make_score(-1.0, price=bid), now, services.engine.settings.defense, hedging_account=True
        )
        assert [a.kind for a in decision.actions] == [K.CLOSE_ALL]
        transport.lose_at = ("positions_get", 2)  # the hedge is looked up and closed; then no answer
        with pytest.raises(TemporaryError):
            await services.engine.defense.carry_out(
                trade,
                decision,
                rules=services.engine.market.get("EURUSD").rules,
                bid=bid,
                ask=ask,
                hedging_account=True,
            )
        stored = await services.engine.repository.load_trade(trade.ticket)
        assert stored.pending_action.startswith(PENDING_PREFIX) and stored.hedge_ticket is None
        journal = await services.engine.journal(trade.ticket)
        assert [(r.kind, r.outcome) for r in journal] == [(A.CLOSE_HEDGE, O.SUCCESS)]

        await services.engine.step()  # settles during reconciliation; the deep check of the same cycle closes
        journal = list(reversed(await services.engine.journal(trade.ticket)))
        assert [(r.kind, r.outcome) for r in journal] == [
            (A.CLOSE_HEDGE, O.SUCCESS),
            (A.CLOSE, O.NOT_SENT),
            (A.CLOSE, O.SUCCESS),
        ]
        assert journal[0].retcode == 10009 and journal[1].detail.startswith(SETTLED) and journal[2].retcode == 10009
        assert [(t.from_state, t.to_state) for t in await services.engine.transitions(trade.ticket)] == [
            (S.HEDGED, S.CLOSED)
        ]
        assert await services.gateway.positions() == ()
        closes = [d for d in await services.gateway.history_deals(position=hedge)] + [
            d for d in await services.gateway.history_deals(position=trade.ticket)
        ]
        assert sorted(int(d.entry) for d in closes) == [0, 0, 1, 1]  # each opened once, closed once
        await services.engine.step()
        assert (await services.engine.find_trade(trade.ticket)).close_reason == "closed by DTMS"
    finally:
        await services.close()
