"""The seeded M1 price model of one simulated symbol.

The model lives in log-price space: ``x`` is the cumulative log return since the model's first day. It is
generated one UTC day (1,440 minutes) at a time from a generator seeded by (seed, symbol, day), carrying only
the closing ``x`` and the volatility regime into the next day, so the path is a pure function of the seed,
the symbol and the first day: however the clock is stepped, minute ``m`` always gets the same bar.

Per minute: a volatility regime (a Markov chain over low/normal/high with geometric holding times), a
session factor by UTC hour (Asia quiet, London and the London/New York overlap busy), a fat-tailed body
move, high/low excursions, a tick count (about one tick a second on average) and a spread multiplier.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

MINUTES_PER_DAY = 1440
_MINUTES_PER_YEAR = 365.0 * MINUTES_PER_DAY
#: Most ticks a minute may hold (keeps tick keys within 12 bits).
MAX_TICKS_PER_MINUTE = 1000
_MEAN_TICKS_PER_MINUTE = 60.0
_T_DOF = 5.0

# Session shape by UTC hour: Asia 00-06, London 07-11, overlap 12-15, New York 16-20, the rollover 21-23.
_SESSION_SHAPE = np.array(
    [
        0.55,
        0.6,
        0.65,
        0.65,
        0.6,
        0.6,
        0.65,
        1.1,
        1.3,
        1.25,
        1.15,
        1.1,
        1.4,
        1.6,
        1.6,
        1.4,
        1.1,
        0.95,
        0.85,
        0.75,
        0.65,
        0.45,
        0.4,
        0.5,
    ]
)
_SESSION_SPREAD = np.array([1.3] + [1.0] * 20 + [1.6, 1.8, 1.5])

# Regimes: 0 low, 1 normal, 2 high volatility.
_REGIME_VOL = np.array([0.6, 1.0, 1.9])
_REGIME_ACTIVITY = np.array([0.7, 1.0, 1.5])
_REGIME_SPREAD = np.array([0.9, 1.0, 1.8])
_REGIME_MEAN_MINUTES = np.array([240.0, 480.0, 90.0])
_REGIME_NEXT = np.array([[0.0, 0.8, 0.2], [0.5, 0.0, 0.5], [0.2, 0.8, 0.0]])


def _stationary_time_share() -> np.ndarray:
    """Long-run share of time spent in each regime (jump chain's stationary law times holding times)."""
    values, vectors = np.linalg.eig(_REGIME_NEXT.T)
    nu = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
    share = nu / nu.sum() * _REGIME_MEAN_MINUTES
    return share / share.sum()


_REGIME_SHARE = _stationary_time_share()
# Normalise so the average variance equals the symbol's annual volatility and the average tick rate is ~1/s.
_HOUR_VOL = _SESSION_SHAPE / np.sqrt(np.mean(_SESSION_SHAPE**2))
_REGIME_VOL_N = _REGIME_VOL / np.sqrt(np.sum(_REGIME_SHARE * _REGIME_VOL**2))
_HOUR_ACTIVITY = _SESSION_SHAPE**0.8 / np.mean(_SESSION_SHAPE**0.8)
_REGIME_ACTIVITY_N = _REGIME_ACTIVITY / np.sum(_REGIME_SHARE * _REGIME_ACTIVITY)
_HOUR_OF_MINUTE = np.arange(MINUTES_PER_DAY) // 60


@dataclass(frozen=True, slots=True)
class ModelBars:
    """Model bars for consecutive minutes: log-space OHLC, tick counts, spread multipliers, regimes."""

    xo: np.ndarray
    xh: np.ndarray
    xl: np.ndarray
    xc: np.ndarray
    n: np.ndarray
    spread_mult: np.ndarray
    regime: np.ndarray

    def slice(self, i0: int, i1: int) -> ModelBars:
        return ModelBars(
            self.xo[i0:i1],
            self.xh[i0:i1],
            self.xl[i0:i1],
            self.xc[i0:i1],
            self.n[i0:i1],
            self.spread_mult[i0:i1],
            self.regime[i0:i1],
        )


def _concat(parts: list[ModelBars]) -> ModelBars:
    if len(parts) == 1:
        return parts[0]
    return ModelBars(*(np.concatenate([getattr(p, f) for p in parts]) for f in ModelBars.__slots__))


class PriceModel:
    """The M1 model of one symbol from ``first_day`` (UTC day number) on; days are generated in order."""

    def __init__(self, *, seed: int, key: int, annual_volatility: float, first_day: int) -> None:
        self._seed = int(seed)
        self._key = int(key)
        self.annual_volatility = float(annual_volatility)
        self._sigma = self.annual_volatility / np.sqrt(_MINUTES_PER_YEAR)
        self.first_day = int(first_day)
        start = np.random.default_rng([self._seed, self._key, self.first_day, 1])
        self._regime = int(start.choice(3, p=_REGIME_SHARE))
        self._remaining = int(start.geometric(1.0 / _REGIME_MEAN_MINUTES[self._regime]))
        self._x = 0.0
        self._next_day = self.first_day
        self._days: dict[int, ModelBars] = {}

    def bars(self, m0: int, m1: int) -> ModelBars:
        """Model bars for minutes ``[m0, m1)``; minutes before the first day are an error."""
        if m0 < self.first_day * MINUTES_PER_DAY or m1 <= m0:
            raise ValueError(f"no model bars for minutes [{m0}, {m1})")
        d0, d1 = m0 // MINUTES_PER_DAY, (m1 - 1) // MINUTES_PER_DAY
        while self._next_day <= d1:
            self._generate_next_day()
        for old in [d for d in self._days if d < d0 - 1]:
            del self._days[old]
        if d0 not in self._days:
            raise ValueError(f"model day {d0} is no longer held (the model only moves forward)")
        parts = []
        for day in range(d0, d1 + 1):
            base = day * MINUTES_PER_DAY
            parts.append(self._days[day].slice(max(m0, base) - base, min(m1, base + MINUTES_PER_DAY) - base))
        return _concat(parts)

    def _generate_next_day(self) -> None:
        day = self._next_day
        rng = np.random.default_rng([self._seed, self._key, day])
        size = MINUTES_PER_DAY
        regime = np.empty(size, dtype=np.int8)
        pos = 0
        while pos < size:
            if self._remaining <= 0:
                self._regime = int(rng.choice(3, p=_REGIME_NEXT[self._regime]))
                self._remaining = int(rng.geometric(1.0 / _REGIME_MEAN_MINUTES[self._regime]))
            take = min(self._remaining, size - pos)
            regime[pos : pos + take] = self._regime
            pos += take
            self._remaining -= take
        sigma = self._sigma * _HOUR_VOL[_HOUR_OF_MINUTE] * _REGIME_VOL_N[regime]
        rate = _MEAN_TICKS_PER_MINUTE * _HOUR_ACTIVITY[_HOUR_OF_MINUTE] * _REGIME_ACTIVITY_N[regime]
        n = np.clip(rng.poisson(rate), 1, MAX_TICKS_PER_MINUTE).astype(np.int64)
        gap = sigma * rng.standard_normal(size) / np.sqrt(n)
        body = sigma * rng.standard_t(_T_DOF, size) / np.sqrt(_T_DOF / (_T_DOF - 2.0))
        up = 0.5 * np.abs(rng.standard_normal(size))
        down = 0.5 * np.abs(rng.standard_normal(size))
        jitter = np.exp(0.15 * rng.standard_normal(size))
        # Two ticks are the open and the close; three leave room for one excursion only.
        up[n <= 2] = 0.0
        down[n <= 2] = 0.0
        three = n == 3
        up[three & (up < down)] = 0.0
        down[three & (down <= up)] = 0.0
        xc = self._x + np.cumsum(gap + body)
        xo = xc - body
        xh = np.maximum(xo, xc) + sigma * up
        xl = np.minimum(xo, xc) - sigma * down
        spread_mult = _REGIME_SPREAD[regime] * _SESSION_SPREAD[_HOUR_OF_MINUTE] * jitter
        self._days[day] = ModelBars(xo, xh, xl, xc, n, spread_mult, regime)
        self._x = float(xc[-1])
        self._next_day = day + 1
