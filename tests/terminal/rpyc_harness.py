"""An RPyC classic server in another process, for the tests and the benchmark: start it on a free loopback port,
drive the simulator behind its ``MetaTrader5`` face over a classic connection of our own, kill it (SIGKILL),
start it again on the same port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


class RpycServer:
    def __init__(self, *, face: bool = True, fake: bool = False, options: dict[str, Any] | None = None) -> None:
        self.face = face
        self.fake = fake
        self.options = dict(options or {})
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self._admin: Any = None

    @property
    def address(self) -> str:
        return f"rpyc://{HOST}:{self.port}"

    def start(self) -> RpycServer:
        """Start the server (on the same port as before, after a restart) and wait until it listens."""
        env = dict(os.environ, PYTHONPATH=str(ROOT), DTMS_FACE_OPTIONS=json.dumps(self.options, default=str))
        args = [sys.executable, "-m", "tests.terminal.rpyc_server", str(self.port)]
        args += ["--fake"] if self.fake else ["--face"] if self.face else []
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        word, _, port = line.strip().partition(" ")
        assert word == "LISTENING", f"the test RPyC server did not start: {line!r}"
        self.port = int(port)
        return self

    def kill(self) -> None:
        """SIGKILL: the server (and the simulator in it) dies without closing anything."""
        self._drop_admin()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self.kill()
        if self.process is not None:
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    pipe.close()

    # --- the simulator behind the face, through a classic connection of the test's own ---------------------

    @property
    def face_module(self) -> Any:
        if self._admin is None:
            import rpyc

            self._admin = rpyc.classic.connect(HOST, self.port)
        return self._admin.modules.MetaTrader5

    def reset(self, **options: Any) -> None:
        """A fresh simulator with these options (SimulatedTerminal's keywords, ``ignore_login``, ``delay``)."""
        self.face_module.reset(json.dumps(options, default=str))

    def control(self, command: str, **kwargs: Any) -> Any:
        import rpyc

        return rpyc.classic.obtain(self.face_module.control(command, **kwargs))

    def set_delay(self, seconds: float) -> None:
        self.face_module.set_delay(seconds)

    def _drop_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                admin.close()
            except (OSError, EOFError):
                pass
