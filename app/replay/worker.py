"""A replay in its own process (spawn), for the window: progress and the end come back through a queue, a
cancel goes in through an event. Nothing Qt here; the window polls ``ReplayJob.poll``.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import queue
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.config import settings_to_dict
from app.errors import RejectedError
from app.replay.runner import ReplayCancelled, ReplayProgress, ReplayRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobUpdate:
    """``kind``: progress, done (``out`` is written), cancelled or failed (``message`` says why)."""

    kind: str
    fraction: float = 0.0
    trades_done: int = 0
    trades: int = 0
    out: str = ""
    message: str = ""


def _work(
    request: ReplayRequest,
    engine_settings: dict,
    out: str,
    updates: Any,
    cancel: Any,
    history: tuple[Any, float] | None,
) -> None:
    import tempfile

    from app.config import settings_from_dict
    from app.replay.command import history_request, save
    from app.replay.runner import run_replay

    request = replace(request, settings=settings_from_dict({"engine": engine_settings}).engine)
    folder = tempfile.TemporaryDirectory(prefix="dtms-history-")

    def progress(p: ReplayProgress) -> None:
        updates.put(JobUpdate(kind="progress", fraction=p.fraction, trades_done=p.trades_done, trades=p.trades))

    try:
        if history is not None:
            request = asyncio.run(history_request(request, history[0], history[1], Path(folder.name)))
        result = asyncio.run(run_replay(request, progress=progress, cancelled=cancel.is_set))
        written, _ = save(result, Path(out))
        updates.put(
            JobUpdate(
                kind="done", fraction=1.0, trades_done=len(result.trades), trades=len(result.trades), out=str(written)
            )
        )
    except ReplayCancelled:
        updates.put(JobUpdate(kind="cancelled", message="cancelled; nothing was written"))
    except RejectedError as error:
        updates.put(JobUpdate(kind="failed", message=str(error)))
    except Exception as error:  # the window shows it; the process ends either way
        logger.exception("replay failed")
        updates.put(JobUpdate(kind="failed", message=f"{type(error).__name__}: {error}"))
    finally:
        folder.cleanup()


class ReplayJob:
    """``history``: (TerminalSpec, days) to replay the account's own closed trades of those days instead."""

    def __init__(self, request: ReplayRequest, out: Path, *, history: tuple[Any, float] | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._updates = context.Queue()
        self._cancel = context.Event()
        # settings travel as their TOML-ready dict (some of their tables are read-only mappings pickle refuses)
        engine_settings = settings_to_dict(request.settings)
        plain = replace(request, settings=None)
        # a history replay starts its own terminal worker, which a daemonic process may not do
        self._process = context.Process(
            target=_work,
            args=(plain, engine_settings, str(out), self._updates, self._cancel, history),
            name="dtms-replay",
            daemon=history is None,
        )
        self.finished: JobUpdate | None = None

    def start(self) -> None:
        self._process.start()

    def cancel(self) -> None:
        self._cancel.set()

    def poll(self) -> list[JobUpdate]:
        """Updates since the last poll; a process that died without a word ends the job as failed."""
        got: list[JobUpdate] = []
        while True:
            try:
                got.append(self._updates.get_nowait())
            except queue.Empty:
                break
        for update in got:
            if update.kind != "progress":
                self.finished = update
        if self.finished is None and not got and not self._process.is_alive() and self._process.exitcode is not None:
            self.finished = JobUpdate(
                kind="failed", message=f"the replay process ended (exit {self._process.exitcode})"
            )
            got.append(self.finished)
        if self.finished is not None:
            self._process.join(timeout=5)
        return got

    def stop(self) -> None:
        """Cancel and, if it does not end within a few seconds, terminate the process."""
        self._cancel.set()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=2)
