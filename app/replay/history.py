"""``--history DAYS``: the account's own closed trades of the last days and the terminal's M1 bars, as replay
inputs (``history_deals_get``, ``history_orders_get``, ``copy_rates_range``), through the gateway.

A position's SL and TP are those of the order that opened it; a position opened without them is replayed
without them (the engine then gives it its synthetic R). Bars start ``WARMUP_DAYS`` before the first trade so
the engine has its backfill, and are written as MT5 exports them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.replay.results import iso
from app.terminal import constants as c

logger = logging.getLogger(__name__)

WARMUP_DAYS = 4
_MT5_HEADER = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"


async def fetch_history(gateway: Any, days: float, folder: Path, *, now: float) -> tuple[dict[str, Path], Path]:
    """Write ``folder``/SYMBOL_M1.csv per traded symbol and ``folder``/trades.csv; return their paths.

    ``now`` is the terminal's time (its latest tick), the end of the window.
    """
    folder.mkdir(parents=True, exist_ok=True)
    since = now - days * 86400
    deals = await gateway.history_deals(int(since), int(now) + 60)
    orders = {int(o.ticket): o for o in await gateway.history_orders(int(since), int(now) + 60)}
    by_position: dict[int, list[Any]] = defaultdict(list)
    for deal in deals:
        if deal.type in (c.DEAL_TYPE_BUY, c.DEAL_TYPE_SELL):
            by_position[int(deal.position_id)].append(deal)
    rows = ["open_time,symbol,direction,volume,sl,tp,entry"]
    first: dict[str, float] = {}
    for position, group in sorted(by_position.items(), key=lambda kv: min(d.time_msc for d in kv[1])):
        opening = [d for d in group if d.entry == c.DEAL_ENTRY_IN]
        closed = any(d.entry in (c.DEAL_ENTRY_OUT, c.DEAL_ENTRY_OUT_BY) for d in group)
        if not opening or not closed:
            continue  # still open, or opened before the window
        deal = min(opening, key=lambda d: d.time_msc)
        order = orders.get(int(deal.order))
        sl, tp = (float(order.sl), float(order.tp)) if order is not None else (0.0, 0.0)
        direction = "BUY" if deal.type == c.DEAL_TYPE_BUY else "SELL"
        rows.append(f"{iso(deal.time_msc / 1000)},{deal.symbol},{direction},{deal.volume},{sl},{tp},{deal.price}")
        first[deal.symbol] = min(first.get(deal.symbol, now), deal.time_msc / 1000)
        logger.debug("history: position %d replayed as %s %s", position, direction, deal.symbol)
    if not first:
        from app.replay.inputs import ReplayInputError

        raise ReplayInputError(
            "--history", None, f"no closed trades in the last {days:g} days", "ask for more days, or give --trades FILE"
        )
    bars: dict[str, Path] = {}
    for symbol, opened in sorted(first.items()):
        reply = await gateway.call(
            "copy_rates_range", symbol, c.TIMEFRAME_M1, int(opened - WARMUP_DAYS * 86400), int(now)
        )
        rates = reply.value if reply.ok else None
        if rates is None or len(rates) == 0:
            from app.replay.inputs import ReplayInputError

            raise ReplayInputError(
                "--history",
                None,
                f"the terminal gave no M1 bars for {symbol} ({reply.error})",
                f"open a {symbol} M1 chart in MT5 so it loads the history, then try again",
            )
        lines = [_MT5_HEADER]
        for r in rates:
            when = datetime.fromtimestamp(int(r["time"]), tz=UTC)
            lines.append(
                f"{when:%Y.%m.%d}\t{when:%H:%M:%S}\t{r['open']}\t{r['high']}\t{r['low']}\t{r['close']}\t"
                f"{int(r['tick_volume'])}\t{int(r['real_volume'])}\t{int(r['spread'])}"
            )
        path = folder / f"{symbol}_M1.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        bars[symbol] = path
    trades = folder / "trades.csv"
    trades.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return bars, trades
