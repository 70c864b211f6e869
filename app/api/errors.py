"""Every failure as a real status code with an ``ErrorResponse`` body: never an error inside a 200.

The application's exception groups map to statuses here and nowhere else; handlers just let them rise.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from app.api.schemas import ErrorCode, ErrorResponse, validation_error
from app.errors import (
    ConfigurationError,
    DtmsError,
    EngineNotReady,
    NoOpenPosition,
    RegistrationConflict,
    RejectedError,
    SimulatorOnly,
    TemporaryError,
    TerminalRequestInvalid,
    TradeNotManaged,
)

logger = logging.getLogger(__name__)

#: Seconds a client should wait before trying again after a 503.
RETRY_AFTER_S = 1

#: Most specific first: the first matching class decides.
_STATUS: tuple[tuple[type[DtmsError], int, ErrorCode], ...] = (
    (EngineNotReady, 503, ErrorCode.NOT_READY),
    (NoOpenPosition, 404, ErrorCode.NOT_FOUND),
    (TradeNotManaged, 404, ErrorCode.NOT_MANAGED),
    (RegistrationConflict, 409, ErrorCode.CONFLICT),
    (SimulatorOnly, 404, ErrorCode.SIMULATOR_ONLY),
    (TerminalRequestInvalid, 422, ErrorCode.VALIDATION),
    (RejectedError, 409, ErrorCode.REJECTED),
    (TemporaryError, 503, ErrorCode.UNAVAILABLE),
    (ConfigurationError, 500, ErrorCode.INTERNAL),
)

_HTTP_CODES: Mapping[int, ErrorCode] = {
    400: ErrorCode.MALFORMED_JSON,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.VALIDATION,
    503: ErrorCode.NOT_READY,
}


def error_json(status: int, error: ErrorResponse, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.model_dump(mode="json"), status_code=status, headers=dict(headers or {}))


def status_for(error: DtmsError) -> tuple[int, ErrorCode]:
    for kind, status, code in _STATUS:
        if isinstance(error, kind):
            return status, code
    return 500, ErrorCode.INTERNAL


def _field_of(error: DtmsError) -> str | None:
    if isinstance(error, RegistrationConflict):
        return error.field
    if isinstance(error, NoOpenPosition | TradeNotManaged):
        return "ticket"
    return None


async def _dtms_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DtmsError)
    status, code = status_for(error)
    if status >= 500 and status != 503:
        logger.error("request failed: %s", error)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
    return error_json(status, ErrorResponse(error=code, detail=str(error), field=_field_of(error)), headers)


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _methods_of_fixed_path(request: Request) -> set[str]:
    """The methods of a route whose path is exactly this one, without parameters (``/dtms/trade/enable``), when
    the request went to another route only because a parameter (``/dtms/trade/{ticket}``) caught the path."""
    operations = request.app.openapi().get("paths", {}).get(request.url.path, {})  # built once, then cached
    return {method.upper() for method in operations if method in _HTTP_METHODS}


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    allowed = _methods_of_fixed_path(request)
    if allowed and request.method not in allowed:
        detail = f"{request.url.path} takes {', '.join(sorted(allowed))}, not {request.method}"
        return error_json(
            405, ErrorResponse(error=ErrorCode.METHOD_NOT_ALLOWED, detail=detail), {"Allow": ", ".join(sorted(allowed))}
        )
    errors: Sequence[Mapping[str, Any]] = error.errors()
    invalid_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if invalid_json is not None:
        reason = (invalid_json.get("ctx") or {}).get("error")
        detail = "the request body is not valid JSON" + (f": {reason}" if reason else "")
        return error_json(400, ErrorResponse(error=ErrorCode.MALFORMED_JSON, detail=detail))
    if any(tuple(e.get("loc", ())) == ("body",) and e.get("type") == "missing" for e in errors):
        return error_json(422, ErrorResponse(error=ErrorCode.VALIDATION, detail="a JSON request body is required"))
    return error_json(422, validation_error(errors))


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = _HTTP_CODES.get(error.status_code, ErrorCode.INTERNAL if error.status_code >= 500 else ErrorCode.REJECTED)
    detail = error.detail if isinstance(error.detail, str) else str(error.detail)
    return error_json(error.status_code, ErrorResponse(error=code, detail=detail), error.headers)


async def _unexpected(_: Request, error: Exception) -> JSONResponse:
    logger.error("request failed unexpectedly", exc_info=error)
    return error_json(500, ErrorResponse(error=ErrorCode.INTERNAL, detail="internal error; see the DTMS log"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(DtmsError, _dtms_error)
    app.add_exception_handler(Exception, _unexpected)
