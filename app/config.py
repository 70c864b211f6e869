"""The settings file (TOML): the endpoint, the terminal and every engine figure, validated with clear messages.

A missing file means defaults. A key that is unknown, of the wrong type or out of range raises
``InvalidSettings`` naming the key, so the trader learns what to fix instead of the program guessing.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, cast, get_args, get_origin, get_type_hints

import tomli_w

from app.engine.settings import EngineSettings
from app.errors import InvalidSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiSettings:
    host: str = "127.0.0.1"
    port: int = 8001
    #: require a bearer token even on loopback (always required on any other address)
    require_token: bool = False
    max_body_bytes: int = 65_536
    #: a request's line, headers and body must arrive within this many seconds (else the connection closes)
    read_timeout_s: float = 10.0
    #: open connections (and requests in progress) served at once; beyond it the endpoint answers 503
    max_connections: int = 64
    #: more Host names (or addresses) accepted besides loopback, e.g. the machine's LAN name behind a proxy
    allowed_hosts: tuple[str, ...] = ()

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalSettings:
    kind: str = ""  # "" = MetaTrader5 where it imports, else the simulator; "rpyc" = an RPyC classic server
    path: str = ""
    login: int = 0
    password: str = ""
    server: str = ""
    timeout_ms: int = 60_000
    #: kind "rpyc": the RPyC classic server that has MetaTrader5 (mt5linux); only localhost, a private network
    #: or an SSH tunnel, since such a server runs any code sent to it
    host: str = ""
    port: int = 18812
    sim_seed: int = 20240601
    sim_speed: float = 1.0
    sim_margin_mode: int = 2  # 2 hedging, 0 netting
    sim_demo: bool = True  # on the simulator, open a few demo positions on first start
    sim_utc_offset_min: int = 0  # the simulated server's time zone, minutes ahead of UTC (brokers: often 120/180)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertSettings:
    """Sounds per severity, quiet hours, and the push of notices to a phone through apprise URLs."""

    #: play a short sound for a notice of this severity
    sound_info: bool = False
    sound_warning: bool = True
    sound_action_failed: bool = True
    #: no sound and no push between these local times ("HH:MM"; equal times: no quiet hours)
    quiet_from: str = "22:00"
    quiet_to: str = "22:00"
    #: apprise URLs (tgram://..., discord://..., ntfy://..., mailto://...); empty: no push
    push_urls: tuple[str, ...] = ()
    #: the least serious notice pushed: "info", "warning" or "action failed"
    push_min_severity: str = "warning"
    #: at most one push per this many seconds; what arrives meanwhile goes out as one message
    push_interval_s: float = 30.0

    def validate(self) -> AlertSettings:
        for name in ("quiet_from", "quiet_to"):
            if parse_hhmm(getattr(self, name)) is None:
                raise InvalidSettings(f"alerts.{name} must be a time of day as HH:MM (e.g. 22:30)")
        if self.push_min_severity not in ("info", "warning", "action failed"):
            raise InvalidSettings('alerts.push_min_severity must be "info", "warning" or "action failed"')
        if self.push_interval_s < 0:
            raise InvalidSettings("alerts.push_interval_s must not be negative")
        for url in self.push_urls:
            if "://" not in url:
                raise InvalidSettings(f"alerts.push_urls: {url!r} is not a URL (scheme://...)")
        return self


def parse_hhmm(text: str) -> int | None:
    """Minutes after midnight of ``HH:MM``, or None if it is not such a time."""
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        return None
    h, m = int(hours), int(minutes)
    return h * 60 + m if 0 <= h < 24 and 0 <= m < 60 else None


class ThemeName(StrEnum):
    LIGHT = "light"
    DARK = "dark"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowSettings:
    #: the window's colours: light, dark or the operating system's (``--theme`` overrides it)
    theme: ThemeName = ThemeName.SYSTEM


@dataclass(frozen=True, slots=True, kw_only=True)
class AppSettings:
    api: ApiSettings = field(default_factory=ApiSettings)
    terminal: TerminalSettings = field(default_factory=TerminalSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    window: WindowSettings = field(default_factory=WindowSettings)

    def validate(self) -> AppSettings:
        if not self.api.host.strip():
            raise InvalidSettings("api.host must not be empty")
        if not 0 <= self.api.port <= 65535:
            raise InvalidSettings("api.port must be between 0 and 65535")
        if self.api.max_body_bytes < 1024:
            raise InvalidSettings("api.max_body_bytes must be at least 1024")
        if not 0.5 <= self.api.read_timeout_s <= 300:
            raise InvalidSettings("api.read_timeout_s must be between 0.5 and 300")
        if not 4 <= self.api.max_connections <= 10_000:
            raise InvalidSettings("api.max_connections must be between 4 and 10000")
        if any(not h.strip() or any(c.isspace() or c in "/@" for c in h) for h in self.api.allowed_hosts):
            raise InvalidSettings("api.allowed_hosts: each entry must be a bare host name or address")
        if self.terminal.kind not in ("", "sim", "mt5", "rpyc"):
            raise InvalidSettings('terminal.kind must be "sim", "mt5", "rpyc" or empty')
        if not 0 < self.terminal.port < 65536:
            raise InvalidSettings("terminal.port must be between 1 and 65535")
        if self.terminal.kind == "rpyc" and not self.terminal.host.strip():
            raise InvalidSettings('terminal.host must name the RPyC server when terminal.kind is "rpyc"')
        if self.terminal.sim_speed < 0:
            raise InvalidSettings("terminal.sim_speed must not be negative")
        if self.terminal.sim_margin_mode not in (0, 2):
            raise InvalidSettings("terminal.sim_margin_mode must be 0 (netting) or 2 (hedging)")
        offset = self.terminal.sim_utc_offset_min
        if offset % 15 or not -720 <= offset <= 840:
            raise InvalidSettings("terminal.sim_utc_offset_min must be whole quarter hours between -720 and 840")
        self.engine.validate()
        self.alerts.validate()
        return self


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(path: Path) -> AppSettings:
    if not path.exists():
        return AppSettings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InvalidSettings(f"{path}: not valid TOML: {error}") from error
    return settings_from_dict(data)


def settings_from_dict(data: dict[str, Any]) -> AppSettings:
    return _build(AppSettings, data, "").validate()


def save_settings(path: Path, settings: AppSettings) -> None:
    """Write atomically (a temporary file renamed over the old one)."""
    settings.validate()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(tomli_w.dumps(settings_to_dict(settings)), encoding="utf-8")
    os.replace(tmp, path)


def settings_to_dict(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: settings_to_dict(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(settings_to_dict(k)): settings_to_dict(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [settings_to_dict(v) for v in value]
    return value


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise InvalidSettings(f"{where or 'settings'} must be a table")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise InvalidSettings(f"unknown setting {_join(where, unknown[0])}")
    values = {name: _coerce(hints[name], raw, _join(where, name)) for name, raw in data.items()}
    return cls(**values)


def _coerce(hint: Any, raw: Any, key: str) -> Any:
    origin = get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(cast(type, hint), raw, key)  # a type hint: the class, never an instance
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(raw)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in hint)
            raise InvalidSettings(f"{key} must be one of {choices}") from None
    if origin is tuple:
        if not isinstance(raw, list):
            raise InvalidSettings(f"{key} must be a list")
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{key}[{i}]") for i, v in enumerate(raw))
        if len(raw) != len(args):  # a fixed pair such as (start, end)
            raise InvalidSettings(f"{key} must be a list of {len(args)} values")
        return tuple(_coerce(item, v, f"{key}[{i}]") for i, (item, v) in enumerate(zip(args, raw)))
    if origin is Mapping:  # a table keyed by labels (scoring weights, multipliers); the settings parse the keys
        if not isinstance(raw, dict):
            raise InvalidSettings(f"{key} must be a table")
        value_hint = get_args(hint)[1]
        return {name: _coerce(value_hint, value, f"{key}.{name}") for name, value in raw.items()}
    if hint is bool:
        if not isinstance(raw, bool):
            raise InvalidSettings(f"{key} must be true or false")
        return raw
    if hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InvalidSettings(f"{key} must be a whole number")
        return raw
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise InvalidSettings(f"{key} must be a number")
        return float(raw)
    if hint is str:
        if not isinstance(raw, str):
            raise InvalidSettings(f"{key} must be text")
        return raw
    if get_args(hint) and origin is not None and isinstance(raw, list):  # tuple[tuple[float, float], ...]
        return tuple(raw)
    return raw


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
