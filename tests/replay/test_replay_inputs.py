"""Bad replay input: an error naming the file, the line and the fix; no output folder left behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import main
from app.replay.inputs import ReplayInputError, read_bars
from app.replay.results import write_outputs
from tests.replay.bars import bars_from_closes, calm, write_common, write_mt5


def _bars(tmp_path: Path, name: str = "bars.csv", count: int = 200, minutes: int = 60) -> Path:
    times, o, h, l, c = bars_from_closes(calm(count), minutes=minutes)
    return write_common(tmp_path / name, times, o, h, l, c)


def _replay(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    out = tmp_path / "out"
    code = main.main(
        [
            "--data-dir",
            str(tmp_path / "data"),
            "--config",
            str(tmp_path / "none.toml"),
            "replay",
            *args,
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 2
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
    return capsys.readouterr().err


def test_an_unreadable_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _replay(tmp_path, capsys, "--bars", f"EURUSD={tmp_path / 'missing.csv'}", "--entries", "3")
    assert "missing.csv" in err and "cannot read" in err and "Fix:" in err


def test_an_unknown_symbol_without_a_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bars = _bars(tmp_path)
    err = _replay(tmp_path, capsys, "--bars", f"GER40={bars}", "--entries", "3")
    assert f"{bars}: no specification for symbol 'GER40'" in err and "--spec" in err and "[GER40]" in err


def test_a_spec_file_makes_an_unknown_symbol_known(tmp_path: Path) -> None:
    from app.replay.specs import replay_specs

    spec = tmp_path / "spec.toml"
    spec.write_text("[GER40]\ndigits = 1\ncontract_size = 1.0\nvolume_min = 0.1\nvolume_step = 0.1\n")
    made = replay_specs(["GER40", "EURUSD"], spec)
    assert made["GER40"].digits == 1 and made["GER40"].point == pytest.approx(0.1)
    assert made["GER40"].trade_tick_value == pytest.approx(0.1) and made["EURUSD"].digits == 5


def test_a_gap_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    times, o, h, l, c = bars_from_closes(calm(100), minutes=60)
    times[60:] += 6 * 86400  # six days missing before row 62 (header is line 1)
    path = write_mt5(tmp_path / "gap.csv", times, o, h, l, c)
    err = _replay(tmp_path, capsys, "--bars", f"EURUSD={path}", "--entries", "3")
    assert f"{path}:62:" in err and "gap of 145.0 hours" in err and "--max-gap-hours" in err


def test_unsorted_rows_name_their_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    times, o, h, l, c = bars_from_closes(calm(50), minutes=60)
    times[[20, 21]] = times[[21, 20]]
    path = write_common(tmp_path / "unsorted.csv", times, o, h, l, c)
    err = _replay(tmp_path, capsys, "--bars", f"EURUSD={path}", "--entries", "3")
    assert f"{path}:23:" in err and "not sorted" in err and "sort the file" in err


def test_a_trade_outside_the_data_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trades = tmp_path / "trades.csv"
    trades.write_text(
        "open_time,symbol,direction,volume,sl,tp\n2024-03-05 10:00,EURUSD,BUY,0.1,1.09,1.12\n"
        "2031-01-01 10:00,EURUSD,BUY,0.1,1.09,1.12\n"
    )
    err = _replay(tmp_path, capsys, "--bars", f"EURUSD={_bars(tmp_path)}", "--trades", str(trades))
    assert f"{trades}:3:" in err and "outside the bars" in err and "Fix:" in err


def test_bad_rows_and_trades(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Volume\n2024-03-04 00:00,1.1,1.2,1.0,1.1,1\n2024-03-04 01:00,1.1,1.05,1.0,1.1,1\n"
    )
    with pytest.raises(ReplayInputError, match=r"bad.csv:3: .* not a bar"):
        read_bars("EURUSD", path)
    path.write_text("when,price\n2024-03-04 00:00,1.1\n")
    with pytest.raises(ReplayInputError, match=r"bad.csv:1: .*Open, High, Low and Close"):
        read_bars("EURUSD", path)
    bars = read_bars("EURUSD", _bars(tmp_path))
    from app.replay.trades import read_trades

    trades = tmp_path / "t.csv"
    trades.write_text("open_time,symbol,direction,volume,sl,tp\n2024-03-05 10:00,EURUSD,BUY,0.1,1.2,1.3\n")
    with pytest.raises(ReplayInputError, match=r"t.csv:2: the SL 1.2 is on the wrong side"):
        read_trades(trades, {"EURUSD": bars})
    trades.write_text("open_time,symbol,direction,volume,sl,tp,entry\n2024-03-05 10:00,EURUSD,BUY,0.1,1.0,1.6,1.5\n")
    with pytest.raises(ReplayInputError, match=r"t.csv:2: entry 1.5 is far from the prices of that bar"):
        read_trades(trades, {"EURUSD": bars})
    trades.write_text("open_time,symbol,direction,volume,sl,tp\n2024-03-05 10:00,USDJPY,BUY,0.1,1.0,1.3\n")
    with pytest.raises(ReplayInputError, match=r"t.csv:2: no bars for symbol 'USDJPY'.*--bars USDJPY=PATH"):
        read_trades(trades, {"EURUSD": bars})


def test_a_failed_write_leaves_no_folder(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        write_outputs(tmp_path / "out", [], {"inputs": {}}, report_html=np.zeros(1))
    assert list(tmp_path.iterdir()) == []


def test_replay_is_a_subcommand_of_the_programs_parser(tmp_path: Path) -> None:
    from app.cli import parse, parser

    assert "replay" in parser().format_help()
    plain = parse(["--headless", "--config", str(tmp_path / "none.toml")])
    assert plain.headless and plain.replay is None
    command = parse(
        [
            "--config",
            str(tmp_path / "none.toml"),
            "replay",
            "--bars",
            "EURUSD=a.csv",
            "--bars",
            "XAUUSD=b.csv",
            "--entries",
            "5",
            "--seed",
            "9",
            "--part",
            "0.6:1",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    request = command.replay.request
    assert request.bars == {"EURUSD": Path("a.csv"), "XAUUSD": Path("b.csv")}
    assert (request.entries, request.seed, request.part) == (5, 9, (0.6, 1.0))
    with pytest.raises(ReplayInputError, match="SYMBOL=PATH"):
        parse(["--config", str(tmp_path / "none.toml"), "replay", "--bars", "EURUSD", "--out", "o"])
