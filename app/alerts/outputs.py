"""Where a shown notice goes besides the screen: a sound for its severity and a push to the phone, both
silent during the quiet hours."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

from app.alerts.notices import Notice, Severity
from app.alerts.push import KEPT, PushSender
from app.alerts.sound import SoundPlayer, sound_file
from app.config import AlertSettings, parse_hhmm

logger = logging.getLogger(__name__)


def in_quiet_hours(minute_of_day: int, settings: AlertSettings) -> bool:
    start, end = parse_hhmm(settings.quiet_from), parse_hhmm(settings.quiet_to)
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= minute_of_day < end
    return minute_of_day >= start or minute_of_day < end  # across midnight, e.g. 22:00 to 07:00


def local_minute() -> int:
    now = datetime.now()
    return now.hour * 60 + now.minute


class AlertOutputs:
    def __init__(
        self,
        settings: AlertSettings,
        *,
        player: SoundPlayer | None = None,
        push: PushSender | None = None,
        minute: Callable[[], int] = local_minute,
    ) -> None:
        self.player = player or SoundPlayer()
        self._minute = minute
        self.settings = settings
        self.push = push or PushSender(
            settings.push_urls, interval_s=settings.push_interval_s, min_severity=settings.push_min_severity
        )
        self.played: deque[str] = deque(maxlen=KEPT)  # the latest sound names started, for the health view and tests

    def update(self, settings: AlertSettings) -> None:
        """New settings: the push sender is replaced when its URLs or limits changed."""
        old = self.settings
        self.settings = settings
        if (old.push_urls, old.push_interval_s, old.push_min_severity) != (
            settings.push_urls,
            settings.push_interval_s,
            settings.push_min_severity,
        ):
            self.push.close()
            self.push = PushSender(
                settings.push_urls, interval_s=settings.push_interval_s, min_severity=settings.push_min_severity
            )

    def wants_sound(self, severity: Severity) -> bool:
        s = self.settings
        return {Severity.INFO: s.sound_info, Severity.WARNING: s.sound_warning}.get(severity, s.sound_action_failed)

    def deliver(self, notice: Notice) -> None:
        if in_quiet_hours(self._minute(), self.settings):
            return
        if self.wants_sound(notice.severity):
            path = sound_file(notice.severity)
            if self.player.play(path):
                self.played.append(path.stem)
        self.push.offer(notice)

    def close(self) -> None:
        self.push.close()
