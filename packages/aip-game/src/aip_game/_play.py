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
from ._screens import HighScoresScreen, MainMenu, missile_guidance, new_seed
from ._session import GameSession
from ._sprites import HUD_ACCENT, HUD_TEXT
from .recording import RecordingWriter, new_path

if TYPE_CHECKING:
    from ._app import App


__all__ = [
    "FOCUS_PAUSE_FRAMES",
    "GAME_OVER_DELAY",
    "GO_FRAMES",
    "HINT_FRAMES",
    "GameOverScreen",
    "GameScreen",
    "key_hint",
]

#: Frames the "GAME OVER" card shows before the score screen.
GAME_OVER_DELAY = 90
#: Frames the window must stay without the focus before a game pauses. Window managers report a
#: focus loss and gain in quick succession when a window is mapped or changes mode; those are no
#: reason to pause.
FOCUS_PAUSE_FRAMES = 15
#: Frames "GO!" shows after the get-ready count.
GO_FRAMES = 40
#: Frames the keys stay on screen after the count of the first game.
HINT_FRAMES = 300
#: Seconds a high-score entry waits for the rating sources when they have not answered yet.
_RATINGS_WAIT_S = 5.0

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
        #: SPACE was pressed since the last frame: it fires in the next frame even if already released.
        self.fire_pressed = False
        self.paused = False
        self.debug = bool(app.settings.get("debug_overlay"))
        self.over_frames = 0
        seed = new_seed(app)
        # the settings' missile guidance steers the player's missiles when you fly the ship and in Watch
        missiles = missile_guidance(app) if side in ("player", "watch") else None
        self.session = GameSession(side, opponent, seed=seed, partner=partner, host=app.host, missiles=missiles)
        #: Frames left of the get-ready count (nothing moves while it runs).
        self.ready_frames = self.session.balance.get_ready_frames if app.options.get_ready else 0
        self.ready_total = self.ready_frames
        app.games_started += 1
        #: Frames left to show the keys (the first game since the app started).
        self.hint_frames = self.ready_frames + HINT_FRAMES if app.games_started == 1 else 0
        self.go_frames = 0
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
        #: Whether the opponents got their ratings (once the rating sources have answered).
        self._rated = False

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
                # A recorded game goes to its score card, where the recording is kept or discarded.
                self.app.switch(GameOverScreen(self.app, self.session) if self.recorder else MainMenu(self.app))
                return
            if key == pygame.K_SPACE:
                self.fire_pressed = True
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
            # keys released in another window never reach us (the pause follows in update() if the
            # focus stays away: a window manager's brief loss while mapping the window is no reason)
            self.keys.clear()
            self.fire_pressed = False

    def human_action(self) -> np.ndarray:
        """The human's action from the keys held now, in the human role's action layout."""
        k = self.keys
        dx = float(any(key in k for key in _RIGHT)) - float(any(key in k for key in _LEFT))
        dy = float(any(key in k for key in _DOWN)) - float(any(key in k for key in _UP))
        if self.session.human_role == "player":
            fire = pygame.K_SPACE in k or self.fire_pressed
            return np.array([dx, dy, 1.0 if fire else 0.0], dtype=np.float32)
        return np.array([dx, dy], dtype=np.float32)

    # ------------------------------------------------------------------ the frame

    def update(self) -> None:
        s = self.session
        if s.over:
            if self.over_frames == 0:
                self.app.rating_book()  # asked now: the game-over card shows while the sources answer
            self.over_frames += 1
            if self.over_frames >= GAME_OVER_DELAY:
                self.app.switch(GameOverScreen(self.app, s))
            return
        book = self.app.ratings_ready() if not self._rated else None
        if book is not None:
            self._rated = True
            for who in (s.opponent_obj, s.partner):
                if who is not None:
                    book.rate(who)
        app = self.app
        recent_switch = app.frames - app.mode_switched_at < 30
        if app.unfocused_frames >= FOCUS_PAUSE_FRAMES and s.human_role is not None and not recent_switch:
            self.paused = True
        if self.paused or self.ready_frames > 0:
            self.fire_pressed = False  # a press while nothing moves does not fire later
            if not self.paused:
                self.ready_frames -= 1
                self.go_frames = GO_FRAMES if self.ready_frames == 0 and self.ready_total else 0
                self.hint_frames = max(0, self.hint_frames - 1)
            return
        self.go_frames = max(0, self.go_frames - 1)
        self.hint_frames = max(0, self.hint_frames - 1)
        if s.human_role is not None:
            s.set_human_action(self.human_action())
        self.fire_pressed = False
        level = s.level
        s.step(observe_opponent=self.debug)
        for who in s.controlled:
            if who.problem is not None and who.problem not in self._reported:
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
            fps=self.app.fps() if self.show_fps else None,
            side=s.side,
            opponent=s.opponent_obj.display_name,
            partner=s.partner.display_name if s.partner is not None else None,
            rating=s.opponent_obj.rating,
        )
        if self.debug:
            opp = s.opponent_obj
            note = "" if opp.controller == "agent" else " (bot: from its velocity)"
            action = opp.last_action if opp.controller == "agent" else self._bot_action(st)
            self.app.hud.draw_debug(surface, opp.role, opp.label, s.opponent_observation, action, note)
        if self.effects.banner is not None:
            self.app.text.draw(surface, self.effects.banner[0], (640, 110), 44, HUD_ACCENT, anchor="center")
        if self.ready_frames > 0:
            count = -(-self.ready_frames * 3 // max(1, self.ready_total))
            self.app.hud.draw_center(surface, str(count), [self._ready_line()], title_size=140)
        elif self.go_frames > 0:
            self.app.text.draw(surface, "GO!", (640, 300), 120, HUD_ACCENT, anchor="center")
        if self.hint_frames > 0:
            self.app.hud.draw_hint(surface, key_hint(s.side))
        if self.paused:
            self.app.hud.draw_center(surface, "PAUSED", ["P to resume, ESC for the menu"])
        if s.over:
            self.app.hud.draw_center(surface, "GAME OVER", [f"score {s.score}"])
        if self.recorder is not None:
            pygame.draw.circle(surface, (230, 40, 40), (1252, 62), 8)
            self.app.text.draw(surface, "REC", (1238, 62), 22, HUD_TEXT, anchor="midright")
        self.app.hud.draw_notices(surface, self.app.notice_lines())

    def _ready_line(self) -> str:
        s = self.session
        if s.side == "watch":
            player = s.partner.display_name if s.partner else "the player"
            return f"{player} (player) against {s.opponent_obj.display_name}"
        if s.side == "enemy":
            return f"get ready: catch {s.opponent_obj.display_name}"
        steered = f" - missiles: {s.missiles.display_name}" if s.missiles is not None else ""
        return f"get ready: {s.opponent_obj.display_name} is coming{steered}"

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
        #: The recording of this game, until it is discarded; `recording_choice` is "kept" or "discarded".
        self.recording = session.recorder.path if session.recorder is not None else None
        self.recording_choice = ""
        self.name = str(app.settings.get("player_name") or "PLAYER")[:MAX_NAME_LENGTH]
        self.frame = 0

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.MOUSEBUTTONDOWN and not self.qualifies:
            self.app.switch(MainMenu(self.app))
        if event.type != pygame.KEYDOWN:
            return
        if self.recording is not None and not self.recording_choice and event.key in (pygame.K_F1, pygame.K_F2):
            self._choose_recording(keep=event.key == pygame.K_F1)
            return
        if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self._finish()
        elif event.key == pygame.K_ESCAPE:
            self.app.switch(MainMenu(self.app))
        elif self.qualifies and event.key == pygame.K_BACKSPACE:
            self.name = self.name[:-1]
        elif self.qualifies and len(self.name) < MAX_NAME_LENGTH and _typable(getattr(event, "unicode", "")):
            self.name += event.unicode.upper()

    def _choose_recording(self, *, keep: bool) -> None:
        assert self.recording is not None
        if keep:
            self.recording_choice = "kept"
            self.app.notify(f"kept {self.recording.name}", 240)
            return
        from .recording import RecordingError, discard

        try:
            discard(self.recording)
        except (OSError, RecordingError) as exc:
            self.app.notify(f"could not discard the recording: {exc}")
            return
        self.recording_choice = "discarded"
        self.app.notify(f"discarded {self.recording.name}", 240)

    def _finish(self) -> None:
        if not self.qualifies:
            self.app.switch(MainMenu(self.app))
            return
        s = self.session
        name = self.name.strip() or "PLAYER"
        self.app.settings.set("player_name", name)
        opp = s.opponent_obj
        if opp.rating is None:
            book = self.app.rating_book()
            book.wait(_RATINGS_WAIT_S)  # asked when the game ended; a slow source gets a moment more
            book.rate(opp)
        entry = HighScore(
            name,
            s.score,
            s.side,
            s.opponent,
            s.frame,
            opponent_rating=opp.rating,
            opponent_sigma=opp.rating_sigma,
            rating_league=opp.rating_where,
        )
        rank = self.app.highscores.add(entry)
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
        if self.recording is not None:
            line = {
                "": "recorded: F1 keep it as a demonstration, F2 discard it",
                "kept": f"recording kept: {self.recording.name}",
                "discarded": "recording discarded",
            }[self.recording_choice]
            t.draw(surface, line, (640, 590), 28, HUD_ACCENT, anchor="center")
        self.app.hud.draw_notices(surface, self.app.notice_lines())


def key_hint(side: str) -> list[str]:
    """The keys, in a few short lines, for the side being played."""
    if side == "watch":
        return ["P pause   ESC menu   F fullscreen   F3 what the enemy sees"]
    if side == "enemy":
        return ["arrows / WASD: move and catch the ship, dodge its missiles", "P pause   ESC menu   F fullscreen"]
    return ["arrows / WASD: move     SPACE: fire (3 missiles at most)", "P pause   ESC menu   F fullscreen"]


def _typable(char: str) -> bool:
    return len(char) == 1 and (char.isalnum() or char in " -_.")


def _version() -> str:
    from . import __version__

    return __version__
