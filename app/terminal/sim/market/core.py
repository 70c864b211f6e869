"""The simulated market: seeded prices for every symbol, with ticks and bars of all MT5 timeframes.

Each symbol follows a seeded M1 model (``market_model``); the ticks of a minute are made from its bar
(``market_synth``) and released as the clock passes them. Scripted prices (a held price or a path) replace
the seeded bids while they last. Bars are stored at M1 and aggregated on request; ticks are kept for the last
``LIVE_TICK_HOURS`` and synthesised from the bars before that. A clock jump of more than ``BULK_MINUTES``
is filled at M1 resolution without making the ticks of the skipped minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.terminal.constants import TICK_FLAG_ASK, TICK_FLAG_BID
from app.terminal.sim.clock import SimClock
from app.terminal.sim.market import queries
from app.terminal.sim.market.model import MINUTES_PER_DAY
from app.terminal.sim.market.replay import ReplayTrack, attach
from app.terminal.sim.market.script import Script
from app.terminal.sim.market.snapshot import SNAPSHOT_VERSION, dump_symbol, load_symbol, saved_history
from app.terminal.sim.market.state import (
    BULK_CHUNK_MINUTES,
    HistoryParams,
    SymbolState,
    bulk_bars,
    live_ticks,
    mark_moved,
    new_state,
    scripted_ticks,
    ticks_of_bars,
)
from app.terminal.sim.market.synth import layout
from app.terminal.sim.symbols import SymbolSpec, preset_symbols
from app.terminal.structs import TICKS_DTYPE

logger = logging.getLogger(__name__)

#: Clock jumps longer than this many whole minutes are filled with M1 bars only.
BULK_MINUTES = 60
#: How much of the recent past keeps its live ticks.
LIVE_TICK_HOURS = 24
_LIVE_TICK_MSC = LIVE_TICK_HOURS * 3_600_000
_TRIM_SLACK_MSC = 3_600_000


@dataclass(frozen=True, slots=True)
class Quote:
    """The latest tick of a symbol, as ``symbol_info_tick`` reports it."""

    time_msc: int
    bid: float
    ask: float
    last: float
    volume: int
    flags: int
    volume_real: float


class Market:
    """Every symbol's price path, brought up to the clock's time whenever something reads it.

    ``symbols`` are the live specs shared with the terminal: a new ``spread_points`` is priced from the next
    tick, a symbol added to the dict gets its history on first use. ``start_price`` and
    ``annual_volatility`` shape the generated path and are read once, when the symbol's history is made.
    Any seed is accepted; it is reduced to 64 bits. A symbol named in ``replay`` plays those bars instead of
    the seeded model (``market/replay.py``).
    """

    def __init__(
        self,
        *,
        clock: SimClock,
        seed: int,
        symbols: dict[str, SymbolSpec] | None = None,
        history_days: float = 21.0,
        replay: dict[str, ReplayTrack] | None = None,
        snapshot: dict | None = None,
    ) -> None:
        """``snapshot`` (of ``snapshot()``): continue from it, as ``restore`` does, without first making the
        history of the symbols it holds (a snapshot this version cannot read is left out, with a warning)."""
        self._clock = clock
        self._seed = fresh_seed = int(seed) % 2**64
        self._replay = dict(replay or {})
        self.symbols: dict[str, SymbolSpec] = preset_symbols() if symbols is None else symbols
        origin = clock.now_msc() // 60000
        self._first_minute = origin - int(round(history_days * MINUTES_PER_DAY))
        self._states: dict[str, SymbolState] = {}
        if snapshot is not None:
            try:
                self.restore(snapshot)
            except (ValueError, KeyError, TypeError) as exc:
                logger.warning("saved market not restored (%s); prices start afresh", exc)
        for name, spec in self.symbols.items():
            if name not in self._states:
                self._states[name] = self._create(
                    spec, first_minute=self._first_minute, origin_minute=origin, seed=fresh_seed
                )

    # --- prices ----------------------------------------------------------------------------------------

    def quote(self, symbol: str) -> Quote:
        """The latest tick at ``clock.now()``."""
        st = self._state(symbol)
        now = self._clock.now_msc()
        if now >= st.next_msc:
            self._advance(st, now)
        if st.quote is None:
            t = st.last
            st.quote = Quote(
                int(t["time_msc"]),
                float(t["bid"]),
                float(t["ask"]),
                float(t["last"]),
                int(t["volume"]),
                int(t["flags"]),
                float(t["volume_real"]),
            )
        return st.quote

    def advance_to_now(self) -> list[tuple[str, float, float, float, float]]:
        """Bring every symbol up to now; per symbol that ticked since the last call, its bid and ask range."""
        now = self._clock.now_msc()
        moved = []
        for name, st in self._states.items():
            self._advance(st, now)
            if st.moved is not None:
                lo_bid, hi_bid, lo_ask, hi_ask = (float(v) for v in st.moved)
                moved.append((name, lo_bid, hi_bid, lo_ask, hi_ask))
                st.moved = None
        return moved

    # --- history -------------------------------------------------------------------------------------

    def rates_from_pos(self, symbol: str, timeframe: int, start_pos: int, count: int) -> np.ndarray:
        """``count`` bars (RATES_DTYPE) ending ``start_pos`` bars before the forming one (0), oldest first."""
        return queries.rates_from_pos(self._current(symbol), timeframe, start_pos, count)

    def rates_from(self, symbol: str, timeframe: int, date_from: float, count: int) -> np.ndarray:
        """``count`` bars ending with the bar open at ``date_from`` (epoch seconds), oldest first."""
        return queries.rates_from(self._current(symbol), timeframe, date_from, count)

    def rates_range(self, symbol: str, timeframe: int, date_from: float, date_to: float) -> np.ndarray:
        """Bars opening within ``[date_from, date_to]``, oldest first."""
        return queries.rates_range(self._current(symbol), timeframe, date_from, date_to)

    def ticks_from(self, symbol: str, date_from: float, count: int, flags: int) -> np.ndarray:
        """The first ``count`` ticks (TICKS_DTYPE) at or after ``date_from`` selected by COPY_TICKS_* ``flags``."""
        return queries.ticks_from(self._current(symbol), date_from, count, flags)

    def ticks_range(self, symbol: str, date_from: float, date_to: float, flags: int) -> np.ndarray:
        """Ticks with ``date_from <= time <= date_to`` selected by COPY_TICKS_* ``flags``, oldest first."""
        return queries.ticks_range(self._current(symbol), date_from, date_to, flags)

    # --- scripted prices -------------------------------------------------------------------------------

    def set_price(self, symbol: str, bid: float, ask: float | None = None) -> None:
        """Hold the price at ``bid``/``ask`` (ask None: bid + the typical spread) until told otherwise."""
        st, now = self._synced(symbol)
        digits = st.spec.digits
        st.script = Script.hold(
            now,
            round(float(bid), digits),
            spread_points=st.spec.spread_points,
            ask=None if ask is None else round(float(ask), digits),
        )
        self._reprice_minute(st, now)
        logger.debug("%s held at %s", symbol, bid)

    def play_path(
        self, symbol: str, points: Sequence[tuple[float, float]], *, spread_points: int | None = None
    ) -> None:
        """Move the bid through ``points`` (seconds after now, bid), linearly in simulated time."""
        st, now = self._synced(symbol)
        spread = st.spec.spread_points if spread_points is None else spread_points
        rounded = [(float(t), round(float(b), st.spec.digits)) for t, b in points]
        st.script = Script.path(now, float(st.last["bid"]), rounded, spread_points=spread)
        self._reprice_minute(st, now)
        logger.debug("%s follows a path of %d points", symbol, len(rounded))

    def release_price(self, symbol: str) -> None:
        """Back to the seeded process, continuing from the current price."""
        st, now = self._synced(symbol)
        if st.script is None:
            return
        st.script = None
        st.anchor_price = float(st.last["bid"])
        st.anchor_x = float(st.model.bars(st.cur_minute, st.cur_minute + 1).xo[0])
        self._reprice_minute(st, now)
        logger.debug("%s released at %s", symbol, st.anchor_price)

    def is_scripted(self, symbol: str) -> bool:
        return self._state(symbol).script is not None

    # --- persistence -------------------------------------------------------------------------------------

    def snapshot(self) -> dict:
        """JSON-serialisable state: each symbol's bars since it went live, scripted state and live path."""
        now = self._clock.now_msc()
        symbols = {}
        for name, st in self._states.items():
            self._advance(st, now)
            symbols[name] = dump_symbol(st)
        return {"version": SNAPSHOT_VERSION, "seed": self._seed, "symbols": symbols}

    def restore(self, data: dict) -> None:
        """Continue from a snapshot: same prices, scripted state and bars as when it was taken."""
        if data.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported market snapshot version {data.get('version')!r}")
        seed = int(data["seed"]) % 2**64
        restored: dict[str, SymbolState] = {}
        for name, saved in data["symbols"].items():
            spec = self.symbols.get(name)
            if spec is None:
                logger.warning("snapshot symbol %s is not offered any more; dropped", name)
                continue
            history = saved_history(saved)
            st = self._create(
                spec, first_minute=history.first_minute, origin_minute=history.origin_minute, history=history, seed=seed
            )
            load_symbol(st, saved)
            st.next_msc = self._next_event(st)
            restored[name] = st
        self._seed = seed
        self._states.update(restored)
        logger.info("market restored (%d symbols)", len(restored))

    # --- the path ------------------------------------------------------------------------------------------

    def _state(self, symbol: str) -> SymbolState:
        st = self._states.get(symbol)
        if st is None:
            spec = self.symbols.get(symbol)
            if spec is None:
                raise KeyError(f"unknown symbol {symbol!r}")
            origin = self._clock.now_msc() // 60000
            st = self._states[symbol] = self._create(spec, first_minute=self._first_minute, origin_minute=origin)
        return st

    def _current(self, symbol: str) -> SymbolState:
        return self._synced(symbol)[0]

    def _synced(self, symbol: str) -> tuple[SymbolState, int]:
        st = self._state(symbol)
        now = self._clock.now_msc()
        self._advance(st, now)
        return st, now

    def _create(
        self,
        spec: SymbolSpec,
        *,
        first_minute: int,
        origin_minute: int,
        history: HistoryParams | None = None,
        seed: int | None = None,
    ) -> SymbolState:
        """A symbol with its generated history up to ``origin_minute``, ready to go live from there."""
        st = new_state(
            spec,
            seed=self._seed if seed is None else seed,
            first_minute=first_minute,
            origin_minute=origin_minute,
            history=history,
        )
        track = self._replay.get(spec.name)
        if track is not None:
            attach(st, track)
        h = st.history
        if h.origin_minute > h.first_minute:
            rows = bulk_bars(st, h.first_minute, h.origin_minute, spread_points=h.spread_points, digits=h.digits)
            st.series.append(rows)
            last_bar = ticks_of_bars(
                st, h.origin_minute - 1, rows[-1:], prev_bid=0.0, prev_ask=0.0, digits=h.digits, point=h.point
            )
            st.last = last_bar[-1]
        st.cur_minute = h.origin_minute - 1
        st.next_msc = h.origin_minute * 60000
        return st

    def _advance(self, st: SymbolState, now: int) -> None:
        if now < st.next_msc:
            return
        minute = now // 60000
        if minute > st.cur_minute:
            self._release(st, len(st.pending))
            first = st.cur_minute + 1
            if minute - first > BULK_MINUTES:
                self._fill_bulk(st, first, minute)
            elif minute > first:
                self._emit(st, live_ticks(st, first, minute, prev_bid=st.last["bid"], prev_ask=st.last["ask"]))
            st.cur_minute = minute
            st.pending = live_ticks(st, minute, minute + 1, prev_bid=st.last["bid"], prev_ask=st.last["ask"])
            st.priced_spread = st.spec.spread_points
            st.released = 0
        self._release(st, int(np.searchsorted(st.pending["time_msc"], now, side="right")))
        st.next_msc = self._next_event(st)
        if st.script is None and st.priced_spread != st.spec.spread_points:
            self._reprice_minute(st, now)  # the broker changed the typical spread
        oldest = st.ticks.oldest_msc
        if oldest is not None and oldest < now - _LIVE_TICK_MSC - _TRIM_SLACK_MSC:
            st.ticks.trim((now - _LIVE_TICK_MSC) // 60000 * 60000)

    @staticmethod
    def _next_event(st: SymbolState) -> int:
        if st.released < len(st.pending):
            return int(st.pending["time_msc"][st.released])
        return (st.cur_minute + 1) * 60000

    def _release(self, st: SymbolState, upto: int) -> None:
        if upto > st.released:
            self._emit(st, st.pending[st.released : upto])
            st.released = upto

    def _emit(self, st: SymbolState, ticks: np.ndarray, *, keep: bool = True) -> None:
        """Ticks become history: bars, the tick buffer (if ``keep``), the moved range and the last tick."""
        if len(ticks) == 0:
            return
        if keep:
            st.ticks.append(ticks)
        st.series.merge_ticks(ticks, st.spec.point)
        bid, ask = ticks["bid"], ticks["ask"]
        mark_moved(st, bid.min(), bid.max(), ask.min(), ask.max())
        st.last = ticks[-1].copy()
        st.quote = None

    def _fill_bulk(self, st: SymbolState, a: int, b: int) -> None:
        """Minutes ``[a, b)`` at M1 resolution; their ticks are synthesised from the bars when asked for."""
        spec = st.spec
        if st.script is None:
            rows = bulk_bars(st, a, b, spread_points=spec.spread_points, digits=spec.digits)
            st.series.append(rows)
            ask_offset = rows["spread"] * spec.point
            low_ask = round(float((rows["low"] + ask_offset).min()), spec.digits)
            high_ask = round(float((rows["high"] + ask_offset).max()), spec.digits)
            mark_moved(st, rows["low"].min(), rows["high"].max(), low_ask, high_ask)
            st.last = ticks_of_bars(
                st, b - 1, rows[-1:], prev_bid=rows["open"][-1], prev_ask=0.0, digits=spec.digits, point=spec.point
            )[-1]
            st.quote = None
        else:
            for lo in range(a, b, BULK_CHUNK_MINUTES):
                hi = min(b, lo + BULK_CHUNK_MINUTES)
                lay = layout(st.noise, np.arange(lo, hi, dtype=np.int64), st.model.bars(lo, hi).n)
                ticks = scripted_ticks(st, st.script, lay, prev_bid=st.last["bid"], prev_ask=st.last["ask"])
                self._emit(st, ticks, keep=False)
        st.ticks.reset(b * 60000)

    def _reprice_minute(self, st: SymbolState, now: int) -> None:
        """After a change of mode or spread: a tick at ``now`` if scripted, the rest of the minute repriced.

        Every pending tick up to ``now`` is already out; the ticks after it are made again in the new mode.
        """
        full = live_ticks(st, st.cur_minute, st.cur_minute + 1, prev_bid=st.last["bid"], prev_ask=st.last["ask"])
        st.priced_spread = st.spec.spread_points
        parts = [st.pending[: st.released]]
        if st.script is not None:
            bid, ask = st.script.prices(np.array([now]), digits=st.spec.digits, point=st.spec.point)
            tick = np.zeros(1, dtype=TICKS_DTYPE)
            tick["time_msc"], tick["time"] = now, now // 1000
            tick["bid"], tick["ask"], tick["last"] = bid, ask, st.last["last"]
            tick["flags"] = _change_flags(float(bid[0]), float(ask[0]), st.last)
            parts.append(tick)
        rest = full[int(np.searchsorted(full["time_msc"], now, side="right")) :].copy()
        st.pending = np.concatenate(parts)
        self._release(st, len(st.pending))
        if len(rest):
            rest["flags"][0] = (int(rest["flags"][0]) & ~(TICK_FLAG_BID | TICK_FLAG_ASK)) | _change_flags(
                float(rest["bid"][0]), float(rest["ask"][0]), st.last
            )
        st.pending = np.concatenate((st.pending, rest))
        st.next_msc = self._next_event(st)


def _change_flags(bid: float, ask: float, before: np.void) -> int:
    flags = (TICK_FLAG_BID if bid != before["bid"] else 0) | (TICK_FLAG_ASK if ask != before["ask"] else 0)
    return flags or (TICK_FLAG_BID | TICK_FLAG_ASK)
