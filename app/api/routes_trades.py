"""Handing trades to DTMS and reading what it does with them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.api import schemas
from app.api.deps import Facade, errors
from app.api.trade_list import TradeQuery

router = APIRouter(tags=["trades"])

TicketPath = Annotated[int, Path(gt=0, le=schemas.MAX_INT64, description="the MT5 position ticket")]


@router.post(
    "/dtms/trade/enable",
    response_model=schemas.EnableTradeResponse,
    responses=errors(400, 404, 409, 413, 415, 422, 503),
)
async def enable_trade(body: schemas.EnableTradeRequest, facade: Facade) -> schemas.EnableTradeResponse:
    """Hand an open position to DTMS. Idempotent: a second call answers ``already_registered: true``.

    404 when the ticket is not an open position, 409 when ``symbol`` or ``direction`` contradicts it,
    503 while DTMS is not ready.
    """
    return await facade.enable(body)


@router.post(
    "/dtms/trade/disable", response_model=schemas.DisableTradeResponse, responses=errors(400, 404, 413, 415, 422, 503)
)
async def disable_trade(body: schemas.DisableTradeRequest, facade: Facade) -> schemas.DisableTradeResponse:
    """Stop managing a trade; its history is kept. 404 when it is not managed."""
    return await facade.disable(body)


@router.get("/dtms/trades", response_model=schemas.TradesResponse, responses=errors(422))
async def list_trades(
    facade: Facade,
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="at most this many trades (a page)")] = None,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,19}$", description="``next_cursor`` of the previous page")
    ] = None,
    state: Annotated[schemas.DefensiveStateName | None, Query(description="only trades in this state")] = None,
    symbol: Annotated[str | None, Query(min_length=1, max_length=64, description="only trades on this symbol")] = None,
) -> Response:
    """Managed trades in ticket order with their state; without parameters every one of them.

    ``total`` counts the trades matching the filters on all pages; ``next_cursor`` (null on the last page)
    fetches the next page. A trade open while the pages are read is listed exactly once.
    """
    query = TradeQuery(limit=limit, cursor=int(cursor) if cursor is not None else None, state=state, symbol=symbol)
    return Response(await facade.trades(query), media_type="application/json")


@router.get("/dtms/trade/{ticket}", response_model=schemas.TradeDetail, responses=errors(404, 422))
async def get_trade(ticket: TicketPath, facade: Facade) -> schemas.TradeDetail:
    """One trade (managed now or before): state, score, R, SL/TP, timers, transitions and journal."""
    return await facade.trade(ticket)


@router.get("/trade-registry/{ticket}", response_model=schemas.TradeRegistryEntry, responses=errors(422))
async def registry_entry(ticket: TicketPath, facade: Facade) -> schemas.TradeRegistryEntry:
    """Who manages a ticket; an unknown ticket answers 200 with ``managed_by: null``."""
    return await facade.registry_entry(ticket)


@router.get("/dtms/actions", response_model=schemas.ActionsResponse, responses=errors(422))
async def recent_actions(facade: Facade, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> schemas.ActionsResponse:
    """Recent actions, newest first, each with its real MT5 outcome."""
    return await facade.actions(limit)
