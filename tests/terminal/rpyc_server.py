"""An RPyC classic server for the tests, as mt5linux runs one next to MetaTrader 5: ``python -m
tests.terminal.rpyc_server PORT [--face | --fake]``. It prints ``LISTENING <port>`` once it accepts connections
(port 0 picks a free one). With ``--face`` the simulator's ``MetaTrader5`` face is importable there, with
``--fake`` the stand-in shaped like the real module (``fake_module``); without either the server has no
MetaTrader5 at all."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

FACE_DIR = Path(__file__).resolve().parent / "rpyc_face"
FAKE_DIR = Path(__file__).resolve().parent / "rpyc_fake"


def main(argv: list[str]) -> None:
    port = int(argv[0])
    if "--face" in argv:
        sys.path.insert(0, str(FACE_DIR))
    elif "--fake" in argv:
        sys.path.insert(0, str(FAKE_DIR))
    logging.basicConfig(level=logging.WARNING)
    from rpyc.core.service import SlaveService
    from rpyc.utils.server import ThreadedServer

    server = ThreadedServer(
        SlaveService,
        hostname="127.0.0.1",
        port=port,
        reuse_addr=True,
        protocol_config={"allow_public_attrs": True, "sync_request_timeout": None},
    )
    threading.Thread(target=_exit_with_the_parent, name="parent-watch", daemon=True).start()
    server._listen()  # listening before saying so; start() then only accepts
    print(f"LISTENING {server.port}", flush=True)
    server.start()


def _exit_with_the_parent() -> None:
    """The test that started the server holds its stdin: once that closes (the test ended or died), so does
    the server, so a crashed test leaves no server behind."""
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
