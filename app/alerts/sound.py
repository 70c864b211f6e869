"""Short sounds per severity, played without blocking: the standard library's winsound (asynchronously) on
Windows, a player program (paplay, aplay) elsewhere when one is installed, otherwise nothing.

The WAVs are small tones made by ``make_tone`` and shipped in this package (``python -m app.alerts.sound``
writes them again).
"""

from __future__ import annotations

import logging
import math
import shutil
import struct
import subprocess
import sys
import wave
from importlib.resources import files
from pathlib import Path

from app.alerts.notices import Severity

logger = logging.getLogger(__name__)

RATE = 8000
#: (frequency Hz, seconds) notes of each severity's sound: one soft note, two notes, three falling notes
TONES: dict[str, tuple[tuple[float, float], ...]] = {
    "info": ((880.0, 0.12),),
    "warning": ((660.0, 0.12), (880.0, 0.12)),
    "action_failed": ((880.0, 0.12), (660.0, 0.12), (440.0, 0.2)),
}


def sound_name(severity: Severity) -> str:
    return {Severity.INFO: "info", Severity.WARNING: "warning"}.get(severity, "action_failed")


def sound_file(severity: Severity) -> Path:
    return Path(str(files("app.alerts") / "sounds" / f"{sound_name(severity)}.wav"))


def make_tone(path: Path, notes: tuple[tuple[float, float], ...], volume: float = 0.4) -> None:
    """A mono 16-bit WAV of the notes, each faded in and out so it does not click."""
    frames = bytearray()
    for frequency, seconds in notes:
        count = int(RATE * seconds)
        fade = max(1, count // 8)
        for i in range(count):
            envelope = min(1.0, i / fade, (count - i) / fade)
            sample = volume * envelope * math.sin(2 * math.pi * frequency * i / RATE)
            frames += struct.pack("<h", int(sample * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))


class SoundPlayer:
    """Plays a WAV and returns at once; a player program still running from the last sound is left to end."""

    def __init__(self, *, platform: str = sys.platform, which=shutil.which, popen=subprocess.Popen) -> None:
        self._platform = platform
        self._popen = popen
        self._running: list[subprocess.Popen[bytes]] = []
        self.command: list[str] | None = None
        if platform != "win32":
            for name, flags in (("paplay", []), ("aplay", ["-q"])):
                found = which(name)
                if found:
                    self.command = [found, *flags]
                    break

    @property
    def available(self) -> bool:
        return self._platform == "win32" or self.command is not None

    def play(self, path: Path) -> bool:
        """True if the sound was started."""
        try:
            if self._platform == "win32":
                import winsound  # the standard library, Windows only

                flags = winsound.SND_FILENAME | winsound.SND_ASYNC | winsound.SND_NODEFAULT  # type: ignore[attr-defined]
                winsound.PlaySound(str(path), flags)  # type: ignore[attr-defined]
                return True
            if self.command is None:
                return False
            self._running = [p for p in self._running if p.poll() is None]  # reap the ones that ended
            self._running.append(
                self._popen(
                    [*self.command, str(path)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            return True
        except (OSError, RuntimeError) as error:
            logger.warning("could not play %s: %s", path.name, error)
            return False


def main() -> None:
    out = Path(__file__).resolve().parent / "sounds"
    for name, notes in TONES.items():
        make_tone(out / f"{name}.wav", notes)
        print(out / f"{name}.wav", (out / f"{name}.wav").stat().st_size, "bytes")


if __name__ == "__main__":
    main()
