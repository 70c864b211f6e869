"""The command line of ``python main.py`` (DESIGN.md), parsed into ``RuntimeOptions``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app.config import AppSettings, load_settings
from app.runtime import RuntimeOptions
from app.terminal.spec import TerminalKind

APP_NAME = "DTMS Desk"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandLine:
    headless: bool
    config_path: Path
    options: RuntimeOptions
    #: ``--theme``: light, dark or system ("" = the settings file's choice)
    theme: str = ""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py", description="DTMS Desk: defensive trade management for MetaTrader 5")
    p.add_argument("--headless", action="store_true", help="no window: engine and HTTP endpoint only")
    p.add_argument("--terminal", choices=["sim", "mt5"], help="which terminal (default: mt5 where MetaTrader5 "
                   "imports, else the simulator)")
    p.add_argument("--host", help="HTTP endpoint address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="HTTP endpoint port (default 8001; 0 picks a free port)")
    p.add_argument("--data-dir", type=Path, help="database, logs and token (default: the user data directory)")
    p.add_argument("--config", type=Path, help="TOML settings file (default: <config dir>/dtms.toml)")
    p.add_argument("--sim-speed", type=float, help="simulated clock speed (simulator only, default 1.0)")
    p.add_argument("--sim-seed", type=int, help="simulated market seed (simulator only)")
    p.add_argument("--theme", choices=["light", "dark", "system"],
                   help="window colours (default: the settings file's choice, else the system's)")
    return p


def parse(argv: list[str]) -> CommandLine:
    args = parser().parse_args(argv)
    data_dir = args.data_dir or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    config_path = args.config or Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "dtms.toml"
    settings = load_settings(config_path)
    api = settings.api
    if args.host is not None or args.port is not None:
        from dataclasses import replace

        api = replace(api, host=args.host or api.host, port=api.port if args.port is None else args.port)
        settings = replace(settings, api=api).validate()
    if args.sim_speed is not None and args.sim_speed < 0:
        raise SystemExit("--sim-speed must not be negative")
    options = RuntimeOptions(
        data_dir=data_dir.expanduser().resolve(),
        settings=settings,
        terminal=TerminalKind(args.terminal) if args.terminal else None,
        sim_speed=args.sim_speed,
        sim_seed=args.sim_seed,
    )
    return CommandLine(headless=args.headless, config_path=config_path, options=options, theme=args.theme or "")


__all__ = ["AppSettings", "CommandLine", "parse", "parser"]
