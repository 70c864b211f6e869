"""A data folder on a network share is refused at start-up with a message that says what to do."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from app.config import AppSettings
from app.errors import ConfigurationError
from app.runtime import RuntimeOptions, Services
from app.store.location import DRIVE_REMOTE, check_data_location, network_reason
from app.terminal.spec import TerminalKind


def local_drives(_root: str) -> int:
    return 3  # DRIVE_FIXED


def test_a_unc_folder_is_a_network_share() -> None:
    assert "UNC" in network_reason(r"\\nas\share\DTMS Desk", windows=True, drive_type=local_drives)
    assert "UNC" in network_reason("//nas/share/dtms", windows=True, drive_type=local_drives)
    assert network_reason(r"C:\Users\trader\AppData\Local\DTMS Desk", windows=True, drive_type=local_drives) == ""


def test_a_mapped_network_drive_is_a_network_share() -> None:
    mapped = network_reason(r"Z:\dtms", windows=True, drive_type=lambda root: DRIVE_REMOTE if root == "Z:\\" else 3)
    assert "mapped network drive" in mapped


def test_a_network_mount_on_linux_is_a_network_share() -> None:
    mounts = "/dev/sda1 / ext4 rw 0 0\nnas:/export /mnt/nas nfs4 rw 0 0\n"
    assert "nfs4" in network_reason("/mnt/nas/dtms", windows=False, mounts=mounts)
    assert network_reason("/home/trader/dtms", windows=False, mounts=mounts) == ""


def test_the_refusal_says_why_and_what_to_do() -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_data_location(r"\\nas\share\dtms", windows=True, drive_type=local_drives)
    message = str(caught.value)
    assert "network share" in message and "--data-dir" in message and "write-ahead log" in message


async def test_the_program_refuses_to_open_a_unc_data_folder(tmp_path: Path) -> None:
    unc = r"\\nas\share\dtms"  # as a Windows user would type it; refused before anything is created
    options = RuntimeOptions(data_dir=Path(unc), settings=AppSettings(), terminal=TerminalKind.SIM, in_process=True)
    with pytest.raises(ConfigurationError, match="network share"):
        await Services.open(options)
    assert not Path(unc).exists()
    local = await Services.open(replace(options, data_dir=tmp_path))
    await local.close()
