"""Choosing an RPyC server as the terminal: ``--terminal rpyc://HOST:PORT`` or ``[terminal] kind = "rpyc"`` with
``host`` and ``port``; the address reaches the worker's spec, and such a terminal is never treated as a simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import parse
from app.config import (
    AppSettings,
    TerminalSettings,
    load_settings,
    save_settings,
    settings_from_dict,
)
from app.errors import InvalidSettings
from app.terminal.rpyc_terminal import RpycTerminal, parse_address
from app.terminal.spec import TerminalKind, TerminalSpec


def test_the_command_line_address_reaches_the_spec(tmp_path: Path) -> None:
    line = parse(
        ["--terminal", "rpyc://10.8.0.2:18812", "--config", str(tmp_path / "none.toml"), "--data-dir", str(tmp_path)]
    )
    spec = line.options.terminal_spec()
    assert (spec.kind, spec.host, spec.port) == (TerminalKind.RPYC, "10.8.0.2", 18812)
    assert not spec.is_simulated
    terminal = spec.create_terminal()
    assert isinstance(terminal, RpycTerminal) and terminal.address == "rpyc://10.8.0.2:18812"
    assert not terminal.connected, "building the terminal connects nothing; initialize does"


def test_the_settings_file_names_the_server_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "dtms.toml"
    path.write_text('[terminal]\nkind = "rpyc"\nhost = "localhost"\nport = 18813\nlogin = 51234\n', encoding="utf-8")
    settings = load_settings(path)
    line = parse(["--config", str(path), "--data-dir", str(tmp_path)])
    spec = line.options.terminal_spec()
    assert (spec.kind, spec.host, spec.port, spec.login) == (TerminalKind.RPYC, "localhost", 18813, 51234)
    assert spec.initialize_kwargs()["login"] == 51234
    save_settings(tmp_path / "again.toml", settings)
    assert load_settings(tmp_path / "again.toml") == settings
    # the bare word takes the file's address; an address on the command line wins over it
    assert parse(["--config", str(path), "--terminal", "rpyc"]).options.terminal_spec().port == 18813
    assert parse(["--config", str(path), "--terminal", "rpyc://[::1]:9"]).options.terminal_spec().host == "::1"


@pytest.mark.parametrize(
    ("terminal", "message"),
    [
        ({"kind": "rpyc"}, "terminal.host must name the RPyC server"),
        ({"kind": "rpyc", "host": "localhost", "port": 0}, "terminal.port must be between 1 and 65535"),
        ({"kind": "wine"}, 'terminal.kind must be "sim", "mt5", "rpyc" or empty'),
    ],
)
def test_a_setting_that_does_not_fit_names_its_key(terminal: dict, message: str) -> None:
    with pytest.raises(InvalidSettings, match=message):
        settings_from_dict({"terminal": terminal})


@pytest.mark.parametrize("text", ["rpyc://", "http://localhost:18812", "rpyc://host:99999", "rpyc://host:1/x"])
def test_a_bad_address_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_address(text)
    with pytest.raises(SystemExit):
        parse(["--terminal", text])


def test_the_bare_word_needs_an_address_in_the_settings_file(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="needs an address"):
        parse(["--terminal", "rpyc", "--config", str(tmp_path / "none.toml")])


def test_the_default_port_is_the_servers_default() -> None:
    assert parse_address("rpyc://winbox") == ("winbox", 18812)
    assert TerminalSettings().port == 18812 and AppSettings().terminal.kind == ""
    with pytest.raises(ValueError, match="host"):
        TerminalSpec(kind=TerminalKind.RPYC)
