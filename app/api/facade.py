"""What the HTTP handlers may ask of the engine, in the contract's words: schemas in, schemas out.

Failures are the application's own exceptions (``app.errors``); ``app.api.errors`` turns them into
status codes. Reads of trades never wait for the engine: before it has loaded its registry they come
from the database, afterwards from memory with live prices.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.api import earlier, schemas, views
from app.api.schemas_earlier import EngineInfo, EngineResponse, iso, now_iso
from app.api.trade_list import TradeQuery, TradeRows, build_page
from app.engine.events import EngineEvent, EventKind
from app.engine.model import Direction, LifecycleState, Trade
from app.engine.registry import Registration
from app.errors import TradeNotManaged
from app.tasks import TaskKeeper

if TYPE_CHECKING:
    from app.engine.engine import Engine
    from app.runtime import Services

logger = logging.getLogger(__name__)


class ApiFacade:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._engine: Engine = services.engine
        self._tasks = TaskKeeper("api")
        self._initializing: asyncio.Task[Any] | None = None
        self._loaded = self._engine.ready
        self._started = time.monotonic()
        self._unsubscribe = self._engine.subscribe(self._on_event)
        self._rows = TradeRows()

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def services(self) -> Services:
        return self._services

    @property
    def terminal(self) -> str:
        return str(self._services.gateway.kind)

    @property
    def simulated(self) -> bool:
        return bool(self._services.simulated)

    def _on_event(self, event: EngineEvent) -> None:
        if event.kind is EventKind.LIFECYCLE and event.payload.get("state") == LifecycleState.READY.value:
            self._loaded = True

    async def close(self) -> None:
        self._unsubscribe()
        await self._tasks.cancel_all()

    # --- health -----------------------------------------------------------------------------------------

    def trouble(self) -> str:
        """Why a READY engine is not healthy: a degraded database or a terminal not answering ("" if none)."""
        health = self._engine.health()
        if health.database_problem:
            return f"database degraded: {health.database_problem}"
        if health.terminal_stall_s is not None:
            return (
                f"terminal not answering: {self._engine.stall.call or 'a call'} waiting {health.terminal_stall_s:.1f} s"
            )
        return ""

    def health(self) -> tuple[int, schemas.HealthResponse]:
        """200 healthy; 503 not ready or degraded (with the reason); 500 if the engine cannot even say."""
        try:
            engine = self._engine
            lifecycle = engine.lifecycle
            trouble = self.trouble() if engine.ready else ""
            ready = engine.ready and not trouble
            reason = trouble or lifecycle.reason or None
            body = schemas.HealthResponse(
                status="healthy" if ready else ("degraded" if trouble else "unhealthy"),
                readiness="healthy" if ready else "not_ready",
                error=None if ready else (reason or f"engine is {lifecycle.state.value}"),
                dtms_initialized=engine.ready,
                state=lifecycle.state.value,
                reason=reason,
                database_problem=engine.database_problem or None,
                terminal_stall_s=engine.stall.stalled_s,
                monitoring_active=engine.monitoring,
                active_trades=len(engine.trades()),
                epoch=lifecycle.epoch,
                terminal=self.terminal,
                timestamp=now_iso(),
                wall_time=time.time(),
            )
        except Exception as error:
            logger.exception("health check failed")
            reason = str(error) or type(error).__name__
            body = schemas.HealthResponse(
                status="unhealthy",
                readiness="error",
                dtms_initialized=False,
                dtms_available=False,
                reason=reason,
                error=reason,
                timestamp=now_iso(),
                wall_time=time.time(),
            )
            return 500, body
        return (200 if ready else 503), body

    def dtms_health(self) -> tuple[int, schemas.DtmsHealthResponse]:
        engine = self._engine
        trouble = self.trouble() if engine.ready else ""
        ready = engine.ready and not trouble
        body = schemas.DtmsHealthResponse(
            dtms_initialized=engine.ready,
            monitoring_active=engine.monitoring,
            active_trades=len(engine.trades()),
            ready=ready,
            state=engine.state.value,
            reason=None if ready else (trouble or engine.lifecycle.reason or f"engine is {engine.state.value}"),
            timestamp=now_iso(),
        )
        body.error = body.reason
        return (200 if ready else 503), body

    def status(self) -> schemas.StatusResponse:
        engine = self._engine
        health = engine.health()
        trades = engine.trades()
        deep = [t.last_deep_check_at for t in trades if t.last_deep_check_at is not None]
        by_state = dict(Counter(t.state.value for t in trades))
        last_fast = health.last_cycle.at if health.last_cycle is not None else None
        dtms_status = schemas.DtmsStatusInfo(
            system_active=health.monitoring,
            uptime=earlier.uptime_text(time.monotonic() - self._started),
            active_trades=health.active_trades,
            trades_by_state=by_state,
            performance={
                "fast_cycles": health.cycles,
                "cycle_errors": health.cycle_errors,
                "last_cycle_ms": round(health.last_cycle.duration_s * 1000, 2) if health.last_cycle else None,
                "paused": health.paused,
            },
            last_check=iso(last_fast) or "never",
        )
        return schemas.StatusResponse(
            summary=earlier.status_summary(health.monitoring, health.lifecycle.state.value, by_state),
            dtms_status=dtms_status,
            state=health.lifecycle.state.value,
            reason=health.lifecycle.reason or None,
            epoch=health.lifecycle.epoch,
            terminal=self.terminal,
            connected=bool(getattr(self._services.gateway, "connected", False)),
            monitoring_active=health.monitoring,
            active_trades=health.active_trades,
            trades_by_state=by_state,
            rails_tripped=sorted({str(r.rail) for r in health.rails if r.tripped}),
            last_fast_cycle_at=last_fast,
            last_deep_check_at=max(deep) if deep else None,
        )

    def engine_info(self) -> EngineResponse:
        """``GET /dtms/engine``: monitoring, trades and the last checks, in the earlier server's words."""
        status = self.status()
        info = EngineInfo(
            monitoring_active=status.monitoring_active,
            active_trades_count=status.active_trades,
            last_fast_check=iso(status.last_fast_cycle_at),
            last_deep_check=iso(status.last_deep_check_at),
        )
        return EngineResponse(summary=status.summary, engine_info=info, state=status.state)

    def initialize(self) -> tuple[int, schemas.InitializeResponse]:
        """After FAILED, start a new initialisation (202); otherwise say what the engine is doing (200)."""
        engine = self._engine
        running = self._initializing is not None and not self._initializing.done()
        accepted = engine.state is LifecycleState.FAILED and not running
        if accepted:
            logger.info("initialisation retried over HTTP")
            self._initializing = self._tasks.spawn(engine.retry_initialize(), "initialize")
        lifecycle = engine.lifecycle
        failed = lifecycle.state is LifecycleState.FAILED and not accepted and not running
        if accepted:
            summary = "initialisation restarted"
        elif engine.ready:
            summary = "DTMS is initialized and monitoring"
        else:
            summary = f"DTMS is {lifecycle.state.value}" + (f": {lifecycle.reason}" if lifecycle.reason else "")
        body = schemas.InitializeResponse(
            accepted=accepted,
            state=lifecycle.state.value,
            reason=lifecycle.reason or None,
            success=not failed,
            summary=summary,
            error=(lifecycle.reason or "initialisation failed") if failed else None,
        )
        return (202 if accepted else 200), body

    # --- trades -----------------------------------------------------------------------------------------

    def _quote(self, trade: Trade) -> views.Quote | None:
        data = self._engine.market.get(trade.symbol)
        return (data.bid, data.ask) if data is not None else None

    async def enable(self, body: schemas.EnableTradeRequest) -> schemas.EnableTradeResponse:
        registration = Registration(
            ticket=body.ticket,
            symbol=body.symbol,
            direction=Direction(body.direction),
            entry=body.entry,
            volume=body.volume,
            stop_loss=body.stop_loss,
            take_profit=body.take_profit,
            strategy_type=body.strategy_type,
            magic=body.magic,
            comment=body.comment,
        )
        result = await self._engine.register(registration)
        if not result.already_registered:
            logger.info(
                "ticket %d registered over HTTP (%s %s)", body.ticket, result.trade.symbol, result.trade.direction.value
            )
        trade = result.trade
        summary = (
            f"ticket {body.ticket} {'was already' if result.already_registered else 'is now'} managed "
            f"({trade.symbol} {trade.direction.value}, state {trade.state.value})"
        )
        return schemas.EnableTradeResponse(
            success=True,
            ticket=body.ticket,
            already_registered=result.already_registered,
            summary=summary,
            trade_info=views.enabled_trade_info(trade, self._quote(trade)),
        )

    async def disable(self, body: schemas.DisableTradeRequest) -> schemas.DisableTradeResponse:
        await self._engine.unregister(body.ticket)
        logger.info("ticket %d unregistered over HTTP", body.ticket)
        return schemas.DisableTradeResponse(success=True, ticket=body.ticket)

    async def trades(self, query: TradeQuery | None = None) -> bytes:
        """The ``GET /dtms/trades`` answer as JSON (``schemas.TradesResponse``), one page when ``query.limit``."""
        query = query or TradeQuery()
        lookup: Callable[[int], Trade | None]
        if self._loaded:
            registry = self._engine.registry
            tickets, lookup = registry.tickets(), registry.get
            if len(self._rows) > 2 * len(registry) + 1000:
                self._rows.prune(lambda ticket: registry.get(ticket) is not None)
        else:
            stored = {t.ticket: t for t in await self._engine.repository.load_active_trades()}
            tickets, lookup = sorted(stored), stored.get
        return await build_page(self._rows, tickets, lookup, self._quote, query)

    async def trade(self, ticket: int) -> schemas.TradeDetail:
        trade = await self._engine.find_trade(ticket)
        if trade is None:
            raise TradeNotManaged(ticket)
        transitions = await self._engine.transitions(ticket)
        # the trade as it was when those transitions were read: a decision committed meanwhile must not show
        # its new state beside a history without it (the live trade changes only after each commit)
        trade = replace(trade)
        journal = await self._engine.journal(ticket)
        quote = self._quote(trade)
        position = self._engine.position(ticket) if trade.active else None
        info = earlier.trade_info(trade, quote, position, journal, protecting=self._engine.monitoring)
        return views.trade_detail(trade, quote, transitions, journal, info, earlier.trade_summary(trade))

    async def registry_entry(self, ticket: int) -> schemas.TradeRegistryEntry:
        return views.registry_entry(ticket, await self._engine.find_trade(ticket))

    async def actions(self, limit: int) -> schemas.ActionsResponse:
        records = await self._engine.recent_actions(limit)
        total = await self._engine.repository.count_actions()
        symbols = {t.ticket: t.symbol for t in self._engine.trades()}
        return schemas.ActionsResponse(
            actions=[views.action_info(r) for r in records],
            count=len(records),
            total_actions=total,
            summary=earlier.actions_summary(len(records), total),
            action_history=[earlier.action_item(r, symbols) for r in records],
        )
