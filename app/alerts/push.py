"""Notices pushed to a phone through apprise (Telegram, Discord, ntfy, e-mail and the rest it supports).

Sending happens on one worker thread, never on the event loop: ``offer`` returns at once. At most one
message goes out per ``interval_s``; notices that arrive meanwhile go out together as one message that names
each of them. A failed or slow push is logged and never reaches the engine.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from app.alerts.notices import Notice, Severity, group

logger = logging.getLogger(__name__)

#: sends (urls, title, body); returns "" when delivered, else what went wrong
Send = Callable[[Sequence[str], str, str], str]

#: messages remembered in ``sent`` (a desk runs for months: the log file keeps every one)
KEPT = 100
_LEVELS = {"info": Severity.INFO, "warning": Severity.WARNING, "action failed": Severity.ACTION_FAILED}


def apprise_send(urls: Sequence[str], title: str, body: str) -> str:
    try:
        import apprise
    except ImportError:
        return "apprise is not installed"
    sender = apprise.Apprise()
    for url in urls:
        if not sender.add(url):
            return f"apprise does not understand the URL {url.split('://')[0]}://..."
    try:
        delivered = sender.notify(title=title, body=body)
    except Exception as error:  # noqa: BLE001 - a plugin's own failure must not escape the worker
        return f"push failed: {error}"
    return "" if delivered else "apprise could not deliver it (the log says why)"


class PushSender:
    def __init__(
        self,
        urls: Sequence[str],
        *,
        interval_s: float = 30.0,
        min_severity: str = "warning",
        send: Send = apprise_send,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.urls = tuple(urls)
        self._interval = interval_s
        self._min = _LEVELS.get(min_severity, Severity.WARNING)
        self._send = send
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: list[Notice] = []
        self._draining = False
        self._last_sent: float | None = None
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="push")
        #: (title, body, error) of the latest messages, newest last
        self.sent: deque[tuple[str, str, str]] = deque(maxlen=KEPT)

    @property
    def enabled(self) -> bool:
        return bool(self.urls)

    def offer(self, notice: Notice) -> bool:
        """Queue a notice for the phone; False if it is below the chosen severity or no URL is set."""
        if not self.urls or notice.severity < self._min or self._stop.is_set():
            return False
        with self._lock:
            self._pending.append(notice)
            if self._draining:
                return True
            self._draining = True
        self._pool.submit(self._drain)
        return True

    def send_test(self) -> Future[str]:
        """Send a test message now (past the throttle); the future gives "" or what went wrong."""
        if not self.urls:
            done: Future[str] = Future()
            done.set_result("no push URL is set")
            return done
        return self._pool.submit(self._safe_send, "DTMS Desk test", "Push notifications from DTMS Desk work.")

    def _safe_send(self, title: str, body: str) -> str:
        try:
            return self._send(self.urls, title, body)
        except Exception as failure:  # noqa: BLE001 - never let a push failure end the worker
            return str(failure) or type(failure).__name__

    def _drain(self) -> None:
        while not self._stop.is_set():
            wait = 0.0 if self._last_sent is None else self._last_sent + self._interval - self._clock()
            if wait > 0 and self._stop.wait(wait):
                return
            with self._lock:
                held, self._pending = self._pending, []
                if not held:
                    self._draining = False
                    return
            notice = group(held)
            self._last_sent = self._clock()
            error = self._safe_send(notice.title, notice.message)
            self.sent.append((notice.title, notice.message, error))
            if error:
                logger.warning("push to the phone failed: %s", error)

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
