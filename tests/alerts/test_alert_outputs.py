"""Sounds per severity (never blocking), quiet hours, and the throttled push to a phone off the loop."""

from __future__ import annotations

import threading
import time
import wave
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest

from app.alerts.notices import Notice, Severity
from app.alerts.outputs import AlertOutputs, in_quiet_hours
from app.alerts.push import KEPT, PushSender
from app.alerts.sound import SoundPlayer, sound_file
from app.config import AlertSettings, AppSettings, load_settings, save_settings
from app.errors import InvalidSettings


class FakePlayerProcess:
    started: ClassVar[list[list[str]]] = []

    def __init__(self, args: list[str], **_kwargs) -> None:
        FakePlayerProcess.started.append(args)

    def poll(self) -> int:
        return 0


class RecordingSend:
    """The apprise call, recorded; ``gate`` holds a send back to show the caller never waits for it."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], str, str]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.done = threading.Event()

    def __call__(self, urls: Sequence[str], title: str, body: str) -> str:
        self.gate.wait(5)
        self.calls.append((tuple(urls), title, body))
        self.done.set()
        return ""


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_each_severity_has_a_small_wav_in_the_package() -> None:
    for severity in (Severity.INFO, Severity.WARNING, Severity.ACTION_FAILED):
        path = sound_file(severity)
        with wave.open(str(path)) as sound:
            seconds = sound.getnframes() / sound.getframerate()
        assert 0.05 < seconds < 1.0 and path.stat().st_size < 16_000


def test_player_uses_paplay_or_aplay_and_nothing_without_them() -> None:
    FakePlayerProcess.started = []
    which = {"aplay": "/usr/bin/aplay"}.get
    player = SoundPlayer(platform="linux", which=which, popen=FakePlayerProcess)
    assert player.play(Path("/x/warning.wav"))
    assert FakePlayerProcess.started == [["/usr/bin/aplay", "-q", "/x/warning.wav"]]
    silent = SoundPlayer(platform="linux", which=lambda _name: None, popen=FakePlayerProcess)
    assert not silent.available and not silent.play(Path("/x/warning.wav"))


def test_sound_per_severity_and_quiet_hours() -> None:
    FakePlayerProcess.started = []
    player = SoundPlayer(platform="linux", which={"paplay": "/usr/bin/paplay"}.get, popen=FakePlayerProcess)
    minute = [12 * 60]
    settings = AlertSettings(
        sound_info=False, sound_warning=True, sound_action_failed=True, quiet_from="22:00", quiet_to="07:00"
    )
    outputs = AlertOutputs(settings, player=player, push=PushSender(()), minute=lambda: minute[0])
    outputs.deliver(Notice(title="a", message="", severity=Severity.INFO))
    outputs.deliver(Notice(title="b", message="", severity=Severity.ACTION_FAILED))
    assert list(outputs.played) == ["action_failed"]
    minute[0] = 23 * 60
    outputs.deliver(Notice(title="c", message="", severity=Severity.WARNING))
    assert list(outputs.played) == ["action_failed"], "quiet hours: no sound"
    assert in_quiet_hours(6 * 60 + 59, settings) and not in_quiet_hours(7 * 60, settings)
    assert not in_quiet_hours(3 * 60, AlertSettings(quiet_from="22:00", quiet_to="22:00"))


def test_sounds_and_pushes_remembered_are_the_latest_few_however_long_the_desk_runs() -> None:
    player = SoundPlayer(platform="linux", which={"paplay": "/usr/bin/paplay"}.get, popen=FakePlayerProcess)
    send = RecordingSend()
    sender = PushSender(["ntfy://dtms"], interval_s=0.0, send=send)
    outputs = AlertOutputs(AlertSettings(sound_warning=True), player=player, push=sender, minute=lambda: 12 * 60)
    try:
        for n in range(KEPT + 30):
            FakePlayerProcess.started = []
            outputs.deliver(Notice(title=f"#{n} warning", message="", severity=Severity.WARNING, ticket=n))
            wait_for(lambda n=n: len(send.calls) == n + 1)  # one by one: none grouped
        wait_for(lambda: len(sender.sent) == KEPT and sender.sent[-1][0] == f"#{KEPT + 29} warning")
        assert len(outputs.played) == KEPT and sender.sent[0][0] == "#30 warning"
    finally:
        sender.close()


def test_push_never_blocks_the_caller_and_groups_what_arrives_meanwhile() -> None:
    send = RecordingSend()
    send.gate.clear()  # the first push hangs until released
    sender = PushSender(["ntfy://dtms"], interval_s=0.2, min_severity="warning", send=send)
    try:
        assert sender.offer(
            Notice(title="#1 EURUSD BUY: breakeven failed", message="m1", severity=Severity.ACTION_FAILED, ticket=1)
        )
        assert not sender.offer(Notice(title="#9 info", message="", severity=Severity.INFO)), "below the level"
        for t in (2, 3):
            sender.offer(
                Notice(title=f"#{t} GBPUSD SELL: warning level 2", message="m", severity=Severity.WARNING, ticket=t)
            )
        assert not send.calls, "every offer returned while the first push was still held back"
        send.gate.set()
        wait_for(lambda: len(send.calls) == 2)
        assert send.calls[0][1] == "#1 EURUSD BUY: breakeven failed"
        assert "#2 GBPUSD" in send.calls[1][2] and "#3 GBPUSD" in send.calls[1][2]
    finally:
        sender.close()


def test_push_failure_is_logged_not_raised() -> None:
    def broken(_urls, _title, _body) -> str:
        raise RuntimeError("network down")

    sender = PushSender(["ntfy://dtms"], interval_s=0.0, send=broken)
    try:
        sender.offer(Notice(title="x", message="", severity=Severity.ACTION_FAILED))
        wait_for(lambda: len(sender.sent) == 1)
        assert sender.sent[0][2] == "network down"
        assert sender.send_test().result(5) == "network down"
    finally:
        sender.close()


def test_send_test_reports_the_outcome() -> None:
    send = RecordingSend()
    sender = PushSender(["tgram://bot/chat"], send=send)
    try:
        assert sender.send_test().result(5) == "" and send.calls[0][1] == "DTMS Desk test"
    finally:
        sender.close()
    assert PushSender(()).send_test().result(1) == "no push URL is set"


def test_alert_settings_round_trip_and_validation(tmp_path: Path) -> None:
    alerts = AlertSettings(
        sound_info=True,
        quiet_from="23:30",
        quiet_to="06:00",
        push_urls=("ntfy://dtms", "tgram://bot/chat"),
        push_min_severity="action failed",
    )
    settings = replace(AppSettings(), alerts=alerts)
    save_settings(tmp_path / "dtms.toml", settings)
    assert load_settings(tmp_path / "dtms.toml").alerts == alerts
    with pytest.raises(InvalidSettings, match="alerts.quiet_from"):
        replace(AppSettings(), alerts=AlertSettings(quiet_from="25:00")).validate()
    with pytest.raises(InvalidSettings, match="alerts.push_urls"):
        replace(AppSettings(), alerts=AlertSettings(push_urls=("telegram",))).validate()
