"""The gateway against the simulator, through the worker process and in-process alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from app.errors import SimulatorOnly, TerminalUnavailable
from app.terminal import constants as mt5
from app.terminal.gateway import Gateway
from app.terminal.retcodes import RetcodeClass, RetryHint
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.structs import (
    RATES_DTYPE,
    AccountInfo,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradePosition,
    TradeRequest,
)
from app.terminal.transport import InProcessTransport, ProcessTransport

SPEC = TerminalSpec(kind=TerminalKind.SIM, seed=7)


class Recorder:
    """Collects connection changes and back-off sleeps."""

    def __init__(self) -> None:
        self.changes: list[tuple[bool, str]] = []
        self.sleeps: list[float] = []
        self.attempts: list[tuple[int, int]] = []

    def listener(self, connected: bool, reason: str) -> None:
        self.changes.append((connected, reason))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def attempt(self, attempt: int, attempts: int) -> None:
        self.attempts.append((attempt, attempts))


@pytest.fixture(params=["in_process", "process"])
async def gateway(request: pytest.FixtureRequest) -> AsyncIterator[Gateway]:
    transport = InProcessTransport(SPEC) if request.param == "in_process" else ProcessTransport(SPEC)
    gateway = Gateway(SPEC, transport=transport)
    await gateway.start()
    yield gateway
    await gateway.close()


async def connected(gateway: Gateway) -> Gateway:
    assert await gateway.connect(sleep=Recorder().sleep)
    return gateway


def buy(volume: float = 0.1, **extra: object) -> dict[str, object]:
    return {
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": "EURUSD",
        "volume": volume,
        "type": mt5.ORDER_TYPE_BUY,
        "deviation": 20,
        "magic": 77,
        "comment": "gateway test",
        **extra,
    }


async def test_reads_come_back_as_our_structs(gateway: Gateway) -> None:
    await connected(gateway)
    assert type(await gateway.account_info()) is AccountInfo
    assert type(await gateway.terminal_info()) is TerminalInfo
    info = await gateway.symbol_info("EURUSD")
    assert type(info) is SymbolInfo and info.name == "EURUSD"
    tick = await gateway.tick("EURUSD")
    assert type(tick) is Tick and tick.ask > tick.bid > 0
    rates = await gateway.rates("EURUSD", mt5.TIMEFRAME_M5, 0, 50)
    assert isinstance(rates, np.ndarray) and rates.dtype == RATES_DTYPE and rates.dtype.itemsize == 60
    assert len(rates) == 50 and np.all(np.diff(rates["time"]) > 0)
    assert await gateway.positions() == ()


async def test_order_send_answers_every_verdict(gateway: Gateway) -> None:
    await connected(gateway)
    done = await gateway.order_send(buy())
    assert done.ok and done.retcode == mt5.TRADE_RETCODE_DONE and done.klass is RetcodeClass.SUCCESS
    assert type(done.result) is OrderSendResult and type(done.result.request) is TradeRequest
    assert done.result.request.comment == "gateway test" and done.request["magic"] == 77
    (position,) = await gateway.positions(symbol="EURUSD")
    assert type(position) is TradePosition and position.volume == 0.1
    deals = await gateway.history_deals(position=position.ticket)
    assert deals and all(type(deal) is TradeDeal for deal in deals)
    assert await gateway.positions(ticket=position.ticket + 10_000) == ()

    too_small = await gateway.order_send(buy(volume=0.001))
    assert not too_small.ok and too_small.retcode == mt5.TRADE_RETCODE_INVALID_VOLUME
    assert too_small.klass is RetcodeClass.PERMANENT

    never_sent = await gateway.order_send(buy(volume=1))  # an int volume never reaches the server
    assert never_sent.retcode is None and never_sent.klass is None and never_sent.result is None
    assert never_sent.error == (-2, 'Invalid "volume" argument') and not never_sent.ok

    await gateway.control("inject_fault", kind="retcode", retcode=mt5.TRADE_RETCODE_REQUOTE)
    requote = await gateway.order_send(buy())
    assert requote.klass is RetcodeClass.TRANSIENT and requote.hint is RetryHint.REFRESH_PRICE

    await gateway.control("inject_fault", kind="algo_disabled")
    refused = await gateway.order_send(buy())
    assert refused.retcode is None and refused.error[0] == mt5.RES_E_AUTO_TRADING_DISABLED
    assert gateway.connected


async def test_bad_calls_are_answers_and_the_worker_survives(gateway: Gateway) -> None:
    await connected(gateway)
    keywords = await gateway.call("symbol_info", symbol="EURUSD")
    assert keywords.raised is not None and keywords.raised.startswith("TypeError")
    unnamed = await gateway.call("positions_get", "EURUSD")
    assert unnamed.value is None and unnamed.error == (-2, "Unnamed arguments not allowed")
    unknown = await gateway.call("no_such_function")
    assert unknown.raised is not None and unknown.raised.startswith("AttributeError")
    assert not (keywords.ok or unnamed.ok or unknown.ok)
    assert gateway.connected
    assert type(await gateway.tick("EURUSD")) is Tick
    stats = gateway.stats()
    assert stats.failures == 3 and stats.timeouts == 0 and stats.restarts == 0
    assert stats.p50_s is not None and stats.p99_s is not None and stats.p50_s <= stats.p99_s


async def test_calls_before_connecting_are_unavailable(gateway: Gateway) -> None:
    with pytest.raises(TerminalUnavailable):
        await gateway.positions()
    assert not gateway.connected and gateway.epoch == 0


async def test_connect_backs_off_and_counts_epochs(gateway: Gateway) -> None:
    first = Recorder()
    gateway.add_listener(first.listener)
    assert await gateway.connect(sleep=first.sleep, on_attempt=first.attempt)
    assert gateway.epoch == 1 and first.sleeps == [] and first.attempts == [(1, 3)]

    await gateway.control("inject_fault", kind="disconnect", failing_initializes=2)
    with pytest.raises(TerminalUnavailable):
        await gateway.positions()
    assert not gateway.connected

    again = Recorder()
    assert await gateway.connect(sleep=again.sleep, on_attempt=again.attempt)
    assert again.sleeps == [1.0, 2.0] and again.attempts == [(1, 3), (2, 3), (3, 3)]
    assert gateway.epoch == 2 and gateway.connected and gateway.last_connect_error == ""
    assert [state for state, _ in first.changes] == [True, False, True]
    assert await gateway.positions() == ()

    await gateway.control("inject_fault", kind="disconnect", failing_initializes=5)
    failed = Recorder()
    assert not await gateway.connect(attempts=4, backoff=(0.5, 3.0), sleep=failed.sleep)
    assert failed.sleeps == [0.5, 3.0, 3.0]
    assert gateway.epoch == 2 and not gateway.connected and "initialize failed" in gateway.last_connect_error


async def test_ipc_timeout_disconnects(gateway: Gateway) -> None:
    await connected(gateway)
    changes = Recorder()
    gateway.add_listener(changes.listener)
    await gateway.control("inject_fault", kind="ipc_timeout")
    with pytest.raises(TerminalUnavailable, match="-10005"):
        await gateway.account_info()
    assert changes.changes and changes.changes[0][0] is False


async def test_control_is_refused_for_the_real_terminal() -> None:
    gateway = Gateway(TerminalSpec(kind=TerminalKind.MT5, login=1, password="secret"))
    with pytest.raises(SimulatorOnly):
        await gateway.control("set_price", symbol="EURUSD", bid=1.0, ask=1.1)
    assert gateway.kind is TerminalKind.MT5
    assert "secret" not in repr(TerminalSpec(kind=TerminalKind.MT5, password="secret"))


@pytest.mark.qasync
async def test_the_worker_answers_on_the_qasync_loop() -> None:
    gateway = Gateway(SPEC)
    await gateway.start()
    try:
        await connected(gateway)
        assert type(await gateway.tick("EURUSD")) is Tick
        assert gateway.stats().count == 2
    finally:
        await gateway.close()


async def test_a_ready_made_terminal_can_be_handed_to_the_in_process_transport() -> None:
    terminal = SPEC.create_terminal()
    transport = InProcessTransport(terminal=terminal)
    gateway = Gateway(SPEC, transport=transport)
    await gateway.start()
    await connected(gateway)
    assert transport.terminal is terminal and terminal.positions_get() == ()
    await gateway.close()
    assert terminal.positions_get() is None and terminal.last_error()[0] == mt5.RES_E_INTERNAL_FAIL_CONNECT
    with pytest.raises(ValueError):
        InProcessTransport(SPEC, terminal=terminal)


async def test_ticks_of_many_symbols_come_in_one_round_trip_each_answered_on_its_own(gateway: Gateway) -> None:
    await connected(gateway)
    replies = await gateway.ticks(["EURUSD", "NOSUCH", "USDJPY"])
    assert list(replies) == ["EURUSD", "NOSUCH", "USDJPY"]
    assert type(replies["EURUSD"].value) is Tick and type(replies["USDJPY"].value) is Tick
    assert replies["EURUSD"].value == await gateway.tick("EURUSD")
    assert not replies["NOSUCH"].ok and replies["NOSUCH"].error[0] < 0, "an unknown symbol fails alone"
    assert gateway.connected


async def test_deals_of_some_positions_or_only_the_closing_ones_are_kept_in_the_worker(gateway: Gateway) -> None:
    await connected(gateway)
    tickets = [(await gateway.order_send(buy())).result.order for _ in range(4)]
    for ticket in tickets[:3]:
        closed = await gateway.order_send(buy(position=ticket, type=mt5.ORDER_TYPE_SELL))
        assert closed.retcode == mt5.TRADE_RETCODE_DONE
    wanted = {tickets[0], tickets[2], tickets[3]}
    everything = await gateway.history_deals(0, 2**31 - 1)
    kept = await gateway.position_deals(0, 2**31 - 1, wanted)
    assert kept == tuple(d for d in everything if d.position_id in wanted)
    assert len(kept) == 5 and all(type(d) is TradeDeal for d in kept)  # two closed (in and out), one open
    assert await gateway.position_deals(0, 2**31 - 1, []) == ()
    exits = await gateway.exit_deals(0, 2**31 - 1)
    assert exits == tuple(d for d in everything if d.entry in (mt5.DEAL_ENTRY_OUT, mt5.DEAL_ENTRY_OUT_BY))
    assert len(exits) == 3 and all(type(d) is TradeDeal for d in exits)  # the three closes, no opening deal


async def test_bars_of_many_series_come_in_one_round_trip_each_answered_on_its_own(gateway: Gateway) -> None:
    await connected(gateway)
    asked = [
        ("EURUSD", mt5.TIMEFRAME_M5, 0, 50),
        ("NOSUCH", mt5.TIMEFRAME_M5, 0, 50),
        ("USDJPY", mt5.TIMEFRAME_M15, 0, 20),
    ]
    replies = await gateway.rates_many(asked)
    assert len(replies) == 3
    assert np.array_equal(replies[0].value, await gateway.rates("EURUSD", mt5.TIMEFRAME_M5, 0, 50))
    assert np.array_equal(replies[2].value, await gateway.rates("USDJPY", mt5.TIMEFRAME_M15, 0, 20))
    assert not replies[1].ok and replies[1].error[0] < 0, "an unknown symbol fails alone"
    assert await gateway.rates_many([]) == [] and gateway.connected
