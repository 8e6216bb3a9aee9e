"""Drawing the arena: background, missiles and trails, the enemy (with its fade-in), the player, effects."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pygame

from ._effects import Effects
from ._engine import ae
from ._session import GameSession
from ._sprites import LOGICAL_SIZE, Sprites

__all__ = ["FADE_FRAMES", "ArenaRenderer"]

#: Frames over which a respawned enemy fades in.
FADE_FRAMES = 60
_FLASH_PERIOD = 6  # frames on / off while the player is invulnerable
_EV = {name: i for i, name in enumerate(ae.EVENTS)}


class ArenaRenderer:
    """Draws one game's arena onto the logical 1280 × 720 surface.

    Args:
        sprites: The sprites.
        effects: The effects of this game.
    """

    def __init__(self, sprites: Sprites, effects: Effects) -> None:
        self.sprites = sprites
        self.effects = effects
        self.heading = (1.0, 0.0)
        self.thrust = 0.0
        self.trails = True
        self.explosions = True
        self.wrap = True

    def observe(self, session: GameSession) -> None:
        """Start effects for what happened in the frame just played, and age the others."""
        st = session.worlds.state()
        ev = session.frame_events
        ex, ey = float(st["enemy_pos"][0, 0]), float(st["enemy_pos"][0, 1])
        px, py = float(st["player_pos"][0, 0]), float(st["player_pos"][0, 1])
        self.effects.advance()
        if ev[_EV["hit"]] and self.explosions:
            self.effects.explode(ex, ey)
        if ev[_EV["catch"]]:
            self.effects.caught(px, py)
        if ev[_EV["respawn"]]:
            self.effects.respawned(ex, ey)
        if ev[_EV["fire"]]:
            self.effects.fired(px, py)
        alive = st["missile_alive"][0]
        pos = st["missile_pos"][0]
        self.effects.track_missiles(
            [(float(pos[i, 0]), float(pos[i, 1])) if alive[i] else None for i in range(alive.shape[0])]
        )
        vx, vy = float(st["player_vel"][0, 0]), float(st["player_vel"][0, 1])
        speed = math.hypot(vx, vy)
        if speed > 1e-6:
            self.heading = (vx / speed, vy / speed)
        # the flame flickers with the frame number; its length follows the speed
        base = session.param("player_speed") or 1.0
        self.thrust = min(1.0, speed / base) * (0.8 + 0.2 * ((session.frame // 2) % 3) / 2)

    def draw(self, surface: pygame.Surface, session: GameSession) -> None:
        """Draw the arena of `session` as the engine reports it now."""
        st: dict[str, Any] = session.worlds.state()
        cfg = session.config
        sx, sy = LOGICAL_SIZE[0] / cfg.arena_width, LOGICAL_SIZE[1] / cfg.arena_height
        ox, oy = self.effects.offset()
        surface.blit(self.sprites.background, (ox, oy))
        if self.trails:
            self.effects.draw_trails(surface, sx, sy)
        alive = st["missile_alive"][0]
        mpos = st["missile_pos"][0]
        for i in np.flatnonzero(alive):
            self.sprites.draw_missile(surface, (int(mpos[i, 0] * sx), int(mpos[i, 1] * sy)))
        if bool(st["enemy_active"][0]):
            fade = int(st["enemy_fade"][0])
            alpha = 255 if fade >= FADE_FRAMES else int(255 * fade / FADE_FRAMES)
            ex, ey = float(st["enemy_pos"][0, 0]) * sx, float(st["enemy_pos"][0, 1]) * sy
            for x, y in self._copies(ex, ey, self.sprites.enemy_radius + 30, self.wrap):
                self.sprites.draw_enemy(surface, (x, y), session.frame, alpha)
        invulnerable = int(st["player_invulnerable"][0])
        if invulnerable == 0 or (invulnerable // _FLASH_PERIOD) % 2 == 0:
            px, py = float(st["player_pos"][0, 0]) * sx, float(st["player_pos"][0, 1]) * sy
            for x, y in self._copies(px, py, self.sprites.player_radius + 30, self.wrap):
                self.sprites.draw_player(surface, (x, y), self.heading, self.thrust)
        self.effects.draw(surface, sx, sy)
        self.effects.draw_hurt(surface)

    @staticmethod
    def _copies(x: float, y: float, margin: float, wrap: bool) -> Iterator[tuple[int, int]]:
        # Under wrap an entity crossing an edge shows on both sides.
        if not wrap:
            yield int(x), int(y)
            return
        w, h = LOGICAL_SIZE
        xs = [x] + ([x + w] if x < margin else []) + ([x - w] if x > w - margin else [])
        ys = [y] + ([y + h] if y < margin else []) + ([y - h] if y > h - margin else [])
        for cx in xs:
            for cy in ys:
                yield int(cx), int(cy)
