"""Property test of the whole engine on the simulator: random price paths, random terminal faults and random
restarts, and what must hold whatever happens (DTMS_SPEC.md §1, §2, §4).

Each example runs two DTMS trades (a BUY on EURUSD, a SELL on GBPUSD, both on a drawn price path), a trade
owned by another strategy (USDJPY) and a position nobody handed over (XAUUSD), on a hedging or a netting
account, for 30 M5 bars of simulated time. Every order_send that reaches the terminal is recorded at the
transport, the one seam between the engine and the terminal. Invariants:

- nothing is ever sent for a position DTMS does not own;
- no stop loss of a DTMS trade ever moves to a riskier level;
- no transition's action is carried out twice (hedges, re-adds and closes counted in the terminal's deals,
  successful journal records counted per transition);
- no hedge is ever opened on a netting account;
- every order_send that failed is journaled as a failure, and nothing is journaled SUCCESS with a failing
  retcode (10012 only when the terminal shows the order was done).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import AppSettings
from app.engine.defense.actions import hedge_comment, readd_comment
from app.engine.model import ActionOutcome as O
from app.engine.model import ActionRecord, Direction, Transition
from app.engine.model import DefensiveState as S
from app.engine.registry import Registration
from app.engine.settings import AdoptionPolicy, AdoptionSettings, EngineSettings
from app.runtime import RuntimeOptions, Services
from app.terminal import constants as mt5
from app.terminal.retcodes import SUCCESS_RETCODES
from app.terminal.spec import TerminalKind
from app.terminal.transport import InProcessTransport
from app.terminal.worker import RequestKind, WorkerReply, WorkerRequest

from .conftest import SIM_START, no_sleep, open_position, quote

STEPS = 40
STEP_S = 300.0
VOLUME = 0.2
OWNED = {"EURUSD": Direction.BUY, "GBPUSD": Direction.SELL}
FOREIGN = {"USDJPY": ("BUY", "scalper"), "XAUUSD": ("SELL", None)}
SETTINGS = EngineSettings(adoption=AdoptionSettings(policy=AdoptionPolicy.NONE))
MAGIC = SETTINGS.execution.magic

FAULTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("retcode", {"retcode": mt5.TRADE_RETCODE_TIMEOUT, "executed": True}),
    ("retcode", {"retcode": mt5.TRADE_RETCODE_TIMEOUT, "executed": False}),
    ("retcode", {"retcode": mt5.TRADE_RETCODE_REQUOTE, "count": 2}),
    ("retcode", {"retcode": mt5.TRADE_RETCODE_INVALID_STOPS}),
    ("retcode", {"retcode": mt5.TRADE_RETCODE_FROZEN}),
    ("retcode", {"retcode": mt5.TRADE_RETCODE_CONNECTION, "count": 3}),
    ("ipc_timeout", {"function": "order_send"}),
    ("ipc_timeout", {"count": 2}),
    ("disconnect", {}),
)


@dataclass(frozen=True, slots=True)
class Send:
    """One order_send as the terminal saw it and answered it."""

    request: dict[str, Any]
    result: Any
    error: tuple[int, str]

    @property
    def retcode(self) -> int | None:
        return None if self.result is None else int(self.result.retcode)


class RecordingTransport(InProcessTransport):
    """The in-process terminal, with every order_send and its answer written down."""

    def __init__(self, spec: Any, sends: list[Send]) -> None:
        super().__init__(spec)
        self._sends = sends

    async def request(self, request: WorkerRequest, deadline: float) -> WorkerReply:
        reply = await super().request(request, deadline)
        if request.kind is RequestKind.CALL and request.name == "order_send" and request.args:
            self._sends.append(Send(request=dict(request.args[0]), result=reply.value, error=reply.error))
        return reply


@dataclass(slots=True, kw_only=True)
class Run:
    margin_mode: int
    sends: list[Send] = field(default_factory=list)
    owned: dict[int, Direction] = field(default_factory=dict)
    foreign: dict[int, Any] = field(default_factory=dict)  # ticket -> the position as opened
    stops: dict[int, list[float]] = field(default_factory=dict)  # ticket -> SL seen after every step
    journal: list[ActionRecord] = field(default_factory=list)
    transitions: dict[int, list[Transition]] = field(default_factory=dict)
    deals: tuple[Any, ...] = ()
    positions: tuple[Any, ...] = ()


async def open_recorded(data_dir: Path, run: Run) -> Services:
    app_settings = AppSettings(engine=SETTINGS)
    app_settings = replace(app_settings, terminal=replace(app_settings.terminal, sim_margin_mode=run.margin_mode))
    options = RuntimeOptions(
        data_dir=data_dir,
        settings=app_settings,
        terminal=TerminalKind.SIM,
        sim_speed=0.0,
        sim_start=SIM_START,
        in_process=True,
    )
    services = await Services.open(
        options, transport=RecordingTransport(options.terminal_spec(), run.sends), sleep=no_sleep, autorun=False
    )
    assert await services.engine.start()
    return services


async def faults_off(services: Services) -> None:
    await services.gateway.control("random_faults", seed=0, probability=0.0, kinds=["ipc_timeout"])


async def until_ready(services: Services) -> None:
    """A fault during recovery leaves the reconnection to a task of the engine: let it finish."""
    for _ in range(500):
        if services.engine.ready:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"engine not ready: {services.engine.lifecycle}")


async def play(
    data_dir: Path,
    run: Run,
    path: list[tuple[float, float]],
    r_pips: int,
    faults: dict[int, tuple[str, dict[str, Any]]],
    restarts: set[int],
    noise: float,
    seed: int,
) -> None:
    services = await open_recorded(data_dir, run)
    try:
        for symbol, direction in OWNED.items():
            bid, ask = await quote(services, symbol)
            points = [(minute * 60, round(bid * (1 + pct / 100), 5)) for minute, pct in path]
            await services.gateway.control("play_path", symbol=symbol, points=points)
            sl = round(ask - r_pips * 1e-4, 5) if direction is Direction.BUY else round(bid + r_pips * 1e-4, 5)
            ticket = await open_position(services, symbol, direction.value, VOLUME, sl=sl)
            await services.engine.register(Registration(ticket=ticket))
            run.owned[ticket] = direction
            run.stops[ticket] = [sl]
        for symbol, (side, strategy) in FOREIGN.items():
            ticket = await open_position(services, symbol, side, 0.1)
            if strategy is not None:
                await services.engine.register(Registration(ticket=ticket, strategy_type=strategy))
            run.foreign[ticket] = (await services.gateway.positions(ticket=ticket))[0]
        for step in range(STEPS):
            if step in restarts:
                await services.close()
                services = await open_recorded(data_dir, run)
            if noise:
                await services.gateway.control(
                    "random_faults", seed=seed + step, probability=noise, kinds=["ipc_timeout", "disconnect", "retcode"]
                )
            if step in faults:
                kind, params = faults[step]
                await services.gateway.control("inject_fault", kind=kind, **params)
            await services.gateway.control("advance", seconds=STEP_S)
            await services.engine.step()
            await faults_off(services)
            await until_ready(services)
            if not services.gateway.connected:
                await services.engine.step()  # a fault hit the last call of the step: the next one reconnects
                await until_ready(services)
            for position in await services.gateway.positions():
                if int(position.ticket) in run.owned:
                    run.stops[int(position.ticket)].append(float(position.sl))
        await services.gateway.control("clear_faults")
        run.journal = sorted(await services.engine.repository.actions(limit=100_000), key=lambda a: a.id or 0)
        run.transitions = {t: await services.engine.transitions(t) for t in run.owned}
        run.deals = await services.gateway.history_deals(0, int(services.engine.clock.now()) + 60)
        run.positions = await services.gateway.positions()
    finally:
        await services.close()


# --- the invariants ---------------------------------------------------------------------------------------


def check_foreign_positions_untouched(run: Run) -> None:
    own_positions = set(run.owned) | {int(d.position_id) for d in run.deals if str(d.comment).startswith("DTMS_")}
    own_comments = {hedge_comment(t) for t in run.owned} | {readd_comment(t) for t in run.owned}
    for send in run.sends:
        assert send.request["symbol"] in OWNED, send
        if "position" in send.request:
            assert send.request["position"] in own_positions, send
        else:
            assert send.request.get("comment") in own_comments, send
    assert not [a for a in run.journal if a.ticket in run.foreign]
    now = {int(p.ticket): p for p in run.positions}
    for ticket, opened in run.foreign.items():
        assert (now[ticket].volume, now[ticket].sl, now[ticket].tp) == (opened.volume, opened.sl, opened.tp)


def check_stops_never_riskier(run: Run) -> None:
    for ticket, stops in run.stops.items():
        ordered = stops if run.owned[ticket] is Direction.BUY else [-s for s in stops]
        assert all(later >= earlier - 1e-9 for earlier, later in zip(ordered, ordered[1:])), (ticket, stops)


def check_each_transition_acts_once(run: Run) -> None:
    for ticket, transitions in run.transitions.items():
        moves = Counter((t.from_state, t.to_state) for t in transitions)
        into = Counter(t.to_state for t in transitions)
        opened = Counter(str(d.comment) for d in run.deals if int(d.entry) == mt5.DEAL_ENTRY_IN)
        assert opened[hedge_comment(ticket)] <= into[S.HEDGED], (ticket, transitions)
        assert opened[readd_comment(ticket)] <= moves[(S.RECOVERING, S.HEALTHY)], (ticket, transitions)
        reductions = [
            d
            for d in run.deals
            if int(d.position_id) == ticket and int(d.entry) == mt5.DEAL_ENTRY_OUT and int(d.magic) == MAGIC
        ]
        # one partial take, one close per WARNING_L2 and per HEDGED, and the final close
        assert len(reductions) <= 2 + moves[(S.WARNING_L1, S.WARNING_L2)] + into[S.HEDGED], (ticket, transitions)
    done = Counter(
        (a.ticket, a.at, a.kind, a.request.get("position")) for a in run.journal if a.outcome is O.SUCCESS and a.request
    )
    assert max(done.values(), default=0) <= 1, [key for key, count in done.items() if count > 1]


def check_no_hedge_on_netting(run: Run) -> None:
    if run.margin_mode == mt5.ACCOUNT_MARGIN_MODE_RETAIL_NETTING:
        assert not [s for s in run.sends if str(s.request.get("comment", "")).startswith("DTMS_HEDGE_")]
        assert not [d for d in run.deals if str(d.comment).startswith("DTMS_HEDGE_")]


def _key(request: dict[str, Any]) -> str:
    return json.dumps(request, sort_keys=True)


def _verified(record: ActionRecord) -> bool:
    """A SUCCESS without a success retcode: only when the answer was lost or 10012, and the terminal showed
    the order was done."""
    return record.retcode in (None, mt5.TRADE_RETCODE_TIMEOUT) and "shows it was done" in record.detail


def check_failures_journaled_as_failures(run: Run) -> None:
    by_request: dict[str, list[ActionRecord]] = {}
    for record in run.journal:
        if record.request:
            by_request.setdefault(_key(record.request), []).append(record)
    for send in run.sends:
        if send.retcode in SUCCESS_RETCODES:
            continue
        # the journal keeps the retcode, or none when the answer itself was lost
        records = by_request.get(_key(send.request), [])
        failures = [r for r in records if r.outcome is not O.SUCCESS] + [r for r in records if _verified(r)]
        match = next((r for r in failures if r.retcode == send.retcode), None)
        match = match or next((r for r in failures if r.retcode is None), None)
        assert match is not None, (send, records)
        records.remove(match)
    for record in run.journal:
        if record.outcome is not O.SUCCESS or record.retcode in SUCCESS_RETCODES:
            continue
        if not record.request:  # a note (a transition settled, an outside change seen): nothing was sent
            assert record.retcode is None, record
            continue
        assert _verified(record), record
        if record.request.get("action") == mt5.TRADE_ACTION_DEAL:
            assert _deal_for(run, record), record


def _deal_for(run: Run, record: ActionRecord) -> bool:
    """The terminal's history holds the deal a 10012 answer hid."""
    request = record.request
    for deal in run.deals:
        if abs(float(deal.time_msc) / 1000 - record.at) >= 1.0 or abs(float(deal.volume) - request["volume"]) > 1e-9:
            continue
        if "position" in request and int(deal.position_id) == request["position"]:
            return True
        if "position" not in request and str(deal.comment) == request.get("comment"):
            return True
    return False


# --- the test ---------------------------------------------------------------------------------------------

legs = st.lists(st.tuples(st.integers(10, 45), st.floats(-0.5, 0.5, allow_nan=False)), min_size=2, max_size=6)


def as_path(drawn: list[tuple[int, float]]) -> list[tuple[float, float]]:
    path, minute, pct = [(0.0, 0.0)], 0.0, 0.0
    for length, change in drawn:
        minute, pct = minute + length, pct + change
        path.append((minute, pct))
    return path


@pytest.mark.timeout(300)  # about 20 s alone; a loaded machine (or shrinking a failure) takes longer
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    margin_mode=st.sampled_from([mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING, mt5.ACCOUNT_MARGIN_MODE_RETAIL_NETTING]),
    drawn=legs,
    r_pips=st.sampled_from([30, 100, 300]),
    faults=st.dictionaries(st.integers(0, STEPS - 1), st.sampled_from(FAULTS), max_size=4),
    restarts=st.sets(st.integers(1, STEPS - 1), max_size=2),
    noise=st.sampled_from([0.0, 0.0, 0.02]),
    seed=st.integers(0, 10_000),
)
async def test_whatever_the_market_and_the_terminal_do_dtms_keeps_its_promises(
    margin_mode: int,
    drawn: list[tuple[int, float]],
    r_pips: int,
    faults: dict[int, tuple[str, dict[str, Any]]],
    restarts: set[int],
    noise: float,
    seed: int,
) -> None:
    run = Run(margin_mode=margin_mode)
    with tempfile.TemporaryDirectory() as data_dir:
        await play(Path(data_dir), run, as_path(drawn), r_pips, faults, restarts, noise, seed)
    check_foreign_positions_untouched(run)
    check_stops_never_riskier(run)
    check_each_transition_acts_once(run)
    check_no_hedge_on_netting(run)
    check_failures_journaled_as_failures(run)
