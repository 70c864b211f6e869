"""What crosses the RPyC connection: the server side's plain encoding and the client's decoding, in one process.
The server's code is the very source the client sends (``app/terminal/rpyc_remote.py``), run here with the
stand-in module shaped like the real MetaTrader5."""

from __future__ import annotations

import importlib.resources
import pickle
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from app.terminal.rpyc_terminal import decode, read_plain
from app.terminal.structs import (
    RATES_DTYPE,
    TICKS_DTYPE,
    OrderSendResult,
    TradePosition,
    TradeRequest,
)
from tests.terminal import fake_module


@pytest.fixture
def server_side(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setitem(__import__("sys").modules, "MetaTrader5", fake_module)
    namespace: dict[str, Any] = {}
    exec(importlib.resources.files("app.terminal").joinpath("rpyc_remote.py").read_text(), namespace)  # noqa: S102
    fake_module.initialize()
    yield namespace
    fake_module.shutdown()


def call(server_side: dict[str, Any], name: str, *args: Any, **kwargs: Any) -> tuple[Any, Any, Any]:
    value, error, raised = read_plain(server_side["dtms_call"](pickle.dumps((name, args, kwargs), protocol=4)))
    return decode(value), error, raised


def test_struct_sequences_become_our_named_tuples_field_for_field(server_side: dict[str, Any]) -> None:
    (position,), error, raised = call(server_side, "positions_get")
    assert type(position) is TradePosition and position.ticket == 7 and raised is None and error == (1, "Success")
    result, _, _ = call(server_side, "order_send", {"action": 1, "symbol": "EURUSD", "volume": 0.2})
    assert type(result) is OrderSendResult and type(result.request) is TradeRequest
    assert result.request.volume == 0.2 and result.retcode == 10009


def test_a_failing_call_carries_the_last_error_read_on_the_server(server_side: dict[str, Any]) -> None:
    fake_module.shutdown()
    value, error, raised = call(server_side, "positions_get")
    assert value is None and error == (-10004, "No IPC connection") and raised is None


def test_arrays_keep_their_exact_dtype_and_are_writable(server_side: dict[str, Any]) -> None:
    rates, _, _ = call(server_side, "copy_rates_from_pos", "EURUSD", 1, 0, 4)
    assert rates.dtype == RATES_DTYPE and rates.flags.writeable and len(rates) == 4
    for array in (np.zeros(3, dtype=TICKS_DTYPE), np.arange(6, dtype="<f8").reshape(2, 3), np.array([], RATES_DTYPE)):
        back = decode(read_plain(pickle.dumps(server_side["dtms_plain"](array), protocol=4)))
        assert back.dtype == array.dtype and back.shape == array.shape and np.array_equal(back, array)


def test_numpy_scalars_and_int_subclasses_travel_as_plain_numbers(server_side: dict[str, Any]) -> None:
    import enum

    class Mode(enum.IntEnum):
        HEDGING = 2

    plain = server_side["dtms_plain"]((np.float64(1.5), np.int64(3), Mode.HEDGING, [np.bool_(True)]))
    assert plain == (1.5, 3, 2, [True]) and [type(v) for v in plain[:3]] == [float, int, int]


def test_another_module_version_is_matched_by_field_name() -> None:
    names = tuple(reversed(TradeRequest._fields))
    values = tuple(range(len(names)))
    rebuilt = decode(("\x00dtms-struct", "TradeRequest", names, values))
    assert rebuilt == TradeRequest(**dict(zip(names, values, strict=True)))
    assert decode(("\x00dtms-struct", "SomethingNew", ("a", "b"), (1, 2))) == {"a": 1, "b": 2}


class Payload:
    def __reduce__(self) -> Any:
        return (print, ("a server must not run code on the desk",))


def test_the_client_reads_plain_values_only() -> None:
    with pytest.raises(pickle.UnpicklingError, match="only plain values"):
        read_plain(pickle.dumps(Payload()))
    with pytest.raises(pickle.UnpicklingError):
        read_plain(pickle.dumps(np.float64(1.0)))
