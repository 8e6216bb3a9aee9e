"""The screens of a game: playing (input, one step, drawing) and the game-over card with name entry."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pygame

from . import _paths
from ._effects import Effects
from ._engine import ae
from ._highscores import MAX_NAME_LENGTH, HighScore
from ._opponents import Opponent
from ._render import ArenaRenderer
from ._screens import HighScoresScreen, MainMenu, new_seed
from ._session import GameSession
from ._sprites import HUD_ACCENT, HUD_TEXT
from .recording import RecordingWriter, new_path

if TYPE_CHECKING:
    from ._app import App

__all__ = ["GAME_OVER_DELAY", "GameOverScreen", "GameScreen"]

#: Frames the "GAME OVER" card shows before the score screen.
GAME_OVER_DELAY = 90

_EVENT_INDEX = {name: i for i, name in enumerate(ae.EVENTS)}
_LEFT = (pygame.K_LEFT, pygame.K_a)
_RIGHT = (pygame.K_RIGHT, pygame.K_d)
_UP = (pygame.K_UP, pygame.K_w)
_DOWN = (pygame.K_DOWN, pygame.K_s)


class GameScreen:
    """A game in progress: keys become the human's action; each frame is one engine step and a render.

    Args:
        app: The app.
        side: ``"player"``, ``"enemy"`` or ``"watch"``.
        opponent: Controls the other side (the enemy when watching).
        partner: When watching, the player's controller.
        record: Record the human's frames to a new file in the recordings folder.
    """

    def __init__(
        self, app: App, side: str, opponent: Opponent, *, partner: Opponent | None = None, record: bool = False
    ):
        self.app = app
        self.keys: set[int] = set()
        self.paused = False
        self.debug = bool(app.settings.get("debug_overlay"))
        self.over_frames = 0
        seed = new_seed(app)
        self.session = GameSession(side, opponent, seed=seed, partner=partner, host=app.host)
        self.recorder: RecordingWriter | None = None
        if record and side in ("player", "enemy"):
            self.recorder = self._start_recording()
        self.effects = Effects(seed)
        self.renderer = ArenaRenderer(app.sprites, self.effects)
        self.renderer.trails = bool(app.settings.get("trails"))
        self.renderer.explosions = bool(app.settings.get("explosions"))
        self.renderer.wrap = self.session.config.boundary == "wrap"
        self.show_fps = bool(app.settings.get("show_fps"))
        self._reported: set[str] = set()

    def _start_recording(self) -> RecordingWriter:
        s = self.session
        header = {
            **s.recording_header(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "game_version": _version(),
        }
        writer = RecordingWriter(new_path(_paths.recordings_dir(), s.record_role), header)
        s.recorder = writer
        self.app.notify(f"recording to {writer.path}", 240)
        return writer

    # ------------------------------------------------------------------ input

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN:
            key = event.key
            if key == pygame.K_ESCAPE:
                self.abandon()
                self.app.switch(MainMenu(self.app))
                return
            if key == pygame.K_p:
                self.paused = not self.paused
            elif key == pygame.K_f:
                self.app.toggle_fullscreen()
            elif key == pygame.K_F3:
                self.debug = not self.debug
            self.keys.add(key)
        elif event.type == pygame.KEYUP:
            self.keys.discard(event.key)
        elif event.type == pygame.WINDOWFOCUSLOST:
            # keys released in another window never reach us; and nobody is playing now
            self.keys.clear()
            # switching to and from fullscreen can report a focus change that is no reason to pause
            recent_switch = self.app.frames - self.app.mode_switched_at < 30
            if self.session.human_role is not None and not self.session.over and not recent_switch:
                self.paused = True

    def human_action(self) -> np.ndarray:
        """The human's action from the keys held now, in the human role's action layout."""
        k = self.keys
        dx = float(any(key in k for key in _RIGHT)) - float(any(key in k for key in _LEFT))
        dy = float(any(key in k for key in _DOWN)) - float(any(key in k for key in _UP))
        if self.session.human_role == "player":
            return np.array([dx, dy, 1.0 if pygame.K_SPACE in k else 0.0], dtype=np.float32)
        return np.array([dx, dy], dtype=np.float32)

    # ------------------------------------------------------------------ the frame

    def update(self) -> None:
        s = self.session
        if s.over:
            self.over_frames += 1
            if self.over_frames >= GAME_OVER_DELAY:
                self.app.switch(GameOverScreen(self.app, s))
            return
        if self.paused:
            return
        if s.human_role is not None:
            s.set_human_action(self.human_action())
        level = s.level
        s.step(observe_opponent=self.debug)
        for who in (s.opponent_obj, s.partner):
            if who is not None and who.problem is not None and who.problem not in self._reported:
                self._reported.add(who.problem)
                self.app.notify(who.problem)
        self.renderer.observe(s)
        self._sounds()
        if s.level != level:
            what = "the player bot fires more" if s.side == "enemy" else f"enemy speed x{s.enemy_speed_scale:.1f}"
            self.effects.show_banner(f"LEVEL {s.level}  -  {what}")
            self.app.sounds.play("level")

    def _sounds(self) -> None:
        ev = self.session.frame_events
        sounds = self.app.sounds
        sounds.enabled = bool(self.app.settings.get("sound"))
        for name in ("fire", "hit", "catch"):
            if ev[_EVENT_INDEX[name]]:
                sounds.play(name)

    def draw(self, surface: pygame.Surface) -> None:
        s = self.session
        self.renderer.draw(surface, s)
        self.app.host.draw_overlays(surface, s)
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
            fps=self.app.clock.get_fps() if self.show_fps else None,
            side=s.side,
            opponent=s.opponent,
        )
        if self.debug:
            opp = s.opponent_obj
            note = "" if opp.controller == "agent" else " (bot: from its velocity)"
            action = opp.last_action if opp.controller == "agent" else self._bot_action(st)
            self.app.hud.draw_debug(surface, opp.role, opp.label, s.opponent_observation, action, note)
        if self.effects.banner is not None:
            self.app.text.draw(surface, self.effects.banner[0], (640, 110), 44, HUD_ACCENT, anchor="center")
        if self.paused:
            self.app.hud.draw_center(surface, "PAUSED", ["P to resume, ESC for the menu"])
        if s.over:
            self.app.hud.draw_center(surface, "GAME OVER", [f"score {s.score}"])
        if self.recorder is not None:
            pygame.draw.circle(surface, (230, 40, 40), (1252, 62), 8)
            self.app.text.draw(surface, "REC", (1238, 62), 22, HUD_TEXT, anchor="midright")
        self.app.hud.draw_notices(surface, self.app.notice_lines())

    def _bot_action(self, st: dict[str, np.ndarray]) -> np.ndarray:
        role = self.session.opponent_obj.role
        vel = st[f"{role}_vel"][0]
        speed = self.session.param(f"{role}_speed") * (self.session.enemy_speed_scale if role == "enemy" else 1.0)
        move = vel / speed if speed > 0 else vel * 0
        if role == "player":
            return np.array([move[0], move[1], float(self.session.frame_events[0] > 0)], dtype=np.float32)
        return np.asarray(move, dtype=np.float32)

    def abandon(self) -> None:
        """End the game now (ESC or closing the window); the recording keeps every frame."""
        self.session.end("quit")


class GameOverScreen:
    """The final score; a score that enters the table asks for a name (type, Backspace, Enter)."""

    def __init__(self, app: App, session: GameSession) -> None:
        self.app = app
        self.session = session
        self.qualifies = session.side != "watch" and app.highscores.qualifies(session.score)
        self.name = str(app.settings.get("player_name") or "PLAYER")[:MAX_NAME_LENGTH]
        self.frame = 0

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.MOUSEBUTTONDOWN and not self.qualifies:
            self.app.switch(MainMenu(self.app))
        if event.type != pygame.KEYDOWN:
            return
        if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self._finish()
        elif event.key == pygame.K_ESCAPE:
            self.app.switch(MainMenu(self.app))
        elif self.qualifies and event.key == pygame.K_BACKSPACE:
            self.name = self.name[:-1]
        elif self.qualifies and len(self.name) < MAX_NAME_LENGTH and _typable(getattr(event, "unicode", "")):
            self.name += event.unicode.upper()

    def _finish(self) -> None:
        if not self.qualifies:
            self.app.switch(MainMenu(self.app))
            return
        s = self.session
        name = self.name.strip() or "PLAYER"
        self.app.settings.set("player_name", name)
        rank = self.app.highscores.add(HighScore(name, s.score, s.side, s.opponent, s.frame))
        self.app.switch(HighScoresScreen(self.app, highlight=rank))

    def update(self) -> None:
        self.frame += 1

    def draw(self, surface: pygame.Surface) -> None:
        surface.blit(self.app.sprites.background, (0, 0))
        t = self.app.text
        s = self.session
        t.draw(surface, "GAME OVER", (640, 160), 110, HUD_TEXT, anchor="center")
        t.draw(surface, f"score {s.score}", (640, 250), 56, HUD_ACCENT, anchor="center")
        t.draw(
            surface,
            f"{s.frame // 60} s against {s.opponent}, level {s.level}",
            (640, 300),
            30,
            HUD_TEXT,
            anchor="center",
        )
        if self.qualifies:
            t.draw(surface, "a new high score! your name:", (640, 390), 36, HUD_TEXT, anchor="center")
            cursor = "_" if (self.frame // 20) % 2 == 0 else " "
            t.draw(surface, self.name + cursor, (640, 450), 64, HUD_ACCENT, anchor="center")
            t.draw(surface, "type, then Enter", (640, 520), 26, HUD_TEXT, anchor="center")
        else:
            t.draw(surface, "Enter: menu", (640, 450), 32, HUD_TEXT, anchor="center")
        self.app.hud.draw_notices(surface, self.app.notice_lines())


def _typable(char: str) -> bool:
    return len(char) == 1 and (char.isalnum() or char in " -_.")


def _version() -> str:
    from . import __version__

    return __version__
