"""Export: every trade DTMS knows, from the main file and the yearly archives, with its state changes and
action journal, as JSON Lines (one trade a line, oldest archive first, then the main file).

Runs on the database thread (``Repository.export``), or from a shell: ``python -m app.store.export DATA_DIR OUT``,
which only reads (``read_only``): safe beside a running desk, whose files it never changes. OUT is written
beside itself under a temporary name and renamed once complete: a failed export leaves no partial file.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Iterable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, TextIO, cast

from peewee import PeeweeException, SqliteDatabase

from app.store import archive, mapping
from app.store.models import MODELS, ActionRow, TradeRow, TransitionRow
from app.store.read_only import Unreadable, explain, open_snapshot

DATABASE_FILE = "dtms.sqlite3"


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def write_trades(databases: Iterable[tuple[str, SqliteDatabase]], out: TextIO) -> int:
    """Write each database's trades (``source`` names the file); returns how many were written.

    A ticket already written from an earlier database is skipped: read beside a running desk, a trade that
    retention moved meanwhile can be both in an archive and in the main file's older snapshot."""
    written: set[int] = set()
    for source, db in databases:
        with db.bind_ctx(MODELS):
            query = TradeRow.select(*mapping.TRADE_COLUMNS).order_by(TradeRow.ticket)
            for values in cast("Iterable[tuple[Any, ...]]", query.tuples()):
                trade = mapping.trade_from_values(values)
                if trade.ticket in written:
                    continue
                actions = ActionRow.select().where(ActionRow.ticket == trade.ticket).order_by(ActionRow.id)
                transitions = (
                    TransitionRow.select().where(TransitionRow.ticket == trade.ticket).order_by(TransitionRow.id)
                )
                line = {
                    "source": source,
                    "trade": _plain(dataclasses.asdict(trade)),
                    "transitions": [
                        _plain(dataclasses.asdict(mapping.transition_from_row(r)))
                        for r in cast("Iterable[dict[str, Any]]", transitions.dicts())
                    ],
                    "actions": [
                        _plain(dataclasses.asdict(mapping.action_from_row(r)))
                        for r in cast("Iterable[dict[str, Any]]", actions.dicts())
                    ],
                }
                out.write(json.dumps(line, separators=(",", ":"), allow_nan=True) + "\n")
                written.add(trade.ticket)
    return len(written)


def write_file(databases: Iterable[tuple[str, SqliteDatabase]], out: Path) -> int:
    """``write_trades`` into ``out``, which appears only once complete (a failure removes what was written)."""
    fd, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
    try:
        with open(fd, "w", encoding="utf-8") as stream:
            count = write_trades(databases, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def export_read_only(data_dir: Path, out: Path) -> int:
    """Export the data folder's database and archives through read-only connections; returns the trade count.
    Raises ``Unreadable`` (nothing was changed, nothing written to ``out``)."""
    main = data_dir / DATABASE_FILE
    if not data_dir.is_dir():
        raise Unreadable(f"no data folder at {data_dir}; nothing was changed")
    if not main.is_file():
        raise Unreadable(f"no database {DATABASE_FILE} in {data_dir}; nothing was changed")
    with contextlib.ExitStack() as opened:
        # the main file's snapshot first: a trade retention moves meanwhile is then still in it, if in no archive
        main_db = open_snapshot(main)
        opened.callback(main_db.close)
        databases: list[tuple[str, SqliteDatabase]] = []
        for path in reversed(archive.archive_files(main)):
            db = open_snapshot(path)
            opened.callback(db.close)
            databases.append((path.name, db))
        databases.append((main.name, main_db))
        try:
            return write_file(databases, out)
        except (sqlite3.Error, PeeweeException) as error:
            raise Unreadable(explain(error)) from error


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.store.export",
        description="Export every trade, archived or not, as JSON Lines. Only reads: safe beside a running desk.",
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    try:
        count = export_read_only(args.data_dir, args.out)
    except Unreadable as error:
        print(f"export: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"export: cannot write {args.out}: {error.strerror or error}; nothing was changed", file=sys.stderr)
        return 2
    print(f"{count} trades written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
