"""What a DTMS answer that is not a success says, in one shape whatever the server sent."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from pydantic import ValidationError

from app.api.schemas import ErrorResponse, validation_error

_TEMPORARY_STATUSES = frozenset({429, 503})


def is_temporary(status_code: int) -> bool:
    """Worth retrying: the server is busy, not ready or failing; the request itself may be fine."""
    return status_code in _TEMPORARY_STATUSES or status_code >= 500


def error_of(response: httpx.Response) -> ErrorResponse:
    """The server's ``ErrorResponse``; a plain ``{"detail": ...}`` or a non-JSON body is converted."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        try:
            return ErrorResponse.model_validate(data)
        except ValidationError:
            detail = data.get("detail")
            if isinstance(detail, list):
                return validation_error(item for item in detail if isinstance(item, Mapping))
            if isinstance(detail, str):
                return ErrorResponse(error=f"http_{response.status_code}", detail=detail)
    text = response.text.strip()[:300] or response.reason_phrase
    return ErrorResponse(error=f"http_{response.status_code}", detail=text)


class DtmsApiError(Exception):
    """DTMS answered with an error status."""

    def __init__(self, status_code: int, error: ErrorResponse) -> None:
        field = f" (field {error.field})" if error.field else ""
        super().__init__(f"HTTP {status_code} {error.error}: {error.detail}{field}")
        self.status_code = status_code
        self.error = error.error
        self.detail = error.detail
        self.field = error.field

    @classmethod
    def from_response(cls, response: httpx.Response) -> DtmsApiError:
        return cls(response.status_code, error_of(response))

    @property
    def temporary(self) -> bool:
        return is_temporary(self.status_code)
