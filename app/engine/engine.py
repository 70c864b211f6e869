"""The engine facade: lifecycle, registry, monitoring loop. The HTTP handlers and the views use only this.

STARTING -> CONNECTING (attempt n of N, back-off) -> RECOVERING -> READY; FAILED with a reason (retry with
``retry_initialize``); DISCONNECTED when the terminal is lost while running, reconnecting with back-off and
coming back READY with a new connection epoch. The monitoring loop runs only while READY.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from app import memory
from app.engine.clock import TerminalClock
from app.engine.cycle import CycleReport, FastCycle
from app.engine.deep_check import DefenseDeepCheck
from app.engine.defense.actions import DefenseActions
from app.engine.events import EngineEvent, EventBus, EventKind
from app.engine.executor import ActionExecutor
from app.engine.manual import ManualActions, ManualPlan, ManualResult
from app.engine.market_data import MarketData
from app.engine.model import ActionRecord, LifecycleState, Trade, Transition
from app.engine.rails import RailStatus, SafetyRails
from app.engine.recorder import Recorder
from app.engine.registry import Registration, RegistrationResult, TradeRegistry
from app.engine.settings import EngineSettings
from app.engine.symbol_health import SymbolHealth
from app.engine.terminal_watch import TerminalWatch
from app.engine.watches import DatabaseWatch, StallWatch
from app.errors import (
    ConfigurationError,
    DatabaseDegraded,
    DtmsError,
    EngineNotReady,
    RejectedError,
    TemporaryError,
    TerminalTimeout,
    TerminalUnavailable,
)
from app.tasks import TaskKeeper

logger = logging.getLogger(__name__)

#: connected-but-recovery-failed rounds before the engine gives up and shows FAILED
RECOVERY_ATTEMPTS = 5
#: wall seconds between two hand-backs of free memory to the system (malloc_trim)
TRIM_EVERY_S = 120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LifecycleSnapshot:
    state: LifecycleState
    reason: str = ""
    attempt: int = 0
    attempts: int = 0
    retry_in: float | None = None
    epoch: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineHealth:
    lifecycle: LifecycleSnapshot
    monitoring: bool
    paused: bool
    active_trades: int
    cycles: int
    last_cycle: CycleReport | None
    cycle_errors: int
    rails: tuple[RailStatus, ...]
    terminal_time: float
    gateway: dict[str, Any]
    #: why the database cannot be trusted for new writes ("" while it is healthy)
    database_problem: str = ""
    #: seconds the terminal call in flight has gone unanswered, once past the stall threshold (None: answering)
    terminal_stall_s: float | None = None
    #: symbols whose prices or bars currently fail, with the reason (their trades wait; others go on)
    symbol_problems: dict[str, str] = field(default_factory=dict)


class Engine:
    def __init__(
        self,
        *,
        gateway: Any,
        repository: Any,
        settings: EngineSettings | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        autorun: bool = True,
        wall: Callable[[], float] = time.time,
        account_guard: Callable[[int, str], Callable[[], None]] | None = None,
    ) -> None:
        """``autorun=False`` leaves the monitoring loop off: cycles run only through ``run_fast_cycle``
        (tests and benchmarks step the engine themselves). ``wall`` is the wall clock (UTC epoch seconds) the
        engine's clock falls back on when ticks stop, and the symbols' retry back-off runs on."""
        self._gateway = gateway
        self._autorun = autorun
        self._repository = repository
        self._settings = (settings or EngineSettings()).validate()
        self._sleep = sleep
        self.bus = EventBus()
        self.clock = TerminalClock(wall=wall)
        self._recorder = Recorder(
            repository, self.bus, self.clock.now, interval=lambda: self._settings.storage.persist_interval_s
        )
        self._recorder.on_degraded = self._on_database_degraded
        self.stall = StallWatch(gateway, self._recorder, lambda: self._settings)
        self.database = DatabaseWatch(repository, self._recorder, lambda: self._settings)
        self._watches: dict[str, asyncio.Task[Any]] = {}
        self.market = MarketData(
            gateway,
            atr_period=self._settings.protection.atr_period,
            m5_count=self._settings.cycle.backfill_m5,
            m15_count=self._settings.cycle.backfill_m15,
        )
        self.registry = TradeRegistry(
            gateway, self.market, self._recorder, lambda: self._settings.protection, self.clock.now, self.clock.observe
        )
        self.rails = SafetyRails(self._settings.rails)
        self.executor = self._new_executor(self._settings)
        self.cycle = FastCycle(
            gateway=gateway,
            registry=self.registry,
            market=self.market,
            executor=lambda: self.executor,
            recorder=self._recorder,
            rails=self.rails,
            clock=self.clock,
            settings=lambda: self._settings,
            paused=lambda: self._paused,
        )
        self.cycle.symbols = SymbolHealth(wall=wall)
        self.watch = TerminalWatch(
            gateway=gateway, rails=self.rails, clock=self.clock, recorder=self._recorder, wall=wall
        )
        self.cycle.watch = self.watch
        self.defense = DefenseActions(
            gateway=gateway,
            executor=lambda: self.executor,
            recorder=self._recorder,
            rails=self.rails,
            now=self.clock.now,
        )
        self.cycle.deep_check = DefenseDeepCheck(
            gateway=gateway,
            market=self.market,
            actions=self.defense,
            rails=self.rails,
            recorder=self._recorder,
            settings=lambda: self._settings,
        )
        #: held by each fast cycle and by each of the trader's own actions, so the two never interleave
        self._action_lock = asyncio.Lock()
        self.manual = ManualActions(
            registry=self.registry,
            market=self.market,
            executor=lambda: self.executor,
            recorder=self._recorder,
            lock=self._action_lock,
            now=self.clock.now,
            execution=lambda: self._settings.execution,
        )
        self._tasks = TaskKeeper("engine")
        self._lifecycle = LifecycleSnapshot(state=LifecycleState.STARTING)
        self._monitor: asyncio.Task[Any] | None = None
        self._loaded = False
        self._loading: asyncio.Future[list[Trade]] | None = None  # the trades being read while the engine starts
        self._recover_failures = 0
        self._paused = False
        self._stopping = False
        self._cycles = 0
        self._cycle_errors = 0
        self._last_cycle: CycleReport | None = None
        self._run_lock = asyncio.Lock()
        #: takes the machine-wide lock of the connected account (login, server); returns its release
        self._account_guard = account_guard
        self._account_release: Callable[[], None] | None = None
        #: why this desk refused to run (another desk manages the account), or None
        self.refusal: ConfigurationError | None = None
        self._housekeeping_started = False

    # --- reading ---------------------------------------------------------------------------------------

    @property
    def settings(self) -> EngineSettings:
        return self._settings

    @property
    def lifecycle(self) -> LifecycleSnapshot:
        return self._lifecycle

    @property
    def state(self) -> LifecycleState:
        return self._lifecycle.state

    @property
    def ready(self) -> bool:
        return self._lifecycle.state is LifecycleState.READY

    @property
    def monitoring(self) -> bool:
        return self._monitor is not None and not self._monitor.done()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def repository(self) -> Any:
        return self._repository

    def subscribe(self, subscriber: Callable[[EngineEvent], None]) -> Callable[[], None]:
        return self.bus.subscribe(subscriber)

    def trades(self) -> list[Trade]:
        return self.registry.active()

    def trade(self, ticket: int) -> Trade | None:
        return self.registry.get(ticket)

    def trade_count(self) -> int:
        return len(self.registry)

    async def find_trade(self, ticket: int) -> Trade | None:
        """An active trade, or the persisted record of one no longer managed."""
        return self.registry.get(ticket) or await self._read(self._repository.load_trade(ticket))

    async def journal(self, ticket: int, limit: int = 200) -> list[ActionRecord]:
        return await self._read(self._repository.actions(ticket=ticket, limit=limit))

    async def transitions(self, ticket: int) -> list[Transition]:
        return await self._read(self._repository.transitions(ticket))

    async def recent_actions(self, limit: int = 100) -> list[ActionRecord]:
        return await self._read(self._repository.actions(limit=limit))

    async def _read(self, reading: Awaitable[Any]) -> Any:
        """A read of the database; one that fails because the file is gone bad degrades it (503, not 500)."""
        try:
            return await reading
        except DtmsError as error:
            reason = getattr(error, "degrading", None)
            if reason is None:
                raise
            self._recorder.degrade(reason)
            raise DatabaseDegraded(f"the database cannot be read: {reason}") from error

    @property
    def database_problem(self) -> str:
        return self._recorder.problem

    def position(self, ticket: int) -> Any | None:
        return self.cycle.positions.get(ticket)

    def health(self) -> EngineHealth:
        stats = self._gateway.stats() if hasattr(self._gateway, "stats") else {}
        return EngineHealth(
            lifecycle=self._lifecycle,
            monitoring=self.monitoring,
            paused=self._paused,
            active_trades=len(self.registry),
            cycles=self._cycles,
            last_cycle=self._last_cycle,
            cycle_errors=self._cycle_errors,
            rails=tuple(self.rails.snapshot()),
            terminal_time=self.clock.now(),
            gateway=stats if isinstance(stats, dict) else asdict(stats),
            symbol_problems=self.cycle.symbols.problems(),
            database_problem=self._recorder.problem,
            terminal_stall_s=self.stall.stalled_s,
        )

    # --- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> bool:
        """Initialise: connect, recover, and start monitoring. Returns False if it ended FAILED."""
        async with self._run_lock:
            self._stopping = False
            self._watch("stall", self.stall.run)
            await self._set_state(LifecycleState.STARTING)
            # the trades are read on the database thread while the terminal worker starts and connects
            self._loading = None if self._loaded else asyncio.ensure_future(self._repository.load_active_trades())
            try:
                return await self._start_terminal_and_run()
            finally:
                loading, self._loading = self._loading, None
                if loading is not None and not loading.done():
                    loading.cancel()
                elif loading is not None and not loading.cancelled():
                    loading.exception()  # read: a start that failed before it needed the trades does not warn

    async def _start_terminal_and_run(self) -> bool:
        try:
            await self._gateway.start()
        except (ConfigurationError, TemporaryError, RejectedError) as error:
            await self._set_state(LifecycleState.FAILED, reason=f"the terminal could not be started: {error}")
            return False
        connection = self._settings.connection
        if not await self._connect(connection.attempts, connection.backoff_s, repeat_last=False):
            return False
        if not await self._claim_account():
            return False
        return await self._recover_and_run()

    async def retry_initialize(self) -> bool:
        if self.state not in (LifecycleState.FAILED, LifecycleState.STOPPED):
            return self.ready
        return await self.start()

    async def stop(self) -> None:
        self._stopping = True
        if self._monitor is not None:
            self._monitor.cancel()
            await asyncio.gather(self._monitor, return_exceptions=True)
            self._monitor = None
        await self._tasks.cancel_all()
        try:
            await self._recorder.flush(force=True)
        except Exception:
            logger.exception("the last figures of the trades could not be written")
        self._watches.clear()
        if self._account_release is not None:
            self._account_release()
            self._account_release = None
        await self._set_state(LifecycleState.STOPPED, reason="stopped")

    def pause(self, paused: bool) -> None:
        """Pause management (no actions sent); reconciliation and prices go on."""
        if paused != self._paused:
            self._paused = paused
            self._recorder.live(EventKind.PAUSED, {"paused": paused})

    def update_settings(self, settings: EngineSettings) -> None:
        self._settings = settings.validate()
        self.rails.update_settings(settings.rails)
        self.executor = self._new_executor(self._settings)

    def _new_executor(self, settings: EngineSettings) -> ActionExecutor:
        return ActionExecutor(
            self._gateway,
            settings.execution,
            self.clock.now,
            sleep=self._sleep,
            owns=self.registry.can_modify,
            blocked=self.rails.sending_blocked,
            refused=lambda _code: self.cycle.request_terminal_check(),
        )

    async def persist(self) -> int:
        """Write now the trades' changes that wait for the next flush (figures, not decisions)."""
        return await self._recorder.flush(force=True)

    async def _connect(self, attempts: int, backoff: tuple[float, ...], *, repeat_last: bool) -> bool:
        reason = ""
        attempt = 0
        while repeat_last or attempt < attempts:
            attempt += 1
            if self._stopping:
                return False
            await self._set_state(
                LifecycleState.CONNECTING, attempt=attempt, attempts=0 if repeat_last else attempts, reason=reason
            )
            try:
                if await self._gateway.initialize():
                    return True
                reason = getattr(self._gateway, "last_connect_error", "") or "initialize failed"
            except TemporaryError as error:
                reason = str(error)
            except (ConfigurationError, RejectedError) as error:
                await self._set_state(LifecycleState.FAILED, reason=str(error))
                return False
            if not repeat_last and attempt >= attempts:
                break
            delay = backoff[min(attempt - 1, len(backoff) - 1)]
            state = LifecycleState.DISCONNECTED if repeat_last else LifecycleState.CONNECTING
            await self._set_state(
                state, attempt=attempt, attempts=0 if repeat_last else attempts, reason=reason, retry_in=delay
            )
            await self._sleep(delay)
        await self._set_state(LifecycleState.FAILED, reason=f"could not connect after {attempts} attempts: {reason}")
        return False

    def _watch(self, name: str, run: Callable[[], Awaitable[Any]]) -> None:
        task = self._watches.get(name)
        if task is None or task.done():
            self._watches[name] = self._tasks.spawn(run(), f"watch-{name}")  # type: ignore[arg-type]

    def _on_database_degraded(self, reason: str) -> None:
        """The database failed while running: every managed trade as it is now goes to the side journal (a
        restore from an older backup then still knows them), and the window and the endpoint are told."""
        for trade in self.registry.active():
            self._recorder.aside_trade(trade)
        self._tasks.spawn(
            self._recorder.event(EventKind.DATABASE, {"degraded": True, "reason": reason}), "database-degraded"
        )

    async def _claim_account(self) -> bool:
        """One desk per account: before anything is read or changed, this desk takes the account's lock."""
        if self._account_guard is None or self._account_release is not None:
            return True
        from app.desk_lock import DeskAlreadyRunning

        account = await self._gateway.account_info()
        try:
            self._account_release = self._account_guard(int(account.login), str(account.server))
        except DeskAlreadyRunning as refusal:
            self.refusal = refusal
            logger.error("%s", refusal)
            await self._set_state(LifecycleState.FAILED, reason=str(refusal))
            return False
        return True

    async def _recover_and_run(self) -> bool:
        await self._set_state(LifecycleState.RECOVERING)
        try:
            if not self._loaded:
                await self._load()
            # permissions, broker link and the server's zone, read on every connection
            await self.watch.on_connect(sorted(self.registry.symbols()))
            await self.cycle.run(protect=False)
        except TemporaryError as error:
            logger.warning("terminal lost while recovering: %s", error)
            self._recover_failures += 1
            self._tasks.spawn(self._reconnect(str(error)), "reconnect")
            return True
        self._recover_failures = 0
        self._watch("database", self.database.run)
        await self._set_state(LifecycleState.READY)
        if self._autorun:
            self._monitor = asyncio.get_running_loop().create_task(self._monitor_loop(), name="engine:monitor")
            if not self._housekeeping_started:
                self._housekeeping_started = True
                self._tasks.spawn(self._housekeeping_loop(), "housekeeping")
        return True

    async def housekeeping(self) -> Any:
        """One retention pass (closed trades older than ``storage.retention_days`` move to the yearly archive,
        the main file is compacted), then free memory handed back; returns the retention report."""
        retain = getattr(self._repository, "retain", None)
        report = None
        if not self.registry.symbols():
            await self._observe_terminal_time()  # no trade open: the clock has seen no tick for a while
        if retain is not None and self.clock.observed:
            report = await retain(self.clock.now() - self._settings.storage.retention_days * 86400.0)
        memory.trim()
        return report

    async def _observe_terminal_time(self) -> None:
        for symbol in self.market.symbols()[:1]:
            try:
                tick = await self._gateway.tick(symbol)
            except (TemporaryError, RejectedError) as error:
                logger.info("housekeeping: no tick of %s for the terminal's time: %s", symbol, error)
                return
            if tick is not None:
                self.market.note_tick(symbol, tick)
                data = self.market.get(symbol)
                if data is not None and data.tick_time > 0:
                    self.clock.observe(data.tick_time)

    async def _housekeeping_loop(self) -> None:
        """Retention every ``storage.retention_check_s``; free memory handed back every few minutes between."""
        due = 0.0
        while not self._stopping:
            if time.monotonic() >= due:
                due = time.monotonic() + self._settings.storage.retention_check_s
                try:
                    await self.housekeeping()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("housekeeping failed; tried again at the next pass")
            else:
                memory.trim()
            await asyncio.sleep(min(TRIM_EVERY_S, self._settings.storage.retention_check_s))

    async def _load(self) -> None:
        loading, self._loading = self._loading, None
        self.registry.load(await (loading or self._repository.load_active_trades()))
        for symbol in sorted(self.registry.symbols()):
            await self.cycle.ensure_symbol(symbol)  # a failing symbol waits; the others are taken over
        moved = getattr(self._repository, "recovered_from", None)
        replayed = int(getattr(self._repository, "replayed", 0) or 0)
        if moved is not None:
            await self._recover_owners(moved, getattr(self._repository, "restored_from", None), replayed)
        elif replayed:
            await self._recorder.event(
                EventKind.DATABASE,
                {
                    "degraded": False,
                    "reason": "",
                    "replayed": replayed,
                    "detail": f"{replayed} records journaled aside while the database was degraded were written in",
                },
            )
        self._loaded = True

    async def _recover_owners(self, moved: Any, restored: Any, replayed: int) -> None:
        """After damage found at start: with a backup, owners, strategies and releases are as it (and the side
        journal) knew them, and only positions never seen follow the adoption policy; without one, every
        open position is watched, "unconfirmed", until a bot registers it or the trader confirms it."""
        if restored is not None:
            rebuilt = 0
            detail = (
                f"the database was unreadable and was moved aside to {moved}; the backup {restored} was "
                f"restored and {replayed} later records replayed: owners and released trades are kept, "
                "positions it never saw follow the adoption policy"
            )
        else:
            rebuilt = await self.cycle.rebuild()
            detail = (
                f"the database was unreadable and was moved aside to {moved}; no good backup ({replayed} "
                f"records of the side journal replayed): {rebuilt} other open positions are watched as "
                "unconfirmed until a bot registers them or you confirm them"
            )
        await self._recorder.event(
            EventKind.DATABASE_RECOVERED,
            {
                "moved_to": str(moved),
                "restored_from": str(restored) if restored else None,
                "replayed": replayed,
                "rebuilt": rebuilt,
                "unconfirmed": self.registry.unconfirmed(),
                "detail": detail,
            },
        )

    async def _monitor_loop(self) -> None:
        interval = self._settings.cycle.fast_interval_s
        while self.ready and not self._stopping:
            started = time.perf_counter()
            try:
                await self.run_fast_cycle()
            except TemporaryError as error:
                if self._terminal_lost(error):
                    logger.warning("terminal lost: %s", error)
                    self._tasks.spawn(self._reconnect(str(error)), "reconnect")
                    return
                self._cycle_errors += 1
                logger.warning("fast cycle incomplete: %s", error)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._cycle_errors += 1
                logger.exception("fast cycle failed")
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

    async def step(self) -> CycleReport | None:
        """One monitoring step run by hand (tests, benchmarks): a fast cycle, or, if the terminal turns out
        to be lost, the whole reconnection (None then)."""
        try:
            return await self.run_fast_cycle()
        except TemporaryError as error:
            if not self._terminal_lost(error):
                self._cycle_errors += 1
                logger.warning("fast cycle incomplete: %s", error)
                return None
            logger.warning("terminal lost: %s", error)
            await self._reconnect(str(error))
            return None

    def _terminal_lost(self, error: TemporaryError) -> bool:
        """Only a lost connection or a stuck terminal means reconnecting; one call's failure (a symbol whose
        history is still loading, say) leaves the connection alone and the next cycle tries again."""
        return isinstance(error, (TerminalUnavailable, TerminalTimeout)) or not getattr(
            self._gateway, "connected", True
        )

    async def run_fast_cycle(self) -> CycleReport:
        async with self._action_lock:
            report = await self.cycle.run()
        self._cycles += 1
        self._last_cycle = report
        self._recorder.live(
            EventKind.CYCLE,
            {
                "duration_ms": report.duration_s * 1000,
                "calls": report.calls,
                "trades": report.trades,
                "at": report.at,
                "scored": report.scored,
            },
        )
        return report

    async def _reconnect(self, reason: str) -> None:
        self._monitor = None
        backoff = self._settings.connection.reconnect_backoff_s
        if self._recover_failures >= RECOVERY_ATTEMPTS:
            await self._set_state(
                LifecycleState.FAILED, reason=f"recovery failed {self._recover_failures} times: {reason}"
            )
            self._recover_failures = 0
            return
        if self._recover_failures:
            # connected, then recovery failed: wait before trying again instead of spinning
            delay = backoff[min(self._recover_failures - 1, len(backoff) - 1)]
            await self._set_state(LifecycleState.DISCONNECTED, reason=reason, retry_in=delay)
            await self._sleep(delay)
        else:
            await self._set_state(LifecycleState.DISCONNECTED, reason=reason)
        if await self._connect(0, backoff, repeat_last=True):
            async with self._run_lock:
                await self._recover_and_run()

    async def _set_state(
        self,
        state: LifecycleState,
        *,
        reason: str = "",
        attempt: int = 0,
        attempts: int = 0,
        retry_in: float | None = None,
    ) -> None:
        previous = self._lifecycle.state
        epoch = int(getattr(self._gateway, "epoch", 0))
        self._lifecycle = LifecycleSnapshot(
            state=state, reason=reason, attempt=attempt, attempts=attempts, retry_in=retry_in, epoch=epoch
        )
        logger.info("engine %s%s", state.value, f": {reason}" if reason else "")
        payload = {
            "state": state.value,
            "previous": previous.value,
            "reason": reason,
            "attempt": attempt,
            "attempts": attempts,
            "retry_in": retry_in,
            "epoch": epoch,
        }
        await self._recorder.event(EventKind.LIFECYCLE, payload)

    async def register(self, registration: Registration) -> RegistrationResult:
        self._require_ready()
        self._recorder.require_sound()
        return await self.registry.register(registration)

    async def unregister(self, ticket: int) -> Trade:
        self._require_ready()
        self._recorder.require_sound()
        return await self.registry.unregister(ticket)

    # --- the trader's own actions on one trade (DTMS's trades only; through the executor and the journal) --

    def plan_close(self, ticket: int, *, volume: float | None = None, fraction: float | None = None) -> ManualPlan:
        """What closing the trade (or ``volume`` lots, or ``fraction`` of it) would send now."""
        return self.manual.plan_close(ticket, volume=volume, fraction=fraction)

    def plan_breakeven(self, ticket: int) -> ManualPlan:
        return self.manual.plan_breakeven(ticket)

    async def run_manual(self, plan: ManualPlan) -> ManualResult:
        """Send a planned action (checked again first); the result is journaled with its real outcome."""
        self._require_ready()
        return await self.manual.carry_out(plan)

    async def close_trade(self, ticket: int) -> ManualResult:
        return await self.run_manual(self.plan_close(ticket))

    async def close_part(
        self, ticket: int, *, volume: float | None = None, fraction: float | None = None
    ) -> ManualResult:
        if volume is None and fraction is None:
            raise RejectedError("close_part needs a volume or a fraction")
        return await self.run_manual(self.plan_close(ticket, volume=volume, fraction=fraction))

    async def breakeven_now(self, ticket: int) -> ManualResult:
        return await self.run_manual(self.plan_breakeven(ticket))

    async def set_trade_paused(self, ticket: int, paused: bool) -> Trade:
        """Pause DTMS for this trade only (persisted): scored and watched, nothing sent until resumed."""
        return await self.manual.set_paused(ticket, paused)

    def last_score(self, ticket: int) -> Any | None:
        """The trade's score with every component, from its symbol's last analysis (None before one)."""
        trade = self.registry.get(ticket)
        deep = self.cycle.deep_check
        if trade is None or deep is None or not hasattr(deep, "last_score"):
            return None
        return deep.last_score(trade)

    async def confirm(self, ticket: int) -> Trade:
        """The trader confirms an "unconfirmed" trade (watched after a database loss): DTMS manages it."""
        self._recorder.require_sound()
        return await self.registry.confirm(ticket)

    async def confirm_all(self) -> list[int]:
        """Confirm every unconfirmed trade; returns their tickets."""
        self._recorder.require_sound()
        tickets = self.registry.unconfirmed()
        for ticket in tickets:
            await self.registry.confirm(ticket)
        return tickets

    async def check_database(self) -> str:
        """Run the integrity check now (it also runs every ``database.check_interval_s``)."""
        return await self.database.check()

    async def backup_database(self) -> bool:
        """A backup now, whatever changed since the last (one is also considered every
        ``database.backup_interval_s`` and at a clean stop: ``backup_if_due``)."""
        return await self.database.backup()

    async def backup_if_due(self) -> bool:
        """The clean stop's backup: only when something was written since the last and the copy is worth it."""
        return await self.database.backup_if_due()

    def _require_ready(self) -> None:
        if not self.ready:
            raise EngineNotReady(self.state.value, self._lifecycle.reason)
