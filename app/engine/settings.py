"""Every engine figure as a setting, with DTMS_SPEC.md's defaults. Frozen; replaced whole when edited."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.engine.defense.rules import DefenseSettings
from app.engine.scoring.settings import ScoringSettings
from app.errors import InvalidSettings


class AdoptionPolicy(StrEnum):
    """What to do with an open position the database does not know."""

    ALL = "all"  # adopt every position, as the earlier DTMS did
    NONE = "none"  # only the positions bots register (the default: taking over every position is the trader's call)
    MAGIC = "magic"  # adopt positions whose magic number is listed
    COMMENT_PREFIX = "comment_prefix"  # adopt positions whose comment starts with the prefix


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionSettings:
    attempts: int = 3
    backoff_s: tuple[float, ...] = (1.0, 2.0, 4.0)
    reconnect_backoff_s: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
    #: a terminal call unanswered this long shows the terminal as "not answering" (well before the watchdog's
    #: 10 s deadline replaces the worker)
    stall_threshold_s: float = 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleSettings:
    fast_interval_s: float = 1.0
    deep_min_spacing_s: float = 900.0
    forced_cooldown_s: float = 600.0
    backfill_m5: int = 600
    backfill_m15: int = 300
    #: most trade ticks fetched per symbol and bar close for the order flow (more: the flow is left out)
    flow_ticks_max: int = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageSettings:
    """How much the database keeps and how often it is written between decisions."""

    #: figures that are not decisions (best price for trailing) are written at most this often (wall seconds),
    #: all changed trades in one transaction, and at a stop; decisions are always committed before they are told
    persist_interval_s: float = 300.0
    #: closed trades (with their journal) older than this move to the yearly archive file
    retention_days: float = 90.0
    #: wall seconds between two retention passes (the first runs once the engine is READY)
    retention_check_s: float = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectionSettings:
    breakeven_r: float = 1.5  # 1.0 before the replay evidence (docs/replay.md)
    breakeven_lock_r: float = 0.1
    partial_r: float = 1.5
    partial_fraction: float = 0.5
    trail_atr_multiple: float = 2.0
    atr_period: int = 14
    synthetic_r_atr_multiple: float = 1.5
    min_sl_change_r: float = 0.1
    min_sl_interval_s: float = 15.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionSettings:
    deviation_points: int = 20
    max_attempts: int = 3
    retry_backoff_s: tuple[float, ...] = (0.25, 0.5, 1.0)
    #: after a failed or refused action, the same action waits this long (terminal time) before trying again
    failed_retry_after_s: float = 60.0
    magic: int = 770077


@dataclass(frozen=True, slots=True, kw_only=True)
class RailSettings:
    daily_loss_pct: float = 2.0
    hourly_loss_pct: float = 1.0
    max_consecutive_stopouts: int = 3
    spread_median_multiple: float = 2.0
    max_bar_age_s: float = 300.0
    #: (start, end) epoch seconds of manual blackout windows (news)
    blackouts: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AdoptionSettings:
    policy: AdoptionPolicy = AdoptionPolicy.NONE
    magics: tuple[int, ...] = ()
    comment_prefix: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSettings:
    #: PRAGMA quick_check while running (damage in the WAL is found before a restart); it reads the whole file, so
    #: once a check takes more than a thousandth of this (a file grown large) the checks are spaced further apart
    check_interval_s: float = 300.0
    #: how often a consistent online backup is considered (and at every clean stop); each copies the whole file,
    #: so one is taken only when anything was written since the last and the file is small (8 MB) or what changed
    #: since (the side journal, which keeps every decision and ownership change meanwhile) weighs a sixteenth of it
    backup_interval_s: float = 86400.0
    #: a backup is taken anyway once the last one is this old (when anything was written since): a file grown
    #: large over months is copied whole this often, not every day for a few changes
    backup_max_age_s: float = 604800.0
    backups_kept: int = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineSettings:
    connection: ConnectionSettings = field(default_factory=ConnectionSettings)
    cycle: CycleSettings = field(default_factory=CycleSettings)
    protection: ProtectionSettings = field(default_factory=ProtectionSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    rails: RailSettings = field(default_factory=RailSettings)
    adoption: AdoptionSettings = field(default_factory=AdoptionSettings)
    defense: DefenseSettings = field(default_factory=DefenseSettings)
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)

    def validate(self) -> EngineSettings:
        """Raise InvalidSettings naming the first value out of range; return self otherwise."""
        checks: list[tuple[bool, str]] = [
            (self.connection.attempts >= 1, "connection.attempts must be at least 1"),
            (len(self.connection.backoff_s) >= 1, "connection.backoff_s needs at least one delay"),
            (all(d >= 0 for d in self.connection.backoff_s), "connection.backoff_s must not be negative"),
            (
                len(self.connection.reconnect_backoff_s) >= 1
                and all(d >= 0 for d in self.connection.reconnect_backoff_s),
                "connection.reconnect_backoff_s needs at least one delay, none negative",
            ),
            (
                len(self.execution.retry_backoff_s) >= 1 and all(d >= 0 for d in self.execution.retry_backoff_s),
                "execution.retry_backoff_s needs at least one delay, none negative",
            ),
            (self.execution.failed_retry_after_s >= 0, "execution.failed_retry_after_s must not be negative"),
            (self.cycle.fast_interval_s > 0, "cycle.fast_interval_s must be positive"),
            (
                0 < self.connection.stall_threshold_s < 10.0,
                "connection.stall_threshold_s must be positive and below the 10 s call deadline",
            ),
            (self.database.check_interval_s >= 10, "database.check_interval_s must be at least 10"),
            (self.database.backup_interval_s >= 10, "database.backup_interval_s must be at least 10"),
            (self.database.backup_max_age_s >= 10, "database.backup_max_age_s must be at least 10"),
            (self.database.backups_kept >= 1, "database.backups_kept must be at least 1"),
            (self.cycle.backfill_m5 >= 50, "cycle.backfill_m5 must be at least 50"),
            (self.cycle.backfill_m15 >= 50, "cycle.backfill_m15 must be at least 50"),
            (self.storage.persist_interval_s >= 0, "storage.persist_interval_s must not be negative"),
            (self.storage.retention_days > 0, "storage.retention_days must be positive"),
            (self.storage.retention_check_s > 0, "storage.retention_check_s must be positive"),
            (self.cycle.flow_ticks_max >= 1000, "cycle.flow_ticks_max must be at least 1000"),
            (self.protection.breakeven_r > 0, "protection.breakeven_r must be positive"),
            (
                0 <= self.protection.breakeven_lock_r < self.protection.breakeven_r,
                "protection.breakeven_lock_r must be below breakeven_r",
            ),
            (self.protection.partial_r > 0, "protection.partial_r must be positive"),
            (0 < self.protection.partial_fraction < 1, "protection.partial_fraction must be between 0 and 1"),
            (self.protection.trail_atr_multiple > 0, "protection.trail_atr_multiple must be positive"),
            (self.protection.min_sl_change_r >= 0, "protection.min_sl_change_r must not be negative"),
            (self.protection.min_sl_interval_s >= 0, "protection.min_sl_interval_s must not be negative"),
            (self.execution.max_attempts >= 1, "execution.max_attempts must be at least 1"),
            (self.execution.deviation_points >= 0, "execution.deviation_points must not be negative"),
            (self.rails.daily_loss_pct > 0, "rails.daily_loss_pct must be positive"),
            (self.rails.hourly_loss_pct > 0, "rails.hourly_loss_pct must be positive"),
            (self.rails.max_consecutive_stopouts >= 1, "rails.max_consecutive_stopouts must be at least 1"),
            (all(s < e for s, e in self.rails.blackouts), "rails.blackouts: every window must end after it starts"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidSettings(message)
        return self
