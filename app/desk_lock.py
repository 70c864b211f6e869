"""One desk per data directory and per terminal account: OS file locks held for the life of the process.

The lock is an ``fcntl.flock`` (POSIX) or ``msvcrt.locking`` (Windows) on a small file; the operating system
drops it when the process ends, however it ends, so a killed desk never leaves a stale lock behind. Beside each
lock a JSON note names its holder (pid, data dir, since), read only by a desk that is refused, to say which
desk runs. The standard library is enough here: the lock must be exclusive between processes only, and a
dependency would add nothing but a wrapper around the same two calls.

- ``DataDirLock``: taken before anything in the data directory is touched (logs included).
- ``account_lock``: taken once connected, per terminal account (login + server), in a directory shared by
  every data dir: ``$DTMS_LOCK_DIR`` if set (tests), else the platform's user state directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import platformdirs

from app.errors import ConfigurationError
from app.files import private_file

logger = logging.getLogger(__name__)

LOCK_DIR_ENV = "DTMS_LOCK_DIR"
DATA_DIR_LOCK = "desk.lock"


class DeskAlreadyRunning(ConfigurationError):
    """Another DTMS Desk holds the lock: this one must not start (it would act a second time on each trade)."""

    def __init__(self, what: str, holder: dict[str, Any]) -> None:
        pid = holder.get("pid", "?")
        where = holder.get("data_dir", "?")
        super().__init__(
            f"another DTMS Desk is already running on {what} (pid {pid}, data dir {where}); "
            "stop it first, or give this one its own data dir and account"
        )
        self.what = what
        self.holder = holder


def shared_lock_dir() -> Path:
    """Where account locks live: one place for every data dir of this user."""
    override = os.environ.get(LOCK_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_state_dir("DTMS Desk", appauthor=False)) / "locks"


def _try_lock(handle: IO[bytes]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@dataclass(slots=True)
class HeldLock:
    path: Path
    handle: IO[bytes] | None
    users: int = 1

    def release(self) -> None:
        if self.handle is None:
            return
        try:
            _unlock(self.handle)
        except OSError:
            pass
        self.handle.close()
        self.handle = None


#: locks this process holds, by lock file: a second ``acquire`` of the same one in this process shares it
_HELD: dict[Path, HeldLock] = {}


def _note_path(lock: Path) -> Path:
    return lock.with_name(lock.name + ".json")


def holder_of(lock: Path) -> dict[str, Any]:
    try:
        value = json.loads(_note_path(lock).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def acquire(lock: Path, what: str, note: dict[str, Any], *, wait_s: float = 0.0) -> HeldLock:
    """Take ``lock`` for this process (shared with an earlier ``acquire`` here), or raise ``DeskAlreadyRunning``.

    ``wait_s`` keeps trying that long (a worker replacing one that is still being killed)."""
    lock = lock.resolve() if lock.parent.exists() else lock
    held = _HELD.get(lock)
    if held is not None and held.handle is not None:
        held.users += 1
        return held
    lock.parent.mkdir(parents=True, exist_ok=True)
    handle = open(private_file(lock), "r+b")  # noqa: SIM115 (kept open: the lock lives as long as the handle)
    deadline = time.monotonic() + wait_s
    while not _try_lock(handle):
        if time.monotonic() >= deadline:
            handle.close()
            raise DeskAlreadyRunning(what, holder_of(lock))
        time.sleep(0.05)
    note = {"pid": os.getpid(), "since": time.time(), **note}
    note_file = _note_path(lock)
    private_file(note_file)
    note_file.write_text(json.dumps(note), encoding="utf-8")
    held = HeldLock(path=lock, handle=handle)
    _HELD[lock] = held
    return held


def release(held: HeldLock) -> None:
    held.users -= 1
    if held.users > 0:
        return
    _HELD.pop(held.path, None)
    held.release()


def data_dir_lock(data_dir: Path) -> HeldLock:
    """The data directory's lock (raises ``DeskAlreadyRunning`` naming the desk that holds it)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return acquire(data_dir / DATA_DIR_LOCK, f"data dir {data_dir}", {"data_dir": str(data_dir)})


def account_lock_path(login: int, server: str) -> Path:
    digest = hashlib.sha256(f"{login}\n{server}".encode()).hexdigest()[:16]
    return shared_lock_dir() / f"account-{int(login)}-{digest}.lock"


def account_lock(login: int, server: str, data_dir: Path | None) -> HeldLock:
    """The terminal account's lock, machine-wide (raises ``DeskAlreadyRunning`` naming the holder)."""
    return acquire(
        account_lock_path(login, server),
        f"account {login} on {server}",
        {"data_dir": str(data_dir) if data_dir else "", "login": int(login), "server": server},
    )
