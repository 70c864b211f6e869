"""The simulated broker on disk: it survives closing and killing the process, like a live server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.terminal import constants as c
from app.terminal.sim.store import FILE_NAME
from tests.terminal.sim_helpers import FAR, START, open_terminal


def test_the_broker_round_trips_through_its_database(tmp_path: Path) -> None:
    """Account, positions, pending orders, history, ticket counters, scripted prices, symbol rules and the
    algo trading switch are all restored by a new terminal on the same data_dir."""
    first = open_terminal(tmp_path)
    first.control("set_price", symbol="EURUSD", bid=1.10000, ask=1.10010)
    first.control("configure_symbol", symbol="GBPUSD", trade_stops_level=25)
    first.order_send(action=c.TRADE_ACTION_PENDING, symbol="USDJPY", volume=0.1, type=c.ORDER_TYPE_BUY_STOP,
                     price=round(first.symbol_info_tick("USDJPY").ask + 0.5, 3),
                     type_filling=c.ORDER_FILLING_RETURN)  # fmt: skip
    keep = first.order_send(action=1, symbol="EURUSD", volume=0.5, type=0, sl=1.09000, tp=1.12000, magic=5,
                            comment="keep")  # fmt: skip
    first.order_send(action=1, symbol="EURUSD", volume=0.2, type=1, position=keep.order)
    gone = first.order_send(action=1, symbol="EURUSD", volume=0.1, type=1)
    first.order_send(action=1, symbol="EURUSD", volume=0.1, type=0, position=gone.order)
    first.order_send(action=c.TRADE_ACTION_PENDING, symbol="EURUSD", volume=0.1, type=c.ORDER_TYPE_SELL_LIMIT,
                     price=1.11000, type_filling=c.ORDER_FILLING_RETURN)  # fmt: skip
    first.control("set_price", symbol="USDJPY", bid=first.symbol_info_tick("USDJPY").ask + 1.0)  # fills the stop
    first.control("configure_account", balance=12_345.0)
    first.control("set_algo_trading", enabled=False)
    before = (first.positions_get(), first.orders_get(), first.history_orders_get(0, FAR),
              first.history_deals_get(0, FAR), first.account_info())  # fmt: skip
    first.close()

    second = open_terminal(tmp_path, balance=1.0)
    try:
        after = (second.positions_get(), second.orders_get(), second.history_orders_get(0, FAR),
                 second.history_deals_get(0, FAR), second.account_info())  # fmt: skip
        assert after == before
        assert before[0][-1].symbol == "USDJPY" and before[0][-1].ticket < before[0][0].ticket  # opening order
        assert second.positions_get(group="*") == after[0]
        assert second.control("quotes")["EURUSD"] == {**second.control("quotes")["EURUSD"], "bid": 1.1,
                                                      "ask": 1.1001, "scripted": True}  # fmt: skip
        assert second.symbol_info("GBPUSD").trade_stops_level == 25
        assert second.terminal_info().trade_allowed is False
        second.control("set_algo_trading", enabled=True)
        fresh = second.order_send(action=1, symbol="EURUSD", volume=0.1, type=0)
        assert fresh.order > max(o.ticket for o in before[2]) and fresh.deal > max(d.ticket for d in before[3])
    finally:
        second.close()


def test_restored_stops_still_fire(tmp_path: Path) -> None:
    """Stops and pending orders of a restored broker are watched again."""
    first = open_terminal(tmp_path)
    first.control("set_price", symbol="EURUSD", bid=1.10000, ask=1.10010)
    ticket = first.order_send(action=1, symbol="EURUSD", volume=0.1, type=0, sl=1.09500).order
    first.close()
    second = open_terminal(tmp_path)
    try:
        second.control("set_price", symbol="EURUSD", bid=1.09400, ask=1.09410)
        assert second.positions_get(ticket=ticket) == ()
        assert second.history_deals_get(position=ticket)[-1].reason == c.DEAL_REASON_SL
    finally:
        second.close()


def test_the_clock_resumes_where_it_stopped(tmp_path: Path) -> None:
    """A simulated clock that ran ahead resumes at its saved time, never going back."""
    first = open_terminal(tmp_path)
    first.control("advance", seconds=5000)
    first.close()
    second = open_terminal(tmp_path)
    try:
        assert second.control("now") == pytest.approx(START + 5000)
    finally:
        second.close()


def test_state_survives_the_process_being_killed(tmp_path: Path) -> None:
    """Each change is committed at once, so a killed process loses nothing it had answered."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from app.terminal.sim import SimulatedTerminal
        mt5 = SimulatedTerminal(data_dir={str(tmp_path)!r}, speed=0.0, start_time={START}, history_days=1.0)
        mt5.initialize()
        tickets = [mt5.order_send(action=1, symbol="EURUSD", volume=0.1, type=0).order for _ in range(3)]
        mt5.order_send(action=1, symbol="EURUSD", volume=0.1, type=1, position=tickets[0])
        print(" ".join(map(str, tickets)), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path.cwd(),
                          timeout=60)  # fmt: skip
    assert done.returncode != 0, done.stderr
    tickets = [int(t) for t in done.stdout.split()]
    survivor = open_terminal(tmp_path)
    try:
        assert sorted(p.ticket for p in survivor.positions_get()) == tickets[1:]
        assert survivor.history_deals_get(position=tickets[0])[-1].entry == c.DEAL_ENTRY_OUT
    finally:
        survivor.close()


def test_changes_are_written_row_by_row(tmp_path: Path) -> None:
    """Only what changed is written: the database holds exactly the open positions and the history."""
    mt5 = open_terminal(tmp_path, balance=1_000_000.0)
    tickets = [mt5.order_send(action=1, symbol="EURUSD", volume=0.01, type=0).order for _ in range(200)]
    for ticket in tickets[:50]:
        mt5.order_send(action=1, symbol="EURUSD", volume=0.01, type=1, position=ticket)
    db = sqlite3.connect(tmp_path / FILE_NAME)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        rows = {t for (t,) in db.execute("SELECT ticket FROM positions")}
        assert rows == set(tickets[50:])
        assert db.execute("SELECT COUNT(*) FROM deals").fetchone() == (1 + 200 + 50,)
    finally:
        db.close()
        mt5.close()


def test_the_broker_database_page_cache_is_capped(tmp_path: Path) -> None:
    """The simulated broker's page cache stays at 512 KiB however large its file grows (SQLite's default
    would let it grow to 2 MiB of the worker's memory)."""
    mt5 = open_terminal(tmp_path, balance=1_000_000.0)
    try:
        store = mt5._store
        assert store._db.execute("PRAGMA cache_size").fetchone() == (-512,)
    finally:
        mt5.close()
