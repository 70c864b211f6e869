"""The few lines DTMS Desk runs inside an RPyC classic server's Python, next to its MetaTrader5 module.

This module is never imported by DTMS Desk itself: ``app.terminal.rpyc_terminal`` reads its source and sends
it to the server (``conn.execute``), once per connection. It must therefore run on whatever Python the server
has (a Windows Python under Wine may be 3.8) and import nothing but the standard library, numpy and
MetaTrader5.

One call is one round trip: ``dtms_call(payload)`` takes ``pickle((name, args, kwargs))``, calls the module,
reads ``last_error()`` right after a call that answered None or False (before anything else can reset it), and
answers ``pickle((value, error, raised))`` in which the value holds only built-in types. Struct sequences
travel as ``(STRUCT, type name, field names, values)`` and numpy arrays as ``(NDARRAY, dtype, shape, bytes)``,
so the client needs neither the module's types nor the server's numpy version to read them.
"""

import pickle

import MetaTrader5 as dtms_mt5  # an ImportError here tells the client the server has no MetaTrader5

DTMS_STRUCT = "\x00dtms-struct"
DTMS_NDARRAY = "\x00dtms-ndarray"
DTMS_NO_ERROR = (1, "Success")
DTMS_SCALARS = (type(None), bool, int, float, str, bytes)
DTMS_SCALAR_SET = frozenset(DTMS_SCALARS)
DTMS_FIELD_NAMES = {}  # type: dict[type, tuple[str, ...]]  # struct type -> its field names, read once


def dtms_plain(value):
    kind = type(value)
    if kind in DTMS_SCALARS:
        return value
    if isinstance(value, tuple):
        if hasattr(value, "_asdict"):
            names = DTMS_FIELD_NAMES.get(kind)
            if names is None:
                names = DTMS_FIELD_NAMES[kind] = tuple(value._asdict())
            if set(map(type, value)) <= DTMS_SCALAR_SET:  # the common case, at C speed
                return (DTMS_STRUCT, kind.__name__, names, tuple(value))
            return (DTMS_STRUCT, kind.__name__, names, tuple(dtms_plain(item) for item in value))
        if set(map(type, value)) <= DTMS_SCALAR_SET:
            return tuple(value)
        return tuple(dtms_plain(item) for item in value)
    if isinstance(value, list):
        return [dtms_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: dtms_plain(item) for key, item in value.items()}
    if hasattr(value, "dtype") and hasattr(value, "tobytes"):
        if getattr(value, "shape", None) == ():  # a numpy scalar
            return value.item()
        dtype = value.dtype
        described = dtype.str if dtype.fields is None else dtype.descr
        return (DTMS_NDARRAY, described, tuple(value.shape), value.tobytes())
    # subclasses such as IntEnum travel as their base type
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return bytes(value)
    raise TypeError(f"cannot bring a {kind.__name__} value over RPyC")


def dtms_call(payload):
    raised = None
    value = None
    error = DTMS_NO_ERROR
    try:
        name, args, kwargs = pickle.loads(payload)
        value = getattr(dtms_mt5, name)(*args, **kwargs)
        if value is None or value is False:
            error = tuple(dtms_mt5.last_error())
        value = dtms_plain(value)
    except Exception as exc:  # noqa: BLE001 - a bad call is an answer: the client re-raises it as the module would have
        raised = (type(exc).__name__, str(exc))
        value = None
    return pickle.dumps((value, error, raised), protocol=4)


def dtms_module_info():
    return pickle.dumps((getattr(dtms_mt5, "__version__", ""), getattr(dtms_mt5, "__file__", "")), protocol=4)
