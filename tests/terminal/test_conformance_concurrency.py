"""Conformance of SimulatedTerminal with MT5_API.md §10 (concurrency and blocking)."""

from __future__ import annotations

import threading
import time

import pytest

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import open_terminal

pytestmark = pytest.mark.sim(on_disk=True, balance=1_000_000.0)


def _progress_during(action, seconds_hint: float) -> tuple[int, float]:  # noqa: ANN001
    """Run ``action`` while a second thread counts; how often it counted while ``action`` ran, and how long
    ``action`` took."""
    samples: list[float] = []
    started, stop = threading.Event(), threading.Event()

    def counter() -> None:
        started.set()
        while not stop.is_set():
            samples.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=counter)
    thread.start()
    started.wait()
    time.sleep(0.02)
    begin = time.perf_counter()
    action()
    end = time.perf_counter()
    stop.set()
    thread.join()
    margin = min(0.02, seconds_hint / 4)
    inside = sum(1 for t in samples if begin + margin < t < end - margin)
    return inside, end - begin


def test_a_blocked_call_holds_the_gil(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §10: the extension never releases the GIL, so no other Python thread runs while a call is in
    flight (reproduced by the "block" fault)."""
    mt5.control("inject_fault", kind="block", seconds=0.3, function="positions_get")
    inside, took = _progress_during(lambda: mt5.positions_get(), 0.3)
    assert took >= 0.29
    assert inside == 0
    inside_sleep, _ = _progress_during(lambda: time.sleep(0.3), 0.3)  # the same probe sees a GIL-free wait
    assert inside_sleep > 10


def test_block_targets_the_named_function_only(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §10: a call can block for seconds; the "block" fault may name the function that blocks."""
    mt5.control("inject_fault", kind="block", seconds=0.25, function="order_send")
    _, quick = _progress_during(lambda: mt5.account_info(), 0.25)
    _, slow = _progress_during(
        lambda: mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol="EURUSD", volume=0.1, type=c.ORDER_TYPE_BUY), 0.25
    )
    assert quick < 0.2 <= slow
    assert mt5.positions_total() == 1  # the call went through after blocking


def test_last_error_is_one_process_global_slot(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §10: state is process-global, one last_error slot: it can report another thread's call."""
    thread = threading.Thread(target=lambda: mt5.symbol_info("NOSUCH"))
    thread.start()
    thread.join()
    assert mt5.last_error()[0] == -4


def test_calls_from_many_threads_never_interleave(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §10: calls from different threads never interleave: concurrent order_sends each get their own
    tickets and the book (in memory and on disk) stays consistent."""
    results: list = []

    def trader() -> None:
        for _ in range(40):
            results.append(
                mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol="EURUSD", volume=0.01, type=c.ORDER_TYPE_BUY)
            )

    threads = [threading.Thread(target=trader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.retcode == c.TRADE_RETCODE_DONE for r in results)
    assert len({r.order for r in results}) == len({r.deal for r in results}) == 160
    assert mt5.positions_total() == 160
    data_dir = mt5._data_dir
    mt5.close()
    reopened = open_terminal(data_dir)
    try:
        assert {p.ticket for p in reopened.positions_get()} == {r.order for r in results}
    finally:
        reopened.close()
