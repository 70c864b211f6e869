"""The health panel: one summary line (terminal, connection, last cycle, endpoint, rails, symbols, database)
and, on demand, the details: account, connection epoch, fast cycle timing, gateway latency, HTTP endpoint,
database, safety rails and failing symbols. Cheap figures refresh every second; account and database size
(which need the terminal or the database thread) every ``SLOW_REFRESH_S`` and at each READY."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.tasks import TaskKeeper
from app.views.bridge import EngineBridge
from app.views.trades_model import terminal_time_text

logger = logging.getLogger(__name__)

SLOW_REFRESH_S = 10.0


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


class HealthPanel(QWidget):
    """``terminal`` names the terminal kind; ``account`` reads the terminal's AccountInfo; ``api`` is the HTTP
    server (``url``, ``token_required``) or None."""

    def __init__(
        self,
        bridge: EngineBridge,
        *,
        terminal: str,
        database: Path,
        account: Callable[[], Awaitable[Any]] | None = None,
        api: Any | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = bridge.engine
        self._terminal = terminal
        self._database = database
        self._api = api
        self._read_account = account
        self._tasks = TaskKeeper("health")
        self._account = "-"
        self._db_size = "-"
        self.fields: dict[str, QLabel] = {}
        self.summary = QLabel("-")
        self.summary.setObjectName("healthSummary")
        self.summary.setWordWrap(True)
        self.details_button = QPushButton("Details")
        self.details_button.setCheckable(True)
        self.details = QWidget()
        self.details.setVisible(False)
        self.details_button.toggled.connect(self.show_details)
        columns = QHBoxLayout(self.details)
        columns.setContentsMargins(0, 0, 0, 0)
        for names in (
            ("Terminal", "Account", "Lifecycle", "Connection epoch", "HTTP endpoint", "Token", "Database"),
            (
                "Last fast cycle",
                "Cycle duration",
                "Cycles / errors",
                "Gateway latency",
                "Gateway calls",
                "Safety rails",
                "Symbols",
            ),
        ):
            form = QFormLayout()
            for name in names:
                label = QLabel("-")
                label.setWordWrap(True)
                self.fields[name] = label
                form.addRow(name, label)
            columns.addLayout(form, 1)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.details_button)
        outer = QVBoxLayout(self)
        outer.addLayout(top)
        outer.addWidget(self.details, 1)
        outer.addStretch(0)
        outer.setAlignment(top, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self._slow_at = 0.0
        bridge.lifecycle.connect(lambda p: self._refresh_slow() if p.get("state") == "READY" else self.refresh())
        self.refresh()

    def text(self, name: str) -> str:
        return self.fields[name].text()

    def show_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setText("Hide details" if shown else "Details")

    def refresh(self, health: Any | None = None) -> None:
        """Show ``health`` (default: the engine's now)."""
        health = health or self._engine.health()
        f = self.fields
        f["Terminal"].setText(self._terminal)
        f["Account"].setText(self._account)
        life = health.lifecycle
        f["Lifecycle"].setText(life.state.value + (f": {life.reason}" if life.reason else ""))
        f["Connection epoch"].setText(str(life.epoch))
        last = health.last_cycle
        f["Last fast cycle"].setText(terminal_time_text(last.at) + " (terminal time)" if last else "-")
        f["Cycle duration"].setText(
            f"{_ms(last.duration_s)}, {last.calls} calls, {last.trades} trades" if last else "-"
        )
        f["Cycles / errors"].setText(
            f"{health.cycles} / {health.cycle_errors}" + ("  (paused)" if health.paused else "")
        )
        g = health.gateway
        f["Gateway latency"].setText(f"p50 {_ms(g.get('p50_s'))}, p99 {_ms(g.get('p99_s'))}" if g else "-")
        f["Gateway calls"].setText(
            f"{g.get('count', 0)} calls, {g.get('failures', 0)} failed, "
            f"{g.get('timeouts', 0)} timeouts, {g.get('restarts', 0)} restarts"
            if g
            else "-"
        )
        if self._api is not None and self._api.url:
            f["HTTP endpoint"].setText(self._api.url)
            f["Token"].setText("required" if self._api.token_required else "off")
        else:
            f["HTTP endpoint"].setText("not running")
            f["Token"].setText("-")
        f["Database"].setText(f"{self._database} ({self._db_size})")
        tripped = [r for r in health.rails if r.tripped]
        f["Safety rails"].setText(
            "; ".join(f"{r.rail.value}{' ' + r.symbol if r.symbol else ''}: {r.detail}" for r in tripped)
            if tripped
            else f"{len(health.rails)} rails, none tripped"
        )
        problems = getattr(health, "symbol_problems", {}) or {}
        f["Symbols"].setText(
            "; ".join(f"{symbol}: {reason}" for symbol, reason in sorted(problems.items()))
            if problems
            else "all answering"
        )
        self.summary.setText(self._summary(health, tripped, problems))
        if time.monotonic() - self._slow_at >= SLOW_REFRESH_S and self._engine.ready:
            self._refresh_slow()

    def _summary(self, health: Any, tripped: list[Any], problems: dict[str, str]) -> str:
        """One line: what a trader checks at a glance."""
        last = health.last_cycle
        parts = [
            f"{self._terminal}, connection {health.lifecycle.epoch}",
            f"last cycle {terminal_time_text(last.at)} ({_ms(last.duration_s)})" if last else "no cycle yet",
            f"endpoint {self._api.url}" if self._api is not None and self._api.url else "endpoint not running",
            f"{len(tripped)} rail{'' if len(tripped) == 1 else 's'} tripped" if tripped else "rails clear",
            f"failing: {', '.join(sorted(problems))}" if problems else "all symbols answering",
        ]
        stall = getattr(health, "terminal_stall_s", None)
        if stall is not None:
            parts.insert(1, f"terminal not answering for {stall:.0f} s")
        if getattr(health, "database_problem", ""):
            parts.append(f"database degraded: {health.database_problem}")
        return " | ".join(parts)

    def _refresh_slow(self) -> None:
        self._slow_at = time.monotonic()
        self._tasks.spawn(self.load_slow(), "slow-refresh")

    async def load_slow(self) -> None:
        """Account (from the terminal) and database size (from the database thread)."""
        try:
            size = await self._engine.repository.size_bytes()
            self._db_size = f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.0f} kB"
            account = await self._read_account() if self._read_account and self._engine.ready else None
        except Exception as error:  # a lost terminal shows in the lifecycle; keep the last figures
            logger.debug("health refresh: %s", error)
            return
        if account is not None:
            self._account = f"{account.login} {account.server} ({account.currency} {account.balance:,.2f})"
        self.refresh()

    async def close_tasks(self) -> None:
        self._timer.stop()
        await self._tasks.cancel_all(timeout=1.0)
