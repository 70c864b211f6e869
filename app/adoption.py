"""Which open positions DTMS may take over on its own: the trader's choice, asked once and kept in the
settings file (``[engine.adoption]``). No Qt here: the window's first-run dialog and the headless start use it.

Without a choice in the file the policy is ``none``: DTMS manages only the positions bots register with it,
so no position opened by hand (or by another program) is ever changed unless the trader says so.
"""

from __future__ import annotations

import asyncio
import logging
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.engine.events import EngineEvent, EventKind
from app.engine.model import LifecycleState
from app.engine.reconcile import should_adopt
from app.engine.settings import AdoptionPolicy, AdoptionSettings

logger = logging.getLogger(__name__)


def adoption_chosen(config_path: Path) -> bool:
    """Whether the settings file states an adoption policy (a file that cannot be read states none)."""
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    adoption = data.get("engine", {}).get("adoption", {}) if isinstance(data.get("engine"), dict) else {}
    return isinstance(adoption, dict) and "policy" in adoption


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """How many of the open positions each choice would let DTMS take over."""

    open_positions: int
    all: int
    none: int
    magic: int
    comment_prefix: int


def coverage(positions: Iterable[Any], magics: tuple[int, ...], comment_prefix: str) -> Coverage:
    listed = list(positions)

    def count(policy: AdoptionPolicy) -> int:
        settings = AdoptionSettings(policy=policy, magics=magics, comment_prefix=comment_prefix)
        return sum(1 for p in listed if should_adopt(p, settings))

    return Coverage(
        open_positions=len(listed),
        all=count(AdoptionPolicy.ALL),
        none=0,
        magic=count(AdoptionPolicy.MAGIC),
        comment_prefix=count(AdoptionPolicy.COMMENT_PREFIX),
    )


def describe_policy(settings: AdoptionSettings) -> str:
    """The policy in a trader's words, for the log at every start."""
    match settings.policy:
        case AdoptionPolicy.ALL:
            return "all: every open position is managed, also those opened by hand"
        case AdoptionPolicy.MAGIC:
            magics = ", ".join(str(m) for m in settings.magics) or "none listed"
            return f"magic: positions with magic number {magics}, and those bots register"
        case AdoptionPolicy.COMMENT_PREFIX:
            return (
                f"comment_prefix: positions whose comment starts with {settings.comment_prefix!r}, and those bots "
                "register"
            )
    return "none: only the positions bots register are managed"


async def wait_until_ready(engine: Any) -> None:
    """Return once the engine is READY (at once if it is), however long that takes."""
    ready = asyncio.Event()

    def on_event(event: EngineEvent) -> None:
        if event.kind is EventKind.LIFECYCLE and event.payload.get("state") == LifecycleState.READY.value:
            ready.set()

    unsubscribe = engine.subscribe(on_event)
    try:
        if engine.ready:
            ready.set()
        await ready.wait()
    finally:
        unsubscribe()
