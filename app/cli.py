"""The command line of ``dtms-desk`` / ``python main.py`` (DESIGN.md), parsed into ``RuntimeOptions``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from app.config import AppSettings, load_settings
from app.options import RuntimeOptions
from app.terminal.spec import TerminalKind

APP_NAME = "DTMS Desk"
REPLAY_SUMMARY = "replay historical bars through the engine: what DTMS would have done to your trades"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandLine:
    headless: bool
    config_path: Path
    options: RuntimeOptions
    #: run the scripted demo bot on the simulator (None: the settings' ``terminal.sim_demo``)
    demo: bool | None = None
    #: no status lines on the console and only warnings and errors there (the log file keeps everything)
    quiet: bool = False

    @property
    def run_demo(self) -> bool:
        return self.options.settings.terminal.sim_demo if self.demo is None else self.demo

    #: ``main.py replay ...``: a ``ReplayCommand`` (app/replay/command.py), None for the program itself
    replay: Any = None
    #: ``--theme``: light, dark or system ("" = the settings file's choice)
    theme: str = ""


def parser(*, with_replay: bool = True) -> argparse.ArgumentParser:
    """The program's parser; ``with_replay=False`` leaves out the replay's own options (and their imports, which
    the program does not need to start)."""
    p = argparse.ArgumentParser(prog="dtms-desk", description="DTMS Desk: defensive trade management for MetaTrader 5")
    p.add_argument("--headless", action="store_true", help="no window: engine and HTTP endpoint only")
    p.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="on the simulator's first start, a scripted bot opens three trades and hands them to DTMS "
        "(default: the settings' terminal.sim_demo, on)",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="headless: no status lines, only warnings and errors on the console (the log file keeps everything)",
    )
    p.add_argument(
        "--terminal",
        type=terminal_choice,
        metavar="{sim,mt5,rpyc://HOST:PORT}",
        help="which terminal: the simulator, the local MetaTrader5 module, or the MetaTrader5 of an RPyC "
        "classic server (default: mt5 where MetaTrader5 imports, else the simulator)",
    )
    p.add_argument("--host", help="HTTP endpoint address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="HTTP endpoint port (default 8001; 0 picks a free port)")
    p.add_argument("--data-dir", type=Path, help="database, logs and token (default: the user data directory)")
    p.add_argument("--config", type=Path, help="TOML settings file (default: <config dir>/dtms.toml)")
    p.add_argument("--sim-speed", type=float, help="simulated clock speed (simulator only, default 1.0)")
    p.add_argument("--sim-seed", type=int, help="simulated market seed (simulator only)")
    p.add_argument(
        "--theme",
        choices=["light", "dark", "system"],
        help="window colours (default: the settings file's choice, else the system's)",
    )
    subparsers = p.add_subparsers(dest="command", metavar="{replay}")
    if with_replay:
        from app.replay.command import add_replay_parser

        add_replay_parser(subparsers, REPLAY_SUMMARY)
    else:  # listed in the help all the same; a command line naming it gets the whole parser
        subparsers.add_parser("replay", help=REPLAY_SUMMARY)
    return p


def terminal_choice(text: str) -> tuple[TerminalKind, tuple[str, int] | None]:
    """``sim``, ``mt5`` or ``rpyc://HOST:PORT`` (``rpyc`` alone: the settings file's host and port)."""
    if text in ("sim", "mt5", "rpyc"):
        return TerminalKind(text), None
    if text.startswith("rpyc://"):
        try:
            from app.terminal.rpyc_terminal import parse_address  # with numpy: only for this terminal

            return TerminalKind.RPYC, parse_address(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    raise argparse.ArgumentTypeError(f"{text!r} is not sim, mt5 or rpyc://HOST:PORT")


def parse(argv: list[str]) -> CommandLine:
    args = parser(with_replay="replay" in argv).parse_args(argv)
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
    if args.terminal and args.terminal == (TerminalKind.RPYC, None) and not settings.terminal.host:
        raise SystemExit("--terminal rpyc needs an address (rpyc://HOST:PORT) or [terminal] host in the settings file")
    options = RuntimeOptions(
        data_dir=data_dir.expanduser().resolve(),
        settings=settings,
        terminal=args.terminal[0] if args.terminal else None,
        rpyc_address=args.terminal[1] if args.terminal else None,
        sim_speed=args.sim_speed,
        sim_seed=args.sim_seed,
    )
    replay = None
    if getattr(args, "command", None) == "replay":
        from app.replay.command import build_command

        replay = build_command(args, settings.engine, options.terminal_spec())
    return CommandLine(
        headless=args.headless,
        config_path=config_path,
        options=options,
        demo=args.demo,
        quiet=args.quiet,
        replay=replay,
        theme=args.theme or "",
    )


__all__ = ["AppSettings", "CommandLine", "parse", "parser"]
