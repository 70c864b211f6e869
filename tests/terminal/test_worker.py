"""The terminal worker: answers requests with plain values, reports failures as data, never dies of a bad call."""

from __future__ import annotations

import pickle
import threading
from collections import namedtuple

import numpy as np
import pytest

from app.errors import ConfigurationError, TerminalUnavailable
from app.terminal.convert import to_plain
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.structs import RATES_DTYPE, TICKS_DTYPE, OrderSendResult, TradePosition, TradeRequest
from app.terminal.transport import ProcessTransport
from app.terminal.worker import NO_ERROR, RequestKind, WorkerRequest, handle
from tests.terminal import fake_module

FAKE = TerminalSpec(kind=TerminalKind.MODULE, module=fake_module.__name__)


class Unreadable:
    """Pickles in the parent, but rebuilding it raises in the worker."""

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (int, ("not a number",))


def call(name: str, *args: object, **kwargs: object) -> WorkerRequest:
    return WorkerRequest(RequestKind.CALL, name, args, kwargs or None)


@pytest.fixture
def connected_fake() -> object:
    fake_module.initialize()
    yield fake_module
    fake_module.shutdown()


def test_struct_sequences_become_our_named_tuples(connected_fake: object) -> None:
    reply = handle(connected_fake, call("order_send", {"symbol": "EURUSD", "volume": 0.1, "action": 1}))
    assert reply.raised is None
    result = reply.value
    assert type(result) is OrderSendResult
    assert type(result.request) is TradeRequest
    assert result.request.symbol == "EURUSD" and result.request.volume == 0.1 and result.request.deviation == 0
    assert pickle.loads(pickle.dumps(result)) == result

    (position,) = handle(connected_fake, call("positions_get")).value
    assert type(position) is TradePosition
    assert position.symbol == "EURUSD" and position.ticket == 7


def test_a_failing_call_carries_its_last_error() -> None:
    fake_module.shutdown()
    reply = handle(fake_module, call("positions_get"))
    assert reply.value is None
    assert reply.error == (-10004, "No IPC connection")
    assert reply.raised is None


@pytest.mark.parametrize(
    ("request_", "raised"),
    [
        (call("symbol_info_tick", "EURUSD"), "AttributeError"),  # the module lacks it
        (call("no_such_function"), "AttributeError: the terminal has no function 'no_such_function'"),
        (call("copy_rates_from_pos", "EURUSD", 1, start_pos=0, count=3), "TypeError"),
        (WorkerRequest(RequestKind.CONTROL, "advance", (), {"seconds": 1}), "AttributeError"),
    ],
)
def test_bad_calls_come_back_as_data(request_: WorkerRequest, raised: str) -> None:
    reply = handle(fake_module, request_)
    assert reply.value is None
    assert reply.error == NO_ERROR
    assert reply.raised is not None and reply.raised.startswith(raised)


def test_plain_values_keep_their_shape() -> None:
    rates = np.zeros(3, dtype=RATES_DTYPE)
    ticks = np.zeros(2, dtype=TICKS_DTYPE)
    Other = namedtuple("Other", "a b")
    plain = to_plain({"rates": rates, "ticks": [ticks], "n": np.int64(5), "other": Other(np.float64(1.5), "x")})
    assert plain["rates"] is rates and plain["ticks"][0] is ticks
    assert plain["n"] == 5 and type(plain["n"]) is int
    assert plain["other"] == {"a": 1.5, "b": "x"}
    position = TradePosition._make([*range(16), "EURUSD", "", ""])
    assert to_plain((position,))[0] is position


async def test_the_worker_process_converts_before_sending() -> None:
    transport = ProcessTransport(FAKE)
    await transport.start()
    try:
        assert (await transport.request(call("initialize"), 5.0)).value is True
        result = (await transport.request(call("order_send", {"volume": 0.2}), 5.0)).value
        assert type(result) is OrderSendResult and type(result.request) is TradeRequest
        assert result.request.volume == 0.2
        rates = (await transport.request(call("copy_rates_from_pos", "EURUSD", 1, 0, 4), 5.0)).value
        assert rates.dtype == RATES_DTYPE and rates.dtype.itemsize == 60 and len(rates) == 4

        unpicklable = await transport.request(call("version"), 5.0)
        assert unpicklable.value is None
        assert unpicklable.raised is not None and unpicklable.raised.startswith("unpicklable result")
        bad = await transport.request(call("copy_rates_from_pos", "EURUSD", count=3), 5.0)
        assert bad.raised is not None and bad.raised.startswith("TypeError")
        unsendable = await transport.request(call("positions_get", lock=threading.Lock()), 5.0)
        assert unsendable.raised is not None and unsendable.raised.startswith("unpicklable request: TypeError")
        unreadable = await transport.request(call("positions_get", ticket=Unreadable()), 5.0)
        assert unreadable.raised is not None and unreadable.raised.startswith("unreadable request: ValueError")
        assert transport.alive
        assert len((await transport.request(call("positions_get"), 5.0)).value) == 1
    finally:
        await transport.close(0.5)
    assert not transport.alive
    with pytest.raises(TerminalUnavailable):
        await transport.request(call("positions_get"), 5.0)


async def test_a_terminal_that_cannot_be_built_is_a_configuration_error() -> None:
    transport = ProcessTransport(TerminalSpec(kind=TerminalKind.MODULE, module="no_such_terminal_module"))
    with pytest.raises(ConfigurationError, match="ModuleNotFoundError"):
        await transport.start()
    assert not transport.alive
