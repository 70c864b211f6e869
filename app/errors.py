"""Every exception DTMS Desk raises on purpose, grouped by what the caller should do about it.

- ``TemporaryError``: the world may be different in a moment (terminal busy, lost, timed out). Retry with
  back-off; these are the only errors anything retries.
- ``RejectedError``: the request itself is wrong or not allowed (no such position, contradicting symbol,
  bad value, not owned). Tell whoever asked; retrying unchanged gives the same answer.
- ``ConfigurationError``: the program cannot run as configured (bad settings file, MetaTrader5 missing).
  Stop and say why.
"""

from __future__ import annotations


class DtmsError(Exception):
    """Base of every error DTMS Desk raises deliberately."""


class TemporaryError(DtmsError):
    """Retry later: the condition is expected to pass."""


class RejectedError(DtmsError):
    """The request is refused as it stands; report it, do not retry unchanged."""


class ConfigurationError(DtmsError):
    """The program cannot run with this configuration."""


# --- terminal -------------------------------------------------------------------------------------------


class TerminalUnavailable(TemporaryError):
    """The terminal is not connected (IPC lost, not initialised, worker restarting)."""


class TerminalTimeout(TemporaryError):
    """A terminal call passed its deadline; the worker was killed and is being restarted."""


class TerminalCallFailed(TemporaryError):
    """A terminal call returned its failure sentinel with a last_error that may pass (IPC, timeouts)."""

    def __init__(self, function: str, code: int, message: str) -> None:
        super().__init__(f"{function} failed: ({code}, {message!r})")
        self.function = function
        self.code = code
        self.message = message


class TerminalRequestInvalid(RejectedError):
    """A terminal call was refused for its arguments (last_error -2 and similar)."""

    def __init__(self, function: str, code: int, message: str) -> None:
        super().__init__(f"{function} refused its arguments: ({code}, {message!r})")
        self.function = function
        self.code = code
        self.message = message


class SimulatorOnly(RejectedError):
    """A simulator control call was made against a real terminal."""


# --- engine ---------------------------------------------------------------------------------------------


class EngineNotReady(TemporaryError):
    """The engine is not READY (starting, connecting, recovering, disconnected or failed)."""

    def __init__(self, state: str, reason: str = "") -> None:
        super().__init__(f"engine is {state}" + (f": {reason}" if reason else ""))
        self.state = state
        self.reason = reason


class DatabaseDegraded(TemporaryError):
    """The database could not store a change (damaged, disk full, read-only): nothing was changed; after a
    restart (which restores the newest backup) the same request can be made again."""


class NoOpenPosition(RejectedError):
    """The ticket is not an open position in the terminal."""

    def __init__(self, ticket: int) -> None:
        super().__init__(f"no open position with ticket {ticket}")
        self.ticket = ticket


class RegistrationConflict(RejectedError):
    """The registration contradicts the terminal's position (symbol or direction)."""

    def __init__(self, ticket: int, field: str, sent: object, actual: object) -> None:
        super().__init__(f"ticket {ticket}: {field} {sent!r} contradicts the open position's {field} {actual!r}")
        self.ticket = ticket
        self.field = field
        self.sent = sent
        self.actual = actual


class TradeNotManaged(RejectedError):
    """The ticket is not (or no longer) managed by DTMS."""

    def __init__(self, ticket: int) -> None:
        super().__init__(f"ticket {ticket} is not managed")
        self.ticket = ticket


class NotOwner(RejectedError):
    """A component tried to change a position it does not own."""


class InvalidSettings(ConfigurationError):
    """A settings value is out of range or of the wrong type."""
