"""Notices pushed to a phone without a window (``--headless``, the VPS case): subscribes to the engine's
events, words them as the window does, and hands them to a ``PushSender`` outside the quiet hours."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from app.alerts.notices import NoticePolicy
from app.alerts.outputs import in_quiet_hours, local_minute
from app.alerts.push import PushSender
from app.config import AlertSettings
from app.engine.events import EngineEvent

logger = logging.getLogger(__name__)


class PushRelay:
    def __init__(
        self,
        engine: Any,
        settings: AlertSettings,
        *,
        sender: PushSender | None = None,
        minute: Callable[[], int] = local_minute,
    ) -> None:
        self._settings = settings
        self._policy = NoticePolicy(engine.market.digits)
        self._minute = minute
        self.sender = sender or PushSender(
            settings.push_urls, interval_s=settings.push_interval_s, min_severity=settings.push_min_severity
        )
        self._unsubscribe: Callable[[], None] | None = engine.subscribe(self._on_event)
        logger.info("pushing notices to %d URL(s) from %s up", len(settings.push_urls), settings.push_min_severity)

    def _on_event(self, event: EngineEvent) -> None:
        notice = self._policy.notice_for(event)
        if notice is not None and not in_quiet_hours(self._minute(), self._settings):
            self.sender.offer(notice)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.sender.close()


def attach_push(engine: Any, settings: AlertSettings) -> PushRelay | None:
    """A relay when push URLs are set, else None."""
    return PushRelay(engine, settings) if settings.push_urls else None
