"""Export: every trade DTMS knows, from the main file and the yearly archives, with its state changes and
action journal, as JSON Lines (one trade a line, oldest archive first, then the main file).

Runs on the database thread (``Repository.export``); from a shell: ``python -m app.store.export DATA_DIR OUT``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Any, TextIO, cast

from peewee import SqliteDatabase

from app.store import mapping
from app.store.models import MODELS, ActionRow, TradeRow, TransitionRow


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def write_trades(databases: Iterable[tuple[str, SqliteDatabase]], out: TextIO) -> int:
    """Write each database's trades (``source`` names the file); returns how many were written."""
    count = 0
    for source, db in databases:
        with db.bind_ctx(MODELS):
            query = TradeRow.select(*mapping.TRADE_COLUMNS).order_by(TradeRow.ticket)
            for values in cast("Iterable[tuple[Any, ...]]", query.tuples()):
                trade = mapping.trade_from_values(values)
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
                count += 1
    return count


async def _main(data_dir: Path, out: Path) -> int:
    from app.store.repository import Repository

    repository = await Repository.open(data_dir / "dtms.sqlite3")
    try:
        return await repository.export(out)
    finally:
        await repository.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Export every trade, archived or not, as JSON Lines.")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    print(f"{asyncio.run(_main(args.data_dir, args.out))} trades written to {args.out}")
