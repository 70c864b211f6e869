"""Where the database may live: on this computer, never on a network share.

SQLite's write-ahead log needs shared memory between the processes using the file, which network file
systems do not provide, and their file locking is unreliable, so a database there can be damaged. (A UNC
folder also breaks SQLite's URI form: ``Path.as_uri()`` gives ``file://nas/share/...``, which SQLite refuses
with "invalid uri authority".) A network folder is therefore refused at start-up with a message saying what
to do, instead of failing or damaging the journal later.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath

from app.errors import ConfigurationError

#: GetDriveTypeW's answer for a mapped network drive.
DRIVE_REMOTE = 4
#: Linux file system types that are network shares.
NETWORK_FILE_SYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "sshfs",
        "fuse.sshfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "fuse.glusterfs",
        "davfs",
        "fuse.rclone",
    }
)


def network_reason(
    path: Path | str,
    *,
    windows: bool | None = None,
    drive_type: Callable[[str], int] | None = None,
    mounts: str | None = None,
) -> str:
    """Why ``path`` is on a network share, or "" when it is local. ``drive_type`` stands for Windows'
    GetDriveTypeW and ``mounts`` for Linux's /proc/mounts (both read from the system when not given)."""
    text = str(path)
    if windows is None:
        windows = sys.platform == "win32"
    if windows:
        win = PureWindowsPath(text)
        if win.drive.startswith(("\\\\", "//")):
            return f"{text} is a network share (UNC path {win.drive})"
        if len(win.drive) == 2 and win.drive.endswith(":"):
            if drive_type is None:
                drive_type = _windows_drive_type
            if drive_type(f"{win.drive}\\") == DRIVE_REMOTE:
                return f"{text} is on {win.drive}, a mapped network drive"
        return ""
    if text.startswith("\\\\"):
        return f"{text} is a network share (UNC path)"
    return _posix_network_mount(PurePosixPath(os.path.abspath(text)), mounts)


def check_data_location(path: Path | str, **system: object) -> None:
    """Raise ConfigurationError with what to do when the data folder is on a network share."""
    reason = network_reason(path, **system)  # type: ignore[arg-type]
    if reason:
        raise ConfigurationError(
            f"the data folder {reason}. DTMS Desk keeps its journal in an SQLite database, which a network file "
            f"system can damage (its write-ahead log and file locks do not work there). Choose a folder on this "
            f"computer with --data-dir, for example the default one."
        )


def _windows_drive_type(root: str) -> int:
    import ctypes

    return int(ctypes.windll.kernel32.GetDriveTypeW(ctypes.c_wchar_p(root)))  # type: ignore[attr-defined]


def _posix_network_mount(path: PurePosixPath, mounts: str | None) -> str:
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
    best: tuple[int, str, str] | None = None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = path == PurePosixPath(point) or PurePosixPath(point) in path.parents
        if inside and (best is None or len(point) > best[0]):  # the deepest mount holding the folder
            best = (len(point), point, fields[2])
    if best is not None and best[2] in NETWORK_FILE_SYSTEMS:
        return f"{path} is on a network file system ({best[2]} at {best[1]})"
    return ""
