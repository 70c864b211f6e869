"""Handing trades to DTMS and reading what it does with them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.api import schemas
from app.api.deps import Facade, errors

router = APIRouter(tags=["trades"])

TicketPath = Annotated[int, Path(gt=0, le=schemas.MAX_INT64, description="the MT5 position ticket")]


@router.post("/dtms/trade/enable", response_model=schemas.EnableTradeResponse,
             responses=errors(400, 404, 409, 413, 415, 422, 503))
async def enable_trade(body: schemas.EnableTradeRequest, facade: Facade) -> schemas.EnableTradeResponse:
    """Hand an open position to DTMS. Idempotent: a second call answers ``already_registered: true``.

    404 when the ticket is not an open position, 409 when ``symbol`` or ``direction`` contradicts it,
    503 while DTMS is not ready.
    """
    return await facade.enable(body)


@router.post("/dtms/trade/disable", response_model=schemas.DisableTradeResponse,
             responses=errors(400, 404, 413, 415, 422, 503))
async def disable_trade(body: schemas.DisableTradeRequest, facade: Facade) -> schemas.DisableTradeResponse:
    """Stop managing a trade; its history is kept. 404 when it is not managed."""
    return await facade.disable(body)


@router.get("/dtms/trades", response_model=schemas.TradesResponse)
async def list_trades(facade: Facade) -> schemas.TradesResponse:
    """Every managed trade with its state."""
    return await facade.trades()


@router.get("/dtms/trade/{ticket}", response_model=schemas.TradeDetail, responses=errors(404, 422))
async def get_trade(ticket: TicketPath, facade: Facade) -> schemas.TradeDetail:
    """One trade (managed now or before): state, score, R, SL/TP, timers, transitions and journal."""
    return await facade.trade(ticket)


@router.get("/trade-registry/{ticket}", response_model=schemas.TradeRegistryEntry, responses=errors(422))
async def registry_entry(ticket: TicketPath, facade: Facade) -> schemas.TradeRegistryEntry:
    """Who manages a ticket; an unknown ticket answers 200 with ``managed_by: null``."""
    return await facade.registry_entry(ticket)


@router.get("/dtms/actions", response_model=schemas.ActionsResponse, responses=errors(422))
async def recent_actions(facade: Facade,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> schemas.ActionsResponse:
    """Recent actions, newest first, each with its real MT5 outcome."""
    return await facade.actions(limit)
