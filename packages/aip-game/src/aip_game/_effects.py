"""Visual effects that live a few frames: missile trails, explosions, shock rings, banners.

Effects are only looks: they read positions the engine reports and never feed back into the rules.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass

import numpy as np
import pygame

from ._sprites import ENEMY_BODY, PLAYER_BODY, TRAIL_HEAD, glow

__all__ = ["Effects"]

_TRAIL_LENGTH = 28
_FLASH_FRAMES = 10
_FLASH_IMAGES: list[pygame.Surface] = []
_HURT_FRAMES = 24
_HURT_LEVELS = 6
_HURT_DEPTH = 40
_HURT_IMAGES: list[tuple[pygame.Surface, pygame.Surface]] = []


def _hurt_strips(w: int, h: int, strength: float) -> tuple[pygame.Surface, pygame.Surface]:
    """A top strip (w × depth) and a left strip (depth × rest) fading from red at the edge to black."""
    fade = (1.0 - np.linspace(0.0, 1.0, _HURT_DEPTH)) ** 2 * strength
    red = np.array([200.0, 20.0, 50.0])
    column = (fade[:, None] * red).astype(np.uint8)  # depth × 3
    top = np.broadcast_to(column[None, :, :], (w, _HURT_DEPTH, 3)).copy()
    side = np.broadcast_to(column[:, None, :], (_HURT_DEPTH, h - 2 * _HURT_DEPTH, 3)).copy()
    return pygame.surfarray.make_surface(top), pygame.surfarray.make_surface(side)


_EXPLOSION_COLORS = ((255, 245, 200), (255, 210, 90), (255, 140, 50), (230, 60, 60), (120, 30, 40))


@dataclass
class _Ring:
    x: float
    y: float
    age: int
    life: int
    r0: float
    r1: float
    color: tuple[int, int, int]


class Effects:
    """The effects currently alive, advanced once per game frame.

    Args:
        seed: Seed of the effects' own random numbers (particle directions; not part of the rules).
    """

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.trails: list[deque[tuple[float, float]]] = [deque(maxlen=_TRAIL_LENGTH) for _ in range(3)]
        # particles: x, y, vx, vy, age, life
        self.particles: list[list[float]] = []
        self.rings: list[_Ring] = []
        self.banner: tuple[str, int] | None = None
        self.shake = 0
        self.hurt = 0
        # x, y, age: a bright additive flash where the enemy was hit
        self.flashes: list[list[float]] = []

    def track_missiles(self, positions: list[tuple[float, float] | None]) -> None:
        """Extend each missile slot's trail with its position (None: the slot is empty)."""
        for slot, pos in enumerate(positions[: len(self.trails)]):
            trail = self.trails[slot]
            if pos is None:
                if trail:
                    trail.popleft()  # let the trail of a dead missile shrink away
                continue
            if trail and (abs(trail[-1][0] - pos[0]) > 60 or abs(trail[-1][1] - pos[1]) > 60):
                trail.clear()  # a new missile in the slot, or a wrap across the arena's edge
            trail.append(pos)

    def explode(self, x: float, y: float, count: int = 48) -> None:
        """Start an explosion (the enemy was hit)."""
        for _ in range(count):
            a = self.rng.uniform(0, 2 * math.pi)
            s = self.rng.uniform(0.5, 5.5)
            self.particles.append([x, y, s * math.cos(a), s * math.sin(a), 0, self.rng.randint(24, 48)])
        self.rings.append(_Ring(x, y, 0, 24, 10, 90, (255, 200, 120)))
        self.flashes.append([x, y, 0])
        self.shake = max(self.shake, 8)

    def caught(self, x: float, y: float) -> None:
        """Show that the enemy caught the player."""
        self.rings.append(_Ring(x, y, 0, 30, 20, 140, ENEMY_BODY))
        self.rings.append(_Ring(x, y, 0, 20, 10, 70, (255, 255, 255)))
        self.shake = max(self.shake, 14)
        self.hurt = _HURT_FRAMES

    def respawned(self, x: float, y: float) -> None:
        """Show the enemy warping in (a ring closing on its position)."""
        self.rings.append(_Ring(x, y, 0, 30, 80, 26, (200, 80, 160)))

    def fired(self, x: float, y: float) -> None:
        """A small flash where a missile left the player."""
        self.rings.append(_Ring(x, y, 0, 10, 8, 30, PLAYER_BODY))

    def show_banner(self, text: str, frames: int = 120) -> None:
        """Show a centred message for `frames` frames."""
        self.banner = (text, frames)

    def advance(self) -> None:
        """Age every effect by one frame."""
        alive = []
        for p in self.particles:
            p[0] += p[2]
            p[1] += p[3]
            p[2] *= 0.94
            p[3] *= 0.94
            p[4] += 1
            if p[4] < p[5]:
                alive.append(p)
        self.particles = alive
        for flash in self.flashes:
            flash[2] += 1
        self.flashes = [f for f in self.flashes if f[2] < _FLASH_FRAMES]
        for ring in self.rings:
            ring.age += 1
        self.rings = [r for r in self.rings if r.age < r.life]
        if self.banner is not None:
            text, left = self.banner
            self.banner = (text, left - 1) if left > 1 else None
        self.shake = max(0, self.shake - 1)
        self.hurt = max(0, self.hurt - 1)

    def offset(self) -> tuple[int, int]:
        """The screen-shake offset of this frame."""
        if self.shake <= 0:
            return (0, 0)
        k = self.shake // 3 + 1
        return (self.rng.randint(-k, k), self.rng.randint(-k, k))

    def draw_trails(self, surface: pygame.Surface, sx: float, sy: float) -> None:
        """Draw the missile trails (arena → screen scale `sx`, `sy`)."""
        for trail in self.trails:
            n = len(trail)
            if n < 2:
                continue
            points = list(trail)
            for i in range(1, n):
                k = i / n
                color = (int(TRAIL_HEAD[0] * k), int(TRAIL_HEAD[1] * k * k), int(TRAIL_HEAD[2] * k * k))
                a, b = points[i - 1], points[i]
                pygame.draw.line(surface, color, (a[0] * sx, a[1] * sy), (b[0] * sx, b[1] * sy), 1 + int(3 * k))

    @staticmethod
    def _flash(age: int) -> pygame.Surface:
        # drawn once per process: a glow that grows and dims over the flash's frames
        if not _FLASH_IMAGES:
            _FLASH_IMAGES.extend(
                glow(int(40 + 50 * k / _FLASH_FRAMES), tuple(int(c * (1 - k / _FLASH_FRAMES)) for c in (255, 190, 90)))
                for k in range(_FLASH_FRAMES)
            )
        return _FLASH_IMAGES[age]

    def draw(self, surface: pygame.Surface, sx: float, sy: float) -> None:
        """Draw flashes, particles and rings."""
        for x, y, age in self.flashes:
            image = self._flash(int(age))
            half = image.get_width() // 2
            surface.blit(image, (x * sx - half, y * sy - half), special_flags=pygame.BLEND_ADD)
        last = len(_EXPLOSION_COLORS) - 1
        for p in self.particles:
            k = p[4] / p[5]
            color = _EXPLOSION_COLORS[min(last, int(k * len(_EXPLOSION_COLORS)))]
            pygame.draw.circle(surface, color, (p[0] * sx, p[1] * sy), max(1.0, 4.0 * (1.0 - k)))
        for ring in self.rings:
            k = ring.age / ring.life
            radius = ring.r0 + (ring.r1 - ring.r0) * k
            fade = 1.0 - k
            color = (int(ring.color[0] * fade), int(ring.color[1] * fade), int(ring.color[2] * fade))
            pygame.draw.circle(surface, color, (ring.x * sx, ring.y * sy), radius, max(1, int(4 * fade)))

    def draw_hurt(self, surface: pygame.Surface) -> None:
        """Tint the screen's edges red for a moment after a catch (additive strips, cheap to blit)."""
        if self.hurt <= 0:
            return
        w, h = surface.get_size()
        if not _HURT_IMAGES:
            _HURT_IMAGES.extend(_hurt_strips(w, h, k / _HURT_LEVELS) for k in range(1, _HURT_LEVELS + 1))
        level = min(_HURT_LEVELS - 1, (self.hurt * _HURT_LEVELS - 1) // _HURT_FRAMES)
        top, side = _HURT_IMAGES[level]
        depth = top.get_height()
        surface.blit(top, (0, 0), special_flags=pygame.BLEND_ADD)
        surface.blit(pygame.transform.flip(top, False, True), (0, h - depth), special_flags=pygame.BLEND_ADD)
        surface.blit(side, (0, depth), special_flags=pygame.BLEND_ADD)
        surface.blit(pygame.transform.flip(side, True, False), (w - depth, depth), special_flags=pygame.BLEND_ADD)

    def clear(self) -> None:
        """Remove every effect (a new game)."""
        for trail in self.trails:
            trail.clear()
        self.particles.clear()
        self.rings.clear()
        self.flashes.clear()
        self.banner = None
        self.shake = 0
