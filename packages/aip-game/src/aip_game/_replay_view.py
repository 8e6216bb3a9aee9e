"""The replay viewer: a recorded game played again, with play/pause, speed and seeking.

Keys: SPACE or P play and pause, Left / Right seek 5 s (with Shift 30 s), Up / Down or + / - change
the speed (¼× to 8×), Home / End go to the start / end, ESC goes back. A click on the timeline seeks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pygame

from ._effects import Effects
from ._render import ArenaRenderer
from ._sprites import HUD_ACCENT, HUD_TEXT, HUD_WARN
from .recording import Recording
from .replay import Replay

if TYPE_CHECKING:
    from ._app import App, Screen

__all__ = ["SEEK_STEP_FRAMES", "SPEEDS", "ReplayScreen"]

#: Playback speeds, slowest first.
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
#: Frames replayed per update while seeking (the viewer stays responsive on long recordings).
SEEK_STEP_FRAMES = 3000
_BAR = pygame.Rect(40, 658, 1200, 14)
_SEEK = 5 * 60
_SEEK_FAR = 30 * 60
_PERSON = "a person"


def _clock(frames: int) -> str:
    seconds = frames // 60
    return f"{seconds // 60}:{seconds % 60:02d}"


class ReplayScreen:
    """Shows a `Replay` with the game's renderer and HUD, under the viewer's controls.

    Args:
        app: The app.
        recording: The recording (or its path).
        back: Makes the screen ESC returns to (default: the main menu).

    Raises:
        ReplayError: The recording cannot be replayed.
    """

    def __init__(self, app: App, recording: Recording | str | Path, back: Callable[[], Screen] | None = None) -> None:
        self.app = app
        self.replay = Replay(recording)
        self.name = Path(recording).name if not isinstance(recording, Recording) else "recording"
        self._back = back
        self.playing = True
        self.speed = 1.0
        self._owed = 0.0
        self.target: int | None = None
        self.frame = 0
        self._new_view()

    def _new_view(self) -> None:
        s = self.replay.session
        self.effects = Effects(s.seed)
        self.renderer = ArenaRenderer(self.app.sprites, self.effects)
        self.renderer.trails = bool(self.app.settings.get("trails"))
        self.renderer.explosions = bool(self.app.settings.get("explosions"))
        self.renderer.wrap = s.config.boundary == "wrap"

    # ------------------------------------------------------------------ controls

    def seek(self, frame: int) -> None:
        """Go to `frame` (done over the next updates when it is far away)."""
        self.target = max(0, min(int(frame), self.replay.length))
        if self.target < self.replay.frame:
            self.replay.seek(0)
            self._new_view()

    def faster(self, step: int) -> None:
        """Move the speed `step` places along `SPEEDS`."""
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else SPEEDS.index(1.0)
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, i + step))]

    def handle(self, event: pygame.event.Event) -> None:
        on_bar = event.type == pygame.MOUSEBUTTONDOWN and _BAR.inflate(0, 16).collidepoint(event.pos)
        if on_bar and event.button == 1:
            self.seek(round((event.pos[0] - _BAR.x) / _BAR.width * self.replay.length))
            return
        if event.type != pygame.KEYDOWN:
            return
        key = event.key
        far = bool(getattr(event, "mod", 0) & pygame.KMOD_SHIFT)
        now = self.target if self.target is not None else self.replay.frame
        if key == pygame.K_ESCAPE:
            self.app.switch(self._back() if self._back is not None else self._menu())
        elif key in (pygame.K_SPACE, pygame.K_p):
            if self.replay.done and not self.playing:
                self.seek(0)
            self.playing = not self.playing
        elif key == pygame.K_RIGHT:
            self.seek(now + (_SEEK_FAR if far else _SEEK))
        elif key == pygame.K_LEFT:
            self.seek(now - (_SEEK_FAR if far else _SEEK))
        elif key in (pygame.K_UP, pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            self.faster(1)
        elif key in (pygame.K_DOWN, pygame.K_MINUS, pygame.K_KP_MINUS):
            self.faster(-1)
        elif key == pygame.K_HOME:
            self.seek(0)
        elif key == pygame.K_END:
            self.seek(self.replay.length)

    def _menu(self) -> Screen:
        from ._screens import MainMenu

        return MainMenu(self.app)

    # ------------------------------------------------------------------ the frame

    def update(self) -> None:
        self.frame += 1
        r = self.replay
        if self.target is not None:
            left = self.target - r.frame
            for _ in range(min(left, SEEK_STEP_FRAMES)):
                r.step()
                if self.target - r.frame < 120:  # the last frames before the target feed the effects
                    self.renderer.observe(r.session)
            if r.frame >= self.target:
                self.target = None
            return
        if not self.playing or r.done:
            self.playing = self.playing and not r.done
            return
        self._owed += self.speed
        while self._owed >= 1.0 and not r.done:
            self._owed -= 1.0
            r.step()
            self.renderer.observe(r.session)

    def draw(self, surface: pygame.Surface) -> None:
        r = self.replay
        s = r.session
        self.renderer.draw(surface, s)
        st = s.worlds.state()
        max_missiles = int(s.param("max_missiles"))
        alive = int(np.count_nonzero(st["missile_alive"][0][:max_missiles]))
        self.app.hud.draw(
            surface,
            score=s.score,
            lives=s.lives,
            missiles_ready=max(0, max_missiles - alive),
            max_missiles=max_missiles,
            level=s.level,
            speed_scale=s.difficulty_scale,
            fps=None,
            side="watch",
            opponent=_PERSON if s.side == "enemy" else s.opponent_obj.display_name,
            partner=self._player_name(),
            heading="REPLAY",
        )
        self._draw_timeline(surface)
        self.app.hud.draw_notices(surface, self.app.notice_lines())

    def _player_name(self) -> str:
        s = self.replay.session
        if s.side == "player":
            return _PERSON
        if s.side == "enemy":
            return s.opponent_obj.display_name
        return s.partner.display_name if s.partner is not None else "?"

    def _draw_timeline(self, surface: pygame.Surface) -> None:
        r = self.replay
        t = self.app.text
        shown = self.target if self.target is not None else r.frame
        pygame.draw.rect(surface, (6, 8, 20), pygame.Rect(28, 622, 1224, 92), border_radius=8)
        pygame.draw.rect(surface, (40, 50, 80), _BAR, border_radius=6)
        if r.length:
            done = _BAR.copy()
            done.width = max(1, int(_BAR.width * shown / r.length))
            pygame.draw.rect(surface, HUD_ACCENT, done, border_radius=6)
        state = "seeking" if self.target is not None else ("playing" if self.playing else "paused")
        if r.done and self.target is None:
            state = "end"
        t.draw(surface, f"REPLAY  {self.name}", (40, 630), 22, HUD_ACCENT)
        status = f"{_clock(shown)} / {_clock(r.length)}   x{self.speed:g}   {state}"
        t.draw(surface, status, (1240, 630), 22, HUD_TEXT, anchor="topright")
        help_line = "SPACE play/pause   Left/Right seek 5 s (Shift: 30 s)   Up/Down speed   Home/End   Esc back"
        t.draw(surface, help_line, (640, 684), 20, HUD_TEXT, anchor="midtop")
        if r.diverged_at is not None:
            t.draw(
                surface,
                f"this replay differs from the recording from frame {r.diverged_at} on (another engine version?)",
                (640, 60),
                22,
                HUD_WARN,
                anchor="midtop",
            )
        elif r.done and r.recording.outcome:
            o = r.recording.outcome
            line = f"{o.get('reason', '')}: score {o.get('score', '?')}, level {o.get('level', '?')}"
            t.draw(surface, line, (640, 300), 48, HUD_TEXT, anchor="center")
