"""Deep checks on the simulator: when they run (bar close, 15 min spacing, forced checks with their cooldown),
one analysis per symbol and bar shared by its trades, and the state machine acting through the engine."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

import pytest

from app.config import AppSettings
from app.engine.deep_check import DefenseDeepCheck
from app.engine.model import ActionKind, Direction
from app.engine.model import DefensiveState as S
from app.engine.registry import Registration
from app.engine.scoring.score import ScoringSettings, score_trade_with
from app.engine.scoring.vocab import ComponentName
from app.runtime import RuntimeOptions, Services
from app.terminal.spec import TerminalKind
from app.terminal.transport import InProcessTransport
from app.terminal.worker import RequestKind, WorkerReply, WorkerRequest

from .conftest import SIM_START, engine_settings, no_sleep, open_position, open_services, quote, set_price

R = 0.0020


async def hold_and_buy(services: Services, count: int = 1, **registration) -> list[int]:
    bid, ask = await quote(services, "EURUSD")
    await set_price(services, "EURUSD", bid, ask)
    tickets = []
    for _ in range(count):
        ticket = await open_position(services, "EURUSD", "BUY", 0.5, sl=round(ask - R, 5))
        await services.engine.register(Registration(ticket=ticket, **registration))
        tickets.append(ticket)
    return tickets


async def advance(services: Services, seconds: float) -> None:
    await services.gateway.control("advance", seconds=seconds)
    await services.engine.step()


def deep(services: Services) -> DefenseDeepCheck:
    check = services.engine.cycle.deep_check
    assert isinstance(check, DefenseDeepCheck)
    return check


async def test_checks_run_at_bar_closes_at_most_every_fifteen_minutes(ready: Services) -> None:
    (ticket,) = await hold_and_buy(ready)
    trade = ready.engine.trade(ticket)
    await advance(ready, 301)  # first bar close with the trade: checked
    assert deep(ready).checks == 1 and trade.last_deep_check_at is not None and trade.score_explanation
    first = trade.last_deep_check_at
    await advance(ready, 5)  # same bar
    await advance(ready, 300)  # next bar close, 5 min later
    await advance(ready, 300)  # 10 min
    assert deep(ready).checks == 1 and trade.last_deep_check_at == first
    await advance(ready, 300)  # 15 min
    assert deep(ready).checks == 2 and trade.last_deep_check_at > first
    await ready.engine.persist()  # figures, not decisions: written with the next flush
    stored = await ready.engine.repository.load_trade(ticket)
    assert stored.last_deep_check_at == trade.last_deep_check_at and stored.score == trade.score


async def test_a_forced_check_comes_early_on_new_bars_and_then_waits_for_its_cooldown(ready: Services) -> None:
    (ticket,) = await hold_and_buy(ready)
    trade = ready.engine.trade(ticket)
    await advance(ready, 301)
    assert deep(ready).checks == 1
    await set_price(ready, "EURUSD", round(trade.entry * 1.003, 5))  # 0.3 % from entry: the fast cycle's signal
    await advance(ready, 20)
    assert deep(ready).checks == 1  # the bars the last check scored: nothing new to judge yet
    await advance(ready, 280)  # the next bar close, 5 min after the last check: early
    assert deep(ready).checks == 2 and trade.last_forced_check_at == trade.last_deep_check_at
    await advance(ready, 300)
    assert deep(ready).checks == 2  # within the 10 min cooldown (and before the 15 min spacing)
    await advance(ready, 320)  # past the cooldown, still before the 15 min spacing
    assert deep(ready).checks == 3 and trade.last_forced_check_at == trade.last_deep_check_at


async def test_two_checks_never_score_the_same_bars(ready: Services) -> None:
    """A forced check right after a regular one would repeat its score and move the state machine a second
    step on the same evidence."""
    bid, ask = await quote(ready, "EURUSD")
    ticket = await open_position(ready, "EURUSD", "BUY", 0.5, sl=round(ask - 0.03, 5))
    await ready.engine.register(Registration(ticket=ticket))
    await set_price(ready, "EURUSD", round(ask * 0.997, 5))  # 0.3 % from entry: every cycle asks for a check
    await advance(ready, 301)
    assert deep(ready).checks == 1
    for _ in range(5):
        await advance(ready, 1)
    assert deep(ready).checks == 1 and len(await ready.engine.transitions(ticket)) <= 1


async def test_trades_on_one_symbol_share_one_analysis_per_bar(ready: Services) -> None:
    await hold_and_buy(ready, count=3)
    await advance(ready, 301)
    assert deep(ready).checks == 3 and deep(ready).analyses_computed == 1


async def test_a_trade_owned_by_a_strategy_is_scored_but_never_acted_on(ready: Services) -> None:
    (ticket,) = await hold_and_buy(ready, strategy_type="scalper")
    trade = ready.engine.trade(ticket)
    trade.state = S.CLOSED  # a DTMS trade in this state would be closed at its next check
    await advance(ready, 301)
    assert deep(ready).checks == 1 and trade.last_deep_check_at is not None
    assert ticket in {p.ticket for p in await ready.gateway.positions()}
    assert await ready.engine.journal(ticket) == []


async def test_a_closed_trade_whose_close_failed_is_closed_at_its_next_check(ready: Services) -> None:
    (ticket,) = await hold_and_buy(ready)
    trade = ready.engine.trade(ticket)
    trade.state = S.CLOSED
    await advance(ready, 301)
    assert ticket not in {p.ticket for p in await ready.gateway.positions()}
    closes = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.CLOSE]
    assert closes and closes[-1].retcode == 10009
    await advance(ready, 1)
    assert ready.engine.trade(ticket) is None
    assert (await ready.engine.find_trade(ticket)).close_reason == "closed by DTMS"


async def test_a_falling_market_walks_a_buy_down_the_defensive_states(ready: Services) -> None:
    """The whole path on live scoring: price falls steadily for two hours; the trade is protected step by step
    (tightened at WARNING_L1, half closed at WARNING_L2), every transition journaled with its score."""
    bid, ask = await quote(ready, "EURUSD")
    ticket = await open_position(ready, "EURUSD", "BUY", 1.0, sl=round(ask - 0.03, 5))  # far SL: R = 300 pips
    await ready.engine.register(Registration(ticket=ticket))
    points = [(float(t), round(bid * (1 - 0.00002 * t / 60), 5)) for t in range(0, 7200 + 1, 60)]
    await ready.gateway.control("play_path", symbol="EURUSD", points=points)
    for _ in range(7200 // 60):
        await advance(ready, 60)
        if ready.engine.trade(ticket) is None:
            break
    transitions = await ready.engine.transitions(ticket)
    assert [(t.from_state, t.to_state) for t in transitions[:2]] == [
        (S.HEALTHY, S.WARNING_L1),
        (S.WARNING_L1, S.WARNING_L2),
    ]
    assert transitions[0].score <= -2 and transitions[1].score <= -4
    journal = await ready.engine.journal(ticket)
    tightened = [a for a in journal if a.kind is ActionKind.TIGHTEN]
    assert tightened and tightened[-1].retcode == 10009
    assert all(a.outcome.value != "FAILED" for a in journal)
    assert [a.outcome.value for a in journal if a.kind is ActionKind.PARTIAL_CLOSE] == ["SUCCESS"]
    (position,) = await ready.gateway.positions(ticket=ticket)
    assert position.volume == pytest.approx(0.5) and position.sl > round(ask - 0.03, 5)


async def test_the_deep_check_scores_with_the_engine_scoring_settings(tmp_path) -> None:
    """Every scoring figure is an engine setting: with every base weight at 0 each score is 0; settings
    edited while running apply from the next check on."""
    silent = ScoringSettings(weights={name: 0.0 for name in ComponentName})
    services = await open_services(tmp_path, engine_settings(scoring=silent))
    try:
        assert await services.engine.start()
        (ticket,) = await hold_and_buy(services)
        trade = services.engine.trade(ticket)
        await advance(services, 301)
        assert deep(services).checks == 1 and trade.score == 0.0
        data = services.engine.market.get("EURUSD")
        assert (await deep(services).analysis("EURUSD", data, services.engine.clock.now())).settings is silent
        loud = ScoringSettings()
        services.engine.update_settings(replace(services.engine.settings, scoring=loud))
        assert (await deep(services).analysis("EURUSD", data, services.engine.clock.now())).settings is loud
    finally:
        await services.close()


class CountingTransport(InProcessTransport):
    """The in-process terminal, counting the calls of each terminal function."""

    def __init__(self, spec: object) -> None:
        super().__init__(spec)
        self.calls: Counter[tuple[str, str]] = Counter()

    async def request(self, request: WorkerRequest, deadline: float) -> WorkerReply:
        if request.kind is RequestKind.CALL and request.args:
            self.calls[(request.name, str(request.args[0]))] += 1
        return await super().request(request, deadline)


async def test_order_flow_delta_comes_from_trade_ticks_where_the_symbol_has_trade_flags(tmp_path) -> None:
    """BTCUSD's ticks carry buy/sell flags: its trade ticks are fetched once per bar close and the delta
    component is scored from them. EURUSD quotes bid and ask only: no ticks fetched, delta marked n/a."""
    options = RuntimeOptions(
        data_dir=tmp_path,
        settings=AppSettings(),
        terminal=TerminalKind.SIM,
        sim_speed=0.0,
        sim_start=SIM_START,
        in_process=True,
    )
    transport = CountingTransport(options.terminal_spec())
    services = await Services.open(options, transport=transport, sleep=no_sleep, autorun=False)
    try:
        assert await services.engine.start()
        for symbol, sl_distance in (("BTCUSD", 2000.0), ("EURUSD", 0.02)):
            _, ask = await quote(services, symbol)
            ticket = await open_position(services, symbol, "BUY", 0.1, sl=round(ask - sl_distance, 5))
            await services.engine.register(Registration(ticket=ticket))
        await advance(services, 301)
        for _ in range(3):
            await advance(services, 30)  # more cycles within the same bar: nothing fetched again
        assert deep(services).checks == 2
        assert transport.calls[("copy_ticks_from", "BTCUSD")] == 1
        assert transport.calls[("copy_ticks_from", "EURUSD")] == 0
        now = services.engine.clock.now()
        delta = {}
        for symbol in ("BTCUSD", "EURUSD"):
            data = services.engine.market.get(symbol)
            analysis = await deep(services).analysis(symbol, data, now)  # the one computed at the bar close
            score = score_trade_with(analysis, Direction.BUY, bid=data.bid, ask=data.ask)
            delta[symbol] = (analysis, score.component(ComponentName.DELTA))
        btc_analysis, btc = delta["BTCUSD"]
        assert btc.available and btc_analysis.has_trade_flags and math.isfinite(btc_analysis.delta_z)
        assert btc_analysis.buy_volume > 0 and btc_analysis.sell_volume > 0
        _, eur = delta["EURUSD"]
        assert not eur.available and eur.weighted == 0.0 and "no trade flags" in eur.reason
        eur_trade = next(t for t in services.engine.trades() if t.symbol == "EURUSD")
        assert "n/a: order-flow delta" in eur_trade.score_explanation
        await advance(services, 300)  # the next bar close: the next bar's ticks, once
        assert transport.calls[("copy_ticks_from", "BTCUSD")] == 2
        assert transport.calls[("symbol_info", "BTCUSD")] == 2  # once for its rules, once for its trade flags
    finally:
        await services.close()
