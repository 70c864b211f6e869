"""The one vocabulary of the scorer: regime labels, component names and the confluence verdict.

The same members are the labels a regime carries and the keys of every settings table, and parsing is
case-insensitive (``"range"``, ``"Range"`` and ``"RANGE"`` are one label), so a setting can never miss the
label it was written for.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self, cast


class Label(StrEnum):
    """A StrEnum that accepts its values in any case and with surrounding blanks."""

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if isinstance(value, str):
            wanted = value.strip().upper()
            for member in cls:
                if member.value == wanted:
                    return member
        return None


class Session(Label):
    """Trading session by UTC hour; OVERLAP is London and New York at once."""

    ASIAN = "ASIAN"
    LONDON = "LONDON"
    NY = "NY"
    OVERLAP = "OVERLAP"


class Volatility(Label):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"


class MarketStructure(Label):
    RANGE = "RANGE"
    TREND = "TREND"


RegimeLabel = Session | Volatility | MarketStructure
REGIME_LABEL_TYPES: tuple[type[Label], ...] = (Session, Volatility, MarketStructure)


def parse_regime_label(value: object) -> RegimeLabel:
    """Any session, volatility or structure label, in any case; ValueError for anything else."""
    for kind in REGIME_LABEL_TYPES:
        try:
            # an Enum lookup takes any value (the stub's constructor says str); kind is one of the three
            return cast("RegimeLabel", kind(value))  # type: ignore[arg-type]
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a regime label (sessions, volatilities or structures)")


class ComponentName(Label):
    """The six scoring components, in the order they are reported."""

    STRUCTURE = "STRUCTURE"
    VWAP = "VWAP"
    MOMENTUM = "MOMENTUM"
    EMA = "EMA"
    DELTA = "DELTA"
    CANDLE = "CANDLE"

    @property
    def display_name(self) -> str:
        return _DISPLAY_NAMES[self]


_DISPLAY_NAMES = {
    ComponentName.STRUCTURE: "structure",
    ComponentName.VWAP: "VWAP + volume",
    ComponentName.MOMENTUM: "momentum",
    ComponentName.EMA: "EMA alignment",
    ComponentName.DELTA: "order-flow delta",
    ComponentName.CANDLE: "candle conviction",
}


class Confluence(Label):
    """Where the weighted evidence points, relative to the trade."""

    FAVOUR = "FAVOUR"
    AGAINST = "AGAINST"
    MIXED = "MIXED"
