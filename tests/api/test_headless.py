"""``run_headless`` in this process: exit codes, clean stops, and the stop signals."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from app.api.server import bind_socket
from app.config import ApiSettings, AppSettings
from app.engine.model import LifecycleState
from app.headless import EXIT_CONFIGURATION, EXIT_INIT_FAILED, EXIT_OK, install_stop_signals, run_headless
from tests.api.conftest import open_services


def _settings(port: int = 0) -> AppSettings:
    return replace(AppSettings(), api=ApiSettings(port=port))


async def test_serves_until_the_stop_event_then_closes_everything(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    services = await open_services(tmp_path)
    stop = asyncio.Event()
    run = asyncio.ensure_future(run_headless(services, _settings(), stop))
    while not services.engine.ready:
        assert not run.done(), caplog.text
        await asyncio.sleep(0.01)
    url = re.search(r"listening on (http://\S+)", caplog.text).group(1)
    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/health")).status_code == 200
    stop.set()
    assert await asyncio.wait_for(run, 10) == EXIT_OK
    assert services.engine.state is LifecycleState.STOPPED
    assert not services.gateway.connected
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=url) as client:
            await client.get("/ping")


async def test_initialisation_that_fails_for_good_exits_non_zero(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    await services.gateway.start()
    await services.gateway.control("inject_fault", kind="disconnect", failing_initializes=3)
    code = await asyncio.wait_for(run_headless(services, _settings(), asyncio.Event()), 10)
    assert code == EXIT_INIT_FAILED
    assert services.engine.state is LifecycleState.STOPPED


async def test_a_busy_port_exits_with_the_configuration_code(tmp_path: Path) -> None:
    holder = bind_socket("127.0.0.1", 0)
    try:
        services = await open_services(tmp_path)
        code = await run_headless(services, _settings(holder.getsockname()[1]), asyncio.Event())
    finally:
        holder.close()
    assert code == EXIT_CONFIGURATION
    assert services.engine.state is LifecycleState.STOPPED  # closed although it never started


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_stop_signals_set_the_event_and_are_handed_back(sig: signal.Signals) -> None:
    before = signal.getsignal(sig)
    stop = asyncio.Event()
    remove = install_stop_signals(asyncio.get_running_loop(), stop)
    try:
        os.kill(os.getpid(), sig)
        await asyncio.wait_for(stop.wait(), 5)
    finally:
        remove()
    assert signal.getsignal(sig) == before


class _LoopWithoutSignalSupport(asyncio.SelectorEventLoop):
    """Like Windows' proactor loop: ``add_signal_handler`` is not implemented."""

    def add_signal_handler(self, *args: object) -> None:
        raise NotImplementedError


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_without_loop_support_signals_still_reach_the_loop() -> None:
    loop = _LoopWithoutSignalSupport()
    before = signal.getsignal(signal.SIGTERM)

    async def scenario() -> None:
        stop = asyncio.Event()
        remove = install_stop_signals(asyncio.get_running_loop(), stop)
        try:
            assert signal.getsignal(signal.SIGTERM) is not before
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(stop.wait(), 5)
        finally:
            remove()

    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert signal.getsignal(signal.SIGTERM) is before


async def test_the_collector_is_on_once_the_engine_started_and_start_up_is_frozen_until_the_stop(
    tmp_path: Path,
) -> None:
    """The program starts with the collector off (app.main); whether the start succeeds or fails, it is on again
    once the engine's first start is over, and what start-up built is frozen until the program stops."""
    import gc

    for failing in (False, True):
        services = await open_services(tmp_path / str(failing))
        if failing:
            await services.gateway.start()
            await services.gateway.control("inject_fault", kind="disconnect", failing_initializes=3)
        stop = asyncio.Event()
        gc.disable()
        try:
            run = asyncio.ensure_future(run_headless(services, _settings(), stop))
            while not failing and not services.engine.ready:
                assert not run.done()
                await asyncio.sleep(0.01)
            if not failing:
                for _ in range(500):  # the engine's start returns just after READY
                    if gc.get_freeze_count():
                        break
                    await asyncio.sleep(0.01)
                assert gc.isenabled() and gc.get_freeze_count() > 0
                stop.set()
            assert await asyncio.wait_for(run, 10) == (EXIT_INIT_FAILED if failing else EXIT_OK)
            assert gc.isenabled() and gc.get_freeze_count() == 0
        finally:
            gc.enable()
            gc.unfreeze()


async def test_a_module_imported_in_a_thread_is_loaded_and_its_failure_is_raised_on_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The endpoint's modules are imported on a thread while the engine starts: the loop goes on meanwhile, and an
    import that fails raises its own error where it is awaited."""
    import threading

    from app.headless import import_in_thread

    (tmp_path / "endpoint_probe_ok.py").write_text(
        "import threading\nIMPORTED_ON = threading.current_thread().name\n", encoding="utf-8"
    )
    (tmp_path / "endpoint_probe_bad.py").write_text("raise LookupError('probe')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.ensure_future(ticking())
    try:
        await import_in_thread("endpoint_probe_ok")
        import endpoint_probe_ok

        assert endpoint_probe_ok.IMPORTED_ON != threading.current_thread().name
        with pytest.raises(LookupError, match="probe"):
            await import_in_thread("endpoint_probe_bad")
        assert ticks > 0
    finally:
        ticker.cancel()
        for name in ("endpoint_probe_ok", "endpoint_probe_bad"):
            sys.modules.pop(name, None)
