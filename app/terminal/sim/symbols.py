"""Broker symbol specifications of the simulated terminal, with the preset symbols it offers."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from app.terminal.constants import (
    SYMBOL_FILLING_FOK,
    SYMBOL_FILLING_IOC,
    SYMBOL_TRADE_EXECUTION_MARKET,
    SYMBOL_TRADE_MODE_FULL,
)

logger = logging.getLogger(__name__)


@dataclass(slots=True, kw_only=True)
class SymbolSpec:
    """One symbol's contract and trading rules, plus the parameters of its simulated price process.

    Mutable on purpose: the simulator's control calls change broker rules (stops level, trade mode, ...)
    on the live object that the market and the terminal share.
    """

    name: str
    description: str
    path: str
    currency_base: str
    currency_profit: str
    currency_margin: str
    digits: int
    point: float
    trade_tick_size: float
    trade_tick_value: float
    trade_contract_size: float
    volume_min: float
    volume_max: float
    volume_step: float
    trade_stops_level: int  # points
    trade_freeze_level: int  # points
    filling_mode: int  # SYMBOL_FILLING_* bitmask
    trade_mode: int
    trade_exemode: int
    spread_points: int  # typical spread
    start_price: float
    annual_volatility: float
    has_trade_flags: bool  # ticks carry TICK_FLAG_BUY/SELL, last and volume_real
    swap_long: float
    swap_short: float
    margin_initial: float = 0.0
    margin_maintenance: float = 0.0


_FOK_IOC = SYMBOL_FILLING_FOK | SYMBOL_FILLING_IOC


def _forex(
    name: str, description: str, *, digits: int, start: float, spread: int, vol: float, swaps: tuple[float, float]
) -> SymbolSpec:
    point = 10.0**-digits
    base, quote = name[:3], name[3:]
    contract = 100_000.0
    # Tick value in the account currency (USD): exact for XXXUSD, at the start price for USDXXX.
    tick_value = contract * point if quote == "USD" else round(contract * point / start, 5)
    return SymbolSpec(
        name=name,
        description=description,
        path=f"Forex\\Majors\\{name}",
        currency_base=base,
        currency_profit=quote,
        currency_margin=base,
        digits=digits,
        point=point,
        trade_tick_size=point,
        trade_tick_value=tick_value,
        trade_contract_size=contract,
        volume_min=0.01,
        volume_max=100.0,
        volume_step=0.01,
        trade_stops_level=0,
        trade_freeze_level=0,
        filling_mode=_FOK_IOC,
        trade_mode=SYMBOL_TRADE_MODE_FULL,
        trade_exemode=SYMBOL_TRADE_EXECUTION_MARKET,
        spread_points=spread,
        start_price=start,
        annual_volatility=vol,
        has_trade_flags=False,
        swap_long=swaps[0],
        swap_short=swaps[1],
    )


def _build_presets() -> dict[str, SymbolSpec]:
    specs = [
        _forex("EURUSD", "Euro vs US Dollar", digits=5, start=1.08, spread=10, vol=0.08, swaps=(-6.9, 1.4)),
        _forex(
            "GBPUSD", "Great Britain Pound vs US Dollar", digits=5, start=1.27, spread=14, vol=0.09, swaps=(-4.2, 0.3)
        ),
        _forex("USDJPY", "US Dollar vs Japanese Yen", digits=3, start=150.0, spread=12, vol=0.10, swaps=(14.8, -29.5)),
        SymbolSpec(
            name="XAUUSD",
            description="Gold vs US Dollar",
            path="Metals\\XAUUSD",
            currency_base="XAU",
            currency_profit="USD",
            currency_margin="USD",
            digits=2,
            point=0.01,
            trade_tick_size=0.01,
            trade_tick_value=1.0,
            trade_contract_size=100.0,
            volume_min=0.01,
            volume_max=50.0,
            volume_step=0.01,
            trade_stops_level=20,
            trade_freeze_level=10,
            filling_mode=_FOK_IOC,
            trade_mode=SYMBOL_TRADE_MODE_FULL,
            trade_exemode=SYMBOL_TRADE_EXECUTION_MARKET,
            spread_points=25,
            start_price=2400.0,
            annual_volatility=0.15,
            has_trade_flags=False,
            swap_long=-48.5,
            swap_short=21.3,
        ),
        SymbolSpec(
            name="BTCUSD",
            description="Bitcoin vs US Dollar",
            path="Crypto\\BTCUSD",
            currency_base="BTC",
            currency_profit="USD",
            currency_margin="USD",
            digits=2,
            point=0.01,
            trade_tick_size=0.01,
            trade_tick_value=0.01,
            trade_contract_size=1.0,
            volume_min=0.01,
            volume_max=10.0,
            volume_step=0.01,
            trade_stops_level=500,
            trade_freeze_level=200,
            filling_mode=_FOK_IOC,
            trade_mode=SYMBOL_TRADE_MODE_FULL,
            trade_exemode=SYMBOL_TRADE_EXECUTION_MARKET,
            spread_points=1500,
            start_price=65000.0,
            annual_volatility=0.60,
            has_trade_flags=True,
            swap_long=-22.0,
            swap_short=-12.0,
        ),
    ]
    return {spec.name: spec for spec in specs}


#: The preset symbols. Treat as read-only; ``preset_symbols()`` gives copies to mutate.
PRESET_SYMBOLS: dict[str, SymbolSpec] = _build_presets()


def preset_symbols() -> dict[str, SymbolSpec]:
    """Fresh, independent copies of the preset symbols (a simulated broker mutates its own)."""
    return {name: dataclasses.replace(spec) for name, spec in PRESET_SYMBOLS.items()}
