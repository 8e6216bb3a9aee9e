"""Fixed-rate pacing: 60 simulated frames per second of real time, whatever drawing costs."""

from __future__ import annotations

from typing import Any

import pytest

from aip_game._pacing import Pacer


class FakeClock:
    """A clock the test advances; `sleep` advances it too."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _loop(pacer: Pacer, clock: FakeClock, seconds: float, draw_s: float, frame_s: float) -> None:
    """The game's loop with drawing and simulation of the given costs, for `seconds` of fake time."""
    end = clock.now + seconds
    while clock.now < end:
        due = pacer.due()
        if due == 0:
            pacer.wait()
            continue
        clock.now += due * frame_s
        clock.now += draw_s
        pacer.drew()


def test_frames_come_due_with_real_time() -> None:
    clock = FakeClock()
    pacer = Pacer(60, clock=clock, sleep=clock.sleep)
    assert pacer.due() == 1 and pacer.due() == 0
    clock.now += 3 / 60
    assert pacer.due() == 3
    pacer.wait()  # sleeps until the next frame is due
    assert pacer.due() == 1


@pytest.mark.parametrize("draw_ms", [1.0, 16.0, 40.0, 120.0])
def test_game_time_equals_real_time_when_drawing_is_slow(draw_ms: float) -> None:
    clock = FakeClock()
    pacer = Pacer(60, clock=clock, sleep=clock.sleep)
    _loop(pacer, clock, 30.0, draw_ms / 1000, 0.0005)
    stats = pacer.stats
    assert stats.game_seconds() == pytest.approx(pacer.real_seconds(), abs=draw_ms / 1000 + 1 / 60)
    assert stats.dropped == 0
    assert stats.draws == pytest.approx(min(60.0, 1000 / (draw_ms + 0.5)) * 30, rel=0.1)  # drawing skips


def test_a_stall_drops_time_instead_of_racing_afterwards() -> None:
    clock = FakeClock()
    pacer = Pacer(60, clock=clock, sleep=clock.sleep, max_catch_up=15)
    pacer.due()
    clock.now += 2.0  # the machine stopped for two seconds
    assert pacer.due() == 15
    assert pacer.stats.dropped == 120 - 15
    assert pacer.due() == 0  # no burst of catching up afterwards


def test_when_even_the_simulation_is_too_slow_the_game_slows_down_boundedly() -> None:
    clock = FakeClock()
    pacer = Pacer(60, clock=clock, sleep=clock.sleep, max_catch_up=15)
    _loop(pacer, clock, 10.0, 0.005, 1 / 30)  # a frame costs two frames of real time
    assert 0.4 < pacer.stats.game_seconds() / pacer.real_seconds() < 0.6
    assert pacer.stats.dropped > 0


def test_the_apps_loop_keeps_game_time_when_drawing_takes_40_ms(make_app: Any) -> None:
    clock = FakeClock()
    app = make_app(opponent="linear", side="player", fps=60, frames=600)
    app.pacer = Pacer(60, clock=clock, sleep=clock.sleep)
    screen = app.screen
    draw = screen.draw

    def slow_draw(surface: Any) -> None:
        draw(surface)
        clock.now += 0.040  # a slow machine: 40 ms to draw a frame

    screen.draw = slow_draw
    app.run()
    stats = app.pacer.stats
    assert app.frames == 600 and screen.session.frame == 600  # every frame of 10 s of game time ...
    assert app.pacer.real_seconds() == pytest.approx(10.0, abs=0.1)  # ... in 10 s of real time
    assert stats.dropped == 0
    assert 200 <= stats.draws <= 260  # about one frame in 2.4 drawn
