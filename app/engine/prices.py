"""Prices as a trader reads them: at the symbol's digits, as the terminal shows them."""

from __future__ import annotations


def price_text(price: float, digits: int | None) -> str:
    """A price at all its symbol's digits: ``:g`` keeps six significant digits, so BTCUSD's 88921.02 would read
    88921. Where the digits are not known (the symbol's rules not read yet), the shortest form."""
    return f"{price:.{digits}f}" if digits is not None else f"{price:g}"
