"""What every handler needs from the application object, as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.api.facade import ApiFacade
from app.api.schemas import ErrorResponse


async def _facade(request: Request) -> ApiFacade:
    # async: a plain function would be run in a worker thread for every request
    return request.app.state.facade


Facade = Annotated[ApiFacade, Depends(_facade)]


def errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` entries for error statuses answered with ``ErrorResponse``."""
    return {status: {"model": ErrorResponse} for status in statuses}
