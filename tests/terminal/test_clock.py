"""The simulated server clock: speed, jumps, freezing, monotonicity and persistence."""

from __future__ import annotations

import json

import pytest

from app.terminal.sim.clock import SimClock


class FakeWall:
    """A wall clock that moves only when told to."""

    def __init__(self, t: float = 1_750_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_default_clock_runs_on_wall_time() -> None:
    wall = FakeWall()
    clock = SimClock(wall=wall)
    assert clock.now() == wall.t
    wall.t += 12.5
    assert clock.now() == wall.t
    assert clock.speed == 1.0


def test_start_and_speed_scale_the_elapsed_wall_time() -> None:
    wall = FakeWall()
    clock = SimClock(start=1000.0, speed=60.0, wall=wall)
    wall.t += 2.0
    assert clock.now() == pytest.approx(1120.0)
    assert clock.now_msc() == 1_120_000


def test_set_speed_takes_effect_from_now() -> None:
    wall = FakeWall()
    clock = SimClock(start=0.0, speed=1.0, wall=wall)
    wall.t += 10
    clock.set_speed(10.0)
    wall.t += 1
    assert clock.now() == pytest.approx(20.0)


def test_speed_zero_freezes_and_advance_moves() -> None:
    wall = FakeWall()
    clock = SimClock(start=500.0, speed=0.0, wall=wall)
    wall.t += 3600
    assert clock.now() == 500.0
    clock.advance(3 * 86400)
    assert clock.now() == 500.0 + 3 * 86400
    clock.advance(0.25)
    assert clock.now_msc() == int((500.0 + 3 * 86400 + 0.25) * 1000)


def test_invalid_speed_and_backward_jump_are_rejected() -> None:
    clock = SimClock(start=0.0, wall=FakeWall())
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set_speed(-0.5)
    with pytest.raises(ValueError):
        SimClock(speed=-1.0)


def test_never_goes_backwards_when_the_wall_clock_does() -> None:
    wall = FakeWall()
    clock = SimClock(wall=wall)
    wall.t += 5
    ahead = clock.now()
    wall.t -= 60
    assert clock.now() == ahead
    wall.t += 120
    assert clock.now() > ahead


def test_wall_clock_state_resumes_at_wall_time() -> None:
    wall = FakeWall()
    state = SimClock(wall=wall).state()
    json.dumps(state)
    wall.t += 7200  # the program was closed for two hours
    restored = SimClock.restore(state, wall=wall)
    assert restored.now() == wall.t
    assert restored.speed == 1.0


def test_offset_state_resumes_at_saved_time_and_speed() -> None:
    wall = FakeWall()
    clock = SimClock(start=1_000.0, speed=30.0, wall=wall)
    wall.t += 10
    state = clock.state()
    assert state["time"] == pytest.approx(1_300.0)
    wall.t += 500
    restored = SimClock.restore(json.loads(json.dumps(state)), wall=wall)
    assert restored.now() == pytest.approx(1_300.0)
    assert restored.speed == 30.0
    wall.t += 1
    assert restored.now() == pytest.approx(1_330.0)


def test_a_wall_clock_that_was_advanced_keeps_its_offset() -> None:
    wall = FakeWall()
    clock = SimClock(wall=wall)
    clock.advance(3600)
    state = clock.state()
    restored = SimClock.restore(state, wall=wall)
    assert restored.now() == pytest.approx(wall.t + 3600)
