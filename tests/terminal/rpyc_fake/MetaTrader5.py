"""``MetaTrader5`` for a test RPyC server: the stand-in with the real module's shape (struct sequences that
refuse to pickle, a nested request in order results, an answer that cannot be brought over at all)."""

from tests.terminal.fake_module import (  # noqa: F401
    copy_rates_from_pos,
    initialize,
    last_error,
    order_send,
    positions_get,
    shutdown,
    version,
)
