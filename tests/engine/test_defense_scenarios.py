"""Every transition of DTMS_SPEC.md §2.2 reached on the simulator by a scripted price path, on a hedging and
on a netting account: live scoring (the real deep check on the simulator's bars), real orders, real journal.

A walk opens a BUY on EURUSD with a far SL (R = 300 pips, so profit protection stays out of the way and
the SL is never reached), hands it to DTMS, plays a price path and steps the engine once per M5 bar on the
simulated clock. Right after every step in which the trade changed state it keeps a :class:`Moment`: the
transition as stored, a copy of the trade, every EURUSD position in the terminal, the price, the ATR the
deep check used and the journal records of that transition. The simulator's seed and start are fixed, so a
walk is deterministic: each path is walked once per account kind and read by the tests of its transitions.
Every transition here is reached through live scoring; none is driven by a scripted score.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.engine.deep_check import DefenseDeepCheck
from app.engine.defense.actions import hedge_comment, readd_comment
from app.engine.defense.rules import DefenseSettings
from app.engine.model import ActionKind as A
from app.engine.model import ActionOutcome as O
from app.engine.model import ActionRecord, Trade, Transition
from app.engine.model import DefensiveState as S
from app.engine.registry import Registration
from app.runtime import Services
from app.terminal import constants as mt5

from .conftest import engine_settings, open_position, open_services, quote

SYMBOL = "EURUSD"
VOLUME = 0.2
R = 0.03
STEP_S = 300.0
DONE = mt5.TRADE_RETCODE_DONE
FLAT_TIMER_S = 75 * 60
RECOVERY_TIMER_S = 30 * 60


@dataclass(frozen=True, slots=True, kw_only=True)
class PricePath:
    """Bid in % of the starting bid at minute marks, linear in between. The trade is opened
    ``entry_offset_pct`` away from the starting bid (negative: a BUY already in profit when the path starts)."""

    name: str
    knots: tuple[tuple[float, float], ...]
    entry_offset_pct: float = 0.0
    defense: DefenseSettings = DefenseSettings()


@dataclass(frozen=True, slots=True, kw_only=True)
class Moment:
    transition: Transition
    trade: Trade
    positions: tuple[Any, ...]
    bid: float
    ask: float
    atr: float
    records: tuple[ActionRecord, ...]

    def position(self, ticket: int | None) -> Any | None:
        return next((p for p in self.positions if int(p.ticket) == ticket), None)

    def outcomes(self) -> list[tuple[A, O, int | None]]:
        return [(r.kind, r.outcome, r.retcode) for r in self.records]


@dataclass(slots=True, kw_only=True)
class Walk:
    path: PricePath
    margin_mode: int
    ticket: int
    entry: float
    moments: list[Moment] = field(default_factory=list)
    archived: Trade | None = None
    deals: tuple[Any, ...] = ()

    @property
    def hedging(self) -> bool:
        return self.margin_mode == mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING

    def at(self, from_state: S, to_state: S) -> Moment:
        went = [(m.transition.from_state, m.transition.to_state) for m in self.moments]
        found = [m for m, step in zip(self.moments, went) if step == (from_state, to_state)]
        assert found, f"{self.path.name} (margin mode {self.margin_mode}) never went {from_state} -> {to_state}: {went}"
        return found[0]

    def before(self, moment: Moment) -> Moment:
        index = self.moments.index(moment)
        assert index > 0
        return self.moments[index - 1]

    def deals_at(self, transition: Transition) -> list[Any]:
        return [d for d in self.deals if abs(float(d.time_msc) / 1000 - transition.at) < 1.0]


FALL = PricePath(name="fall", knots=((0, 0.0), (140, -0.28), (230, -0.30)))
REBOUND = PricePath(name="rebound", knots=((0, 0.0), (110, -0.22), (170, 0.10)))
PULLBACK_IN_PROFIT = PricePath(name="pullback", knots=((0, 0.0), (120, -0.24), (160, -0.24)), entry_offset_pct=-0.3)
#: The hedge's SL 10 ATR away instead of 0.5: a rebound strong enough to break structure upwards would
#: otherwise stop the hedge out first (see the relapse path, where that happens).
RECOVERY = PricePath(
    name="recovery",
    knots=((0, 0.0), (140, -0.28), (150, -0.28), (165, 0.10), (260, 0.40)),
    defense=DefenseSettings(hedge_sl_atr=10.0),
)
RELAPSE = PricePath(
    name="relapse", knots=((0, 0.0), (140, -0.28), (160, 0.30), (170, 0.30), (195, -0.05), (230, -0.05))
)
CRASH = PricePath(name="crash", knots=((0, 0.0), (120, -0.24), (125, -0.24), (135, -0.90), (160, -0.90)))

_walks: dict[tuple[str, int], Walk] = {}


async def walked(path: PricePath, margin_mode: int, root: Path) -> Walk:
    """The walk of ``path`` on an account of ``margin_mode`` (walked once, then shared)."""
    key = (path.name, margin_mode)
    if key not in _walks:
        _walks[key] = await _walk(path, margin_mode, root / f"{path.name}-{margin_mode}")
    return _walks[key]


async def _walk(path: PricePath, margin_mode: int, data_dir: Path) -> Walk:
    services = await open_services(data_dir, engine_settings(defense=path.defense), margin_mode=margin_mode)
    try:
        assert await services.engine.start()
        start_bid, _ = await quote(services, SYMBOL)
        if path.entry_offset_pct:
            offset_bid = round(start_bid * (1 + path.entry_offset_pct / 100), 5)
            await services.gateway.control("set_price", symbol=SYMBOL, bid=offset_bid)
        _, ask = await quote(services, SYMBOL)
        ticket = await open_position(services, SYMBOL, "BUY", VOLUME, sl=round(ask - R, 5))
        await services.engine.register(Registration(ticket=ticket))
        points = [(minute * 60.0, round(start_bid * (1 + pct / 100), 5)) for minute, pct in path.knots]
        await services.gateway.control("play_path", symbol=SYMBOL, points=points)
        walk = Walk(path=path, margin_mode=margin_mode, ticket=ticket, entry=ask)
        seen = 0
        for _ in range(math.ceil(path.knots[-1][0] * 60 / STEP_S) + 1):
            await services.gateway.control("advance", seconds=STEP_S)
            await services.engine.step()
            trade = services.engine.trade(ticket)
            if trade is None:
                walk.archived = await services.engine.find_trade(ticket)
                break
            transitions = await services.engine.transitions(ticket)
            for transition in transitions[seen:]:
                walk.moments.append(await _moment(services, trade, transition))
            seen = len(transitions)
        walk.deals = await services.gateway.history_deals(0, int(services.engine.clock.now()) + 60)
        return walk
    finally:
        await services.close()


async def _moment(services: Services, trade: Trade, transition: Transition) -> Moment:
    bid, ask = await quote(services, SYMBOL)
    data = services.engine.market.get(SYMBOL)
    check = services.engine.cycle.deep_check
    assert isinstance(check, DefenseDeepCheck) and data is not None
    atr = (await check.analysis(SYMBOL, data, services.engine.clock.now())).atr
    records = tuple(
        a for a in reversed(await services.engine.journal(trade.ticket, limit=1000)) if a.at == transition.at
    )
    return Moment(
        transition=transition,
        trade=copy.deepcopy(trade),
        bid=bid,
        ask=ask,
        atr=atr if math.isfinite(atr) else float(data.atr_m15 or 0.0),
        positions=await services.gateway.positions(symbol=SYMBOL),
        records=records,
    )


def volume_step_down(volume: float) -> float:
    return math.floor(volume / 0.01 + 1e-9) * 0.01


@pytest.fixture(
    params=[mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING, mt5.ACCOUNT_MARGIN_MODE_RETAIL_NETTING], ids=["hedging", "netting"]
)
def account(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def walks_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "defense-walks"


# --- HEALTHY <-> WARNING_L1 ---------------------------------------------------------------------------


async def test_healthy_to_warning_l1_tightens_the_sl_and_starts_the_flat_timer(account: int, walks_root: Path) -> None:
    walk = await walked(FALL, account, walks_root)
    moment = walk.at(S.HEALTHY, S.WARNING_L1)
    transition = moment.transition
    assert transition.score <= -2 and "<= -2" in transition.reason
    assert moment.trade.state is S.WARNING_L1 and moment.trade.warnings == 1
    assert moment.trade.flat_timer_until == transition.at + FLAT_TIMER_S
    tightened = round(moment.bid - 0.3 * R, 5)
    (position,) = moment.positions
    assert position.ticket == walk.ticket and position.volume == pytest.approx(VOLUME)
    assert position.sl == pytest.approx(tightened) and moment.trade.sl == position.sl
    assert moment.outcomes() == [(A.TIGHTEN, O.SUCCESS, DONE)]
    assert moment.records[0].request["sl"] == pytest.approx(tightened)


async def test_warning_l1_back_to_healthy_stops_the_flat_timer_and_sends_nothing(
    account: int, walks_root: Path
) -> None:
    walk = await walked(REBOUND, account, walks_root)
    warned = walk.at(S.HEALTHY, S.WARNING_L1)
    moment = walk.at(S.WARNING_L1, S.HEALTHY)
    assert moment.transition.score >= 0 and moment.transition.at > warned.transition.at
    assert warned.trade.flat_timer_until is not None and moment.trade.flat_timer_until is None
    assert moment.trade.state is S.HEALTHY and moment.records == ()
    (position,) = moment.positions
    assert position.volume == pytest.approx(VOLUME)
    assert position.sl == warned.position(walk.ticket).sl  # the tightened SL stays: never loosened


# --- WARNING_L1 <-> WARNING_L2 -----------------------------------------------------------------------


async def test_warning_l1_to_l2_closes_half_and_moves_the_sl_to_breakeven(account: int, walks_root: Path) -> None:
    walk = await walked(PULLBACK_IN_PROFIT, account, walks_root)
    moment = walk.at(S.WARNING_L1, S.WARNING_L2)
    assert moment.transition.score <= -4 and moment.bid > walk.entry  # in profit: breakeven is possible
    (position,) = moment.positions
    assert position.ticket == walk.ticket and position.volume == pytest.approx(VOLUME / 2)
    assert position.sl == pytest.approx(walk.entry)
    assert moment.trade.volume == pytest.approx(VOLUME / 2) and moment.trade.closed_volume == pytest.approx(VOLUME / 2)
    assert moment.outcomes() == [(A.PARTIAL_CLOSE, O.SUCCESS, DONE), (A.BREAKEVEN, O.SUCCESS, DONE)]
    close = moment.records[0].request
    assert (close["position"], close["type"], close["volume"]) == (walk.ticket, mt5.ORDER_TYPE_SELL, VOLUME / 2)
    (deal,) = walk.deals_at(moment.transition)
    assert (deal.entry, deal.position_id, deal.volume) == (mt5.DEAL_ENTRY_OUT, walk.ticket, pytest.approx(VOLUME / 2))


async def test_warning_l2_back_to_l1_sends_nothing(account: int, walks_root: Path) -> None:
    walk = await walked(PULLBACK_IN_PROFIT, account, walks_root)
    reduced = walk.at(S.WARNING_L1, S.WARNING_L2)
    moment = walk.at(S.WARNING_L2, S.WARNING_L1)
    assert moment.transition.score >= -2 and moment.records == () and walk.deals_at(moment.transition) == []
    assert moment.trade.state is S.WARNING_L1 and moment.trade.flat_timer_until == reduced.trade.flat_timer_until
    (position,) = moment.positions
    before = reduced.position(walk.ticket)
    assert (position.volume, position.sl) == (before.volume, before.sl)


# --- WARNING_L2 -> HEDGED ------------------------------------------------------------------------------


async def test_warning_l2_to_hedged_hedges_or_on_netting_closes_half_and_tightens(
    account: int, walks_root: Path
) -> None:
    walk = await walked(FALL, account, walks_root)
    moment = walk.at(S.WARNING_L2, S.HEDGED)
    reduced = walk.before(moment)
    assert (reduced.transition.from_state, reduced.transition.to_state) == (S.WARNING_L1, S.WARNING_L2)
    transition = moment.transition
    assert transition.score <= -6 or "VWAP flip" in transition.reason
    assert moment.trade.state is S.HEDGED and moment.trade.flat_timer_until == transition.at + FLAT_TIMER_S
    before = reduced.position(walk.ticket)
    own = moment.position(walk.ticket)
    assert own.type == mt5.POSITION_TYPE_BUY
    if walk.hedging:
        (hedge,) = [p for p in moment.positions if p.comment == hedge_comment(walk.ticket)]
        assert hedge.type == mt5.POSITION_TYPE_SELL and hedge.volume == pytest.approx(before.volume / 2)
        assert hedge.sl == pytest.approx(round(moment.bid + walk.path.defense.hedge_sl_atr * moment.atr, 5))
        assert moment.trade.hedge_ticket == hedge.ticket and "hedged" in transition.reason
        assert (own.volume, own.sl) == (before.volume, before.sl)
        assert moment.outcomes() == [(A.HEDGE, O.SUCCESS, DONE)]
        assert moment.records[0].request["comment"] == hedge_comment(walk.ticket)
    else:
        assert moment.positions == (own,) and moment.trade.hedge_ticket is None
        assert "netting account" in transition.reason
        assert own.volume == pytest.approx(volume_step_down(before.volume / 2))
        # the SL tightened at WARNING_L1, at a higher price, is tighter than 0.3 R behind today's price, so it
        # stays (test_defense_actions shows the netting tightening when it is tighter)
        assert round(moment.bid - 0.3 * R, 5) < before.sl and own.sl == before.sl
        assert moment.outcomes() == [(A.PARTIAL_CLOSE, O.SUCCESS, DONE)] and "already tighter" in transition.reason
        assert not [d for d in walk.deals if str(d.comment).startswith("DTMS_HEDGE_")]


# --- HEDGED -> CLOSED / RECOVERING -----------------------------------------------------------------------


async def test_hedged_closes_the_trade_and_its_hedge_when_the_flat_timer_expires(
    account: int, walks_root: Path
) -> None:
    walk = await walked(FALL, account, walks_root)
    hedged = walk.at(S.WARNING_L2, S.HEDGED)
    moment = walk.at(S.HEDGED, S.CLOSED)
    assert "flat timer expired" in moment.transition.reason
    assert moment.transition.at >= hedged.trade.flat_timer_until
    assert moment.positions == ()
    closes = [(A.CLOSE_HEDGE, O.SUCCESS, DONE)] if walk.hedging else []
    assert moment.outcomes() == [*closes, (A.CLOSE, O.SUCCESS, DONE)]
    assert walk.archived is not None and walk.archived.close_reason == "closed by DTMS"
    assert walk.archived.state is S.CLOSED and walk.archived.hedge_ticket is None


async def test_hedged_to_recovering_on_a_break_of_structure_closes_the_hedge(account: int, walks_root: Path) -> None:
    walk = await walked(RECOVERY, account, walks_root)
    hedged = walk.at(S.WARNING_L2, S.HEDGED)
    moment = walk.at(S.HEDGED, S.RECOVERING)
    transition = moment.transition
    assert "break of structure" in transition.reason
    assert moment.trade.recovery_timer_until == transition.at + RECOVERY_TIMER_S
    assert moment.trade.flat_timer_until is None and moment.trade.hedge_ticket is None
    own, before = moment.position(walk.ticket), hedged.position(walk.ticket)
    assert (own.volume, own.sl) == (before.volume, before.sl)
    if walk.hedging:
        assert hedged.trade.hedge_ticket is not None
        assert moment.position(hedged.trade.hedge_ticket) is None and moment.positions == (own,)
        assert moment.outcomes() == [(A.CLOSE_HEDGE, O.SUCCESS, DONE)]
        assert moment.records[0].request["position"] == hedged.trade.hedge_ticket
    else:
        assert moment.positions == (own,) and moment.records == ()
        assert "no hedge to close" in transition.reason


# --- RECOVERING -> HEALTHY / CLOSED ---------------------------------------------------------------------


async def test_recovering_to_healthy_re_adds_half_the_volume_closed_earlier(account: int, walks_root: Path) -> None:
    walk = await walked(RECOVERY, account, walks_root)
    recovering = walk.at(S.HEDGED, S.RECOVERING)
    moment = walk.at(S.RECOVERING, S.HEALTHY)
    transition = moment.transition
    assert transition.score >= 1 and transition.at >= recovering.trade.recovery_timer_until
    assert recovering.trade.closed_volume > 0
    added = volume_step_down(recovering.trade.closed_volume / 2)
    before = recovering.position(walk.ticket)
    assert moment.outcomes() == [(A.READD, O.SUCCESS, DONE)]
    request = moment.records[0].request
    assert (request["type"], request["volume"]) == (mt5.ORDER_TYPE_BUY, pytest.approx(added))
    assert request["comment"] == readd_comment(walk.ticket)
    assert moment.trade.closed_volume == 0.0 and moment.trade.recovery_timer_until is None
    if walk.hedging:
        (readd,) = [p for p in moment.positions if p.comment == readd_comment(walk.ticket)]
        assert readd.type == mt5.POSITION_TYPE_BUY and readd.volume == pytest.approx(added)
        assert moment.position(walk.ticket).volume == pytest.approx(before.volume)
    else:
        (own,) = moment.positions
        assert own.ticket == walk.ticket and own.volume == pytest.approx(before.volume + added)
        assert moment.trade.volume == pytest.approx(own.volume)


async def test_recovering_closes_everything_when_its_timer_expires_without_recovery(
    account: int, walks_root: Path
) -> None:
    walk = await walked(RELAPSE, account, walks_root)
    recovering = walk.at(S.HEDGED, S.RECOVERING)
    moment = walk.at(S.RECOVERING, S.CLOSED)
    assert moment.transition.score < 1 and "recovery timer expired" in moment.transition.reason
    assert moment.transition.at >= recovering.trade.recovery_timer_until
    assert moment.positions == () and moment.outcomes() == [(A.CLOSE, O.SUCCESS, DONE)]
    assert walk.archived is not None and walk.archived.close_reason == "closed by DTMS"


# --- any -> CLOSED ----------------------------------------------------------------------------------------


async def test_change_of_character_against_the_trade_closes_everything(account: int, walks_root: Path) -> None:
    walk = await walked(CRASH, account, walks_root)
    moment = walk.at(S.WARNING_L2, S.CLOSED)
    assert "change of character" in moment.transition.reason
    assert moment.positions == () and moment.outcomes() == [(A.CLOSE, O.SUCCESS, DONE)]
    (deal,) = walk.deals_at(moment.transition)
    assert (deal.entry, deal.position_id, deal.reason) == (mt5.DEAL_ENTRY_OUT, walk.ticket, mt5.DEAL_REASON_EXPERT)
    assert walk.archived is not None and walk.archived.close_reason == "closed by DTMS"
