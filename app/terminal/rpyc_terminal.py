"""MetaTrader 5 on another machine, or under Wine or Docker, behind an RPyC classic server (``rpyc://HOST:PORT``).

``RpycTerminal`` has the MetaTrader5 module's function surface and lives, like every terminal, only in the
gateway's worker process: the gateway's deadlines, watchdog, retcode classification and epochs apply to it
unchanged. It is a client only. It connects as ``ClassicClient``, so the server can run nothing on this side,
sends ``app.terminal.rpyc_remote`` to the server once per connection, and then makes one round trip per call.
Answers come back by value: pickled built-in types only (anything else is refused while unpickling), rebuilt
here as the NamedTuples of ``app.terminal.structs`` and as numpy arrays of the module's exact dtypes.

A lost connection behaves like a terminal that went away: the call in flight answers None with
``last_error()`` ``(-10002, "IPC recv failed ...")`` (it may have been carried out: its answer is what was
lost), later calls ``(-10004, "No IPC connection ...")``; the gateway marks itself disconnected, and the
engine's reconnection calls ``initialize``, which connects again. A server that cannot import MetaTrader5, or
whose terminal is logged into another account than the configured one, makes ``initialize`` raise: retrying
cannot fix either.
"""

from __future__ import annotations

import importlib.resources
import io
import logging
import pickle
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from app.terminal import constants as c
from app.terminal.protocol import TERMINAL_FUNCTIONS
from app.terminal.structs import STRUCT_TYPES

logger = logging.getLogger(__name__)

#: mt5linux's (and RPyC's) default classic server port.
DEFAULT_PORT = 18812
SCHEME = "rpyc"

_NO_ERROR: tuple[int, str] = (1, "Success")
# Must match app/terminal/rpyc_remote.py, which cannot import anything of the app.
_STRUCT = "\x00dtms-struct"
_NDARRAY = "\x00dtms-ndarray"
_REMOTE_SOURCE = "rpyc_remote.py"
_SCALARS: frozenset[type] = frozenset({type(None), bool, int, float, str, bytes})


class MetaTrader5Missing(Exception):
    """The RPyC server answers but cannot import MetaTrader5."""


class RpycMissing(Exception):
    """This side has no rpyc package installed."""


class WrongAccount(Exception):
    """The terminal behind the server is logged into another account than the configured one."""


def parse_address(text: str) -> tuple[str, int]:
    """``rpyc://HOST:PORT`` (port optional, 18812) as ``(host, port)``; ValueError says what is wrong."""
    parts = urlsplit(text.strip())
    if parts.scheme != SCHEME or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ValueError(f"{text!r} is not an address of the form rpyc://HOST:PORT")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535") from None
    return parts.hostname, port


def format_address(host: str, port: int) -> str:
    return f"{SCHEME}://[{host}]:{port}" if ":" in host else f"{SCHEME}://{host}:{port}"


class _PlainUnpickler(pickle.Unpickler):
    """Reads built-in values only: a server that sends any class or function is refused, not obeyed."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"the RPyC server sent a {module}.{name} object; only plain values are read")


def read_plain(raw: bytes) -> Any:
    return _PlainUnpickler(io.BytesIO(bytes(raw))).load()


def decode(value: Any) -> Any:
    """A value built by the server's ``dtms_plain``, as the gateway's worker would have converted it."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple:
        if value and value[0] == _STRUCT:
            _, name, names, items = value
            if not set(map(type, items)) <= _SCALARS:
                items = tuple(decode(item) for item in items)
            target = STRUCT_TYPES.get(name)
            if target is None:
                return dict(zip(names, items, strict=True))
            fields: tuple[str, ...] = target._fields  # type: ignore[attr-defined]
            if names == fields:
                return target(*items)
            by_name = dict(zip(names, items, strict=True))  # another module version: match fields by name
            return target(*(by_name[field] for field in fields))
        if value and value[0] == _NDARRAY:
            _, described, shape, data = value
            dtype = np.dtype(described if isinstance(described, str) else [tuple(f) for f in described])
            return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        if set(map(type, value)) <= _SCALARS:
            return value
        return tuple(decode(item) for item in value)
    if kind is list:
        return [decode(item) for item in value]
    if kind is dict:
        return {key: decode(item) for key, item in value.items()}
    return value


def _rebuild_exception(type_name: str, message: str) -> Exception:
    """The server's exception as the same built-in type (TypeError stays TypeError), else a RuntimeError."""
    import builtins

    kind = getattr(builtins, type_name, None)
    if isinstance(kind, type) and issubclass(kind, Exception) and not issubclass(kind, UnicodeError):
        return kind(message)  # builtin exceptions other than the Unicode family take one message
    return RuntimeError(f"{type_name}: {message}")


def _first_line(exc: BaseException) -> str:
    """An RPyC remote exception's own message, without the remote traceback appended to it."""
    return str(exc).split("\n\n", 1)[0].strip() or type(exc).__name__


class RpycTerminal:
    """The MetaTrader5 module of an RPyC classic server, called by value. Not thread safe (the worker is not
    either: it answers one request at a time)."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, *, connect_timeout: float = 5.0) -> None:
        self._host = host
        self._port = port
        self._connect_timeout = connect_timeout
        self._conn: Any = None
        self._remote_call: Any = None
        self._error: tuple[int, str] = _NO_ERROR

    @property
    def address(self) -> str:
        return format_address(self._host, self._port)

    @property
    def connected(self) -> bool:
        return self._conn is not None

    # --- the module's surface ------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name in TERMINAL_FUNCTIONS:
            return lambda *args, **kwargs: self._call(name, args, kwargs)
        raise AttributeError(name)

    def initialize(self, *args: Any, **kwargs: Any) -> bool:
        """Connect (again) if needed, then the server's ``initialize``; checks the account when one is set."""
        if self._conn is None and not self._connect():
            return False
        if not self._call("initialize", args, kwargs):
            return False
        login = kwargs.get("login")
        if login:
            account = self._call("account_info", (), {})
            if account is not None and int(account.login) != int(login):
                self.close()
                raise WrongAccount(
                    f"the terminal behind {self.address} is logged into account {account.login}, "
                    f"not the configured account {login}"
                )
        return True

    def last_error(self) -> tuple[int, str]:
        """Read on the server right after the last failing call, in the same round trip."""
        return self._error

    def close(self) -> None:
        conn, self._conn, self._remote_call = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # closing a broken connection may fail; it is gone either way
                logger.debug("closing the RPyC connection failed", exc_info=True)

    def _fail(self, code: int, message: str) -> None:
        self._error = (code, message)

    # --- the wire ---------------------------------------------------------------------------------------

    def _connect(self) -> bool:
        try:
            from rpyc.core.service import ClassicClient
            from rpyc.core.stream import SocketStream
            from rpyc.utils.factory import connect_stream
        except ImportError:
            raise RpycMissing(
                "a terminal at rpyc:// needs the rpyc package (rpyc>=6,<7), which is missing from this installation"
            ) from None

        try:
            stream = SocketStream.connect(
                self._host,
                self._port,
                timeout=self._connect_timeout,
                nodelay=True,
                keepalive=True,
                ipv6=":" in self._host,
            )
            conn = connect_stream(stream, ClassicClient, {"sync_request_timeout": None})
        except (OSError, EOFError) as exc:
            self._fail(
                c.RES_E_INTERNAL_FAIL_INIT,
                f"IPC initialize failed: cannot reach the RPyC server at {self.address} ({exc})",
            )
            logger.info("%s", self._error[1])
            return False
        source = importlib.resources.files("app.terminal").joinpath(_REMOTE_SOURCE).read_text(encoding="utf-8")
        try:
            conn.execute(source)
            remote_call = conn.namespace["dtms_call"]
        except ImportError as exc:
            conn.close()
            raise MetaTrader5Missing(
                f"the RPyC server at {self.address} cannot import MetaTrader5: {_first_line(exc)}"
            ) from None
        except (OSError, EOFError) as exc:
            conn.close()
            self._fail(
                c.RES_E_INTERNAL_FAIL_INIT,
                f"IPC initialize failed: the RPyC server at {self.address} closed the connection ({exc})",
            )
            return False
        self._conn, self._remote_call = conn, remote_call
        logger.info("connected to the RPyC server at %s", self.address)
        return True

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self._remote_call is None:
            self._fail(c.RES_E_INTERNAL_FAIL_CONNECT, f"No IPC connection: not connected to {self.address}")
            return None
        payload = pickle.dumps((name, tuple(args), dict(kwargs)), protocol=4)
        try:
            raw = self._remote_call(payload)
        except (OSError, EOFError) as exc:
            self.close()
            # The request may have been carried out with only its answer lost (an order!): say so, as the
            # module's own "receive failed" does, so the caller looks before sending anything again.
            self._fail(
                c.RES_E_INTERNAL_FAIL_RECEIVE,
                f"IPC recv failed: the RPyC server at {self.address} was lost "
                f"during the call ({exc or type(exc).__name__})",
            )
            logger.warning("%s during %s", self._error[1], name)
            return None
        value, error, raised = read_plain(raw)
        self._error = (int(error[0]), str(error[1]))
        if raised is not None:
            raise _rebuild_exception(*raised)
        return decode(value)
