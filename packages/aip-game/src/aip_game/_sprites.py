"""The game's look: its colours and the sprites it draws by code (no image files)."""

from __future__ import annotations

import math
import random

import numpy as np
import pygame

__all__ = [
    "BACKGROUND",
    "ENEMY_BODY",
    "ENEMY_CORE",
    "ENEMY_INNER",
    "HUD_ACCENT",
    "HUD_TEXT",
    "LOGICAL_SIZE",
    "MISSILE_CORE",
    "PLAYER_BODY",
    "PLAYER_CORE",
    "Sprites",
]

#: The logical resolution everything is drawn at, scaled to the window.
LOGICAL_SIZE = (1280, 720)

BACKGROUND = (9, 11, 26)
GRID = (22, 28, 58)
PLAYER_CORE = (210, 250, 255)
PLAYER_BODY = (40, 170, 220)
PLAYER_GLOW = (20, 90, 130)
ENEMY_CORE = (255, 235, 245)
ENEMY_BODY = (235, 40, 95)
ENEMY_GLOW = (120, 10, 50)
ENEMY_INNER = (150, 10, 60)
MISSILE_CORE = (255, 236, 150)
MISSILE_GLOW = (120, 70, 10)
TRAIL_HEAD = (255, 170, 60)
HUD_TEXT = (225, 235, 255)
HUD_ACCENT = (110, 220, 255)
HUD_WARN = (255, 110, 130)


def glow(radius: int, color: tuple[int, ...], power: float = 2.0) -> pygame.Surface:
    """Return a radial glow (to blit with ``BLEND_ADD``): `color` at the centre fading to black."""
    size = max(1, radius * 2)
    axis = np.arange(size, dtype=np.float64) - radius + 0.5
    distance = np.sqrt(axis[:, None] ** 2 + axis[None, :] ** 2) / max(1, radius)
    k = np.clip(1.0 - distance, 0.0, 1.0) ** power
    rgb = (k[:, :, None] * np.asarray(color[:3], dtype=np.float64)).astype(np.uint8)
    return pygame.surfarray.make_surface(rgb)


def _enemy_frame(radius: int, angle: float) -> pygame.Surface:
    size = radius * 2 + 4
    c = size / 2
    surf = pygame.Surface((size, size), pygame.SRCALPHA)
    spikes = 9
    points = []
    for i in range(spikes * 2):
        a = angle + i * math.pi / spikes
        r = radius if i % 2 == 0 else radius * 0.62
        points.append((c + r * math.cos(a), c + r * math.sin(a)))
    pygame.draw.polygon(surf, ENEMY_BODY, points)
    pygame.draw.polygon(surf, (255, 120, 160), points, 2)
    pygame.draw.circle(surf, ENEMY_INNER, (c, c), radius * 0.5)
    pygame.draw.circle(surf, (255, 90, 140), (c, c), radius * 0.5, 2)
    # two eyes make the hunter read as a creature; the centre pixel stays ENEMY_INNER
    for side in (-1, 1):
        pygame.draw.circle(surf, ENEMY_CORE, (c + side * radius * 0.2, c - radius * 0.16), radius * 0.11)
    return surf


class Sprites:
    """Every sprite, drawn once at start-up (call after ``pygame.init``).

    Args:
        player_radius: The player's radius in screen pixels.
        enemy_radius: The enemy's radius in screen pixels.
    """

    ENEMY_FRAMES = 36

    def __init__(self, player_radius: int = 25, enemy_radius: int = 25) -> None:
        self.player_radius = player_radius
        self.enemy_radius = enemy_radius
        self.player_glow = glow(player_radius * 2, PLAYER_GLOW)
        self.enemy_glow = glow(enemy_radius * 2, ENEMY_GLOW)
        self.missile_glow = glow(14, MISSILE_GLOW)
        self.enemy_frames = [
            _enemy_frame(enemy_radius, 2 * math.pi * i / self.ENEMY_FRAMES / 9) for i in range(self.ENEMY_FRAMES)
        ]
        self.background = self._background()
        self.life_icon = self._life_icon()

    def _background(self) -> pygame.Surface:
        w, h = LOGICAL_SIZE
        surf = pygame.Surface((w, h))
        surf.fill(BACKGROUND)
        for x in range(0, w, 40):
            pygame.draw.line(surf, GRID, (x, 0), (x, h), 1)
        for y in range(0, h, 40):
            pygame.draw.line(surf, GRID, (0, y), (w, y), 1)
        rng = random.Random(7)
        for _ in range(160):
            v = rng.randint(60, 180)
            surf.set_at((rng.randrange(w), rng.randrange(h)), (v, v, min(255, v + 40)))
        # a soft vignette towards the edges
        shade = pygame.Surface((w, h), pygame.SRCALPHA)
        for i in range(24):
            pygame.draw.rect(shade, (0, 0, 0, 9), (i * 6, i * 4, w - i * 12, h - i * 8), 6)
        surf.blit(shade, (0, 0))
        return surf.convert() if pygame.display.get_surface() is not None else surf

    def _life_icon(self) -> pygame.Surface:
        surf = pygame.Surface((22, 22), pygame.SRCALPHA)
        pygame.draw.circle(surf, PLAYER_BODY, (11, 11), 10)
        pygame.draw.circle(surf, PLAYER_CORE, (11, 11), 4)
        return surf

    def enemy_frame(self, frame: int) -> pygame.Surface:
        """The enemy's sprite for a frame number (it spins slowly)."""
        return self.enemy_frames[(frame // 2) % self.ENEMY_FRAMES]

    def draw_player(
        self, surface: pygame.Surface, pos: tuple[int, int], heading: tuple[float, float], thrust: float = 0.0
    ) -> None:
        """Draw the player's ship centred at `pos`, its nose along `heading` (a unit vector).

        Args:
            surface: Where to draw.
            pos: The centre in screen pixels.
            heading: Unit vector the nose points along.
            thrust: Length of the engine flame (0: none; about 1 at full speed).
        """
        x, y = pos
        g = self.player_glow
        surface.blit(g, (x - g.get_width() // 2, y - g.get_height() // 2), special_flags=pygame.BLEND_ADD)
        r = self.player_radius
        hx, hy = heading
        px, py = -hy, hx
        if thrust > 0:
            tail = (x - hx * r * (0.55 + 0.75 * thrust), y - hy * r * (0.55 + 0.75 * thrust))
            base_l = (x - hx * r * 0.4 + px * r * 0.3, y - hy * r * 0.4 + py * r * 0.3)
            base_r = (x - hx * r * 0.4 - px * r * 0.3, y - hy * r * 0.4 - py * r * 0.3)
            pygame.draw.polygon(surface, (255, 150, 50), (base_l, tail, base_r))
            inner = (x - hx * r * (0.5 + 0.4 * thrust), y - hy * r * (0.5 + 0.4 * thrust))
            pygame.draw.polygon(surface, (255, 230, 150), (base_l, inner, base_r))
        nose = (x + hx * r, y + hy * r)
        left = (x - hx * r * 0.7 + px * r * 0.75, y - hy * r * 0.7 + py * r * 0.75)
        right = (x - hx * r * 0.7 - px * r * 0.75, y - hy * r * 0.7 - py * r * 0.75)
        back = (x - hx * r * 0.35, y - hy * r * 0.35)
        pygame.draw.polygon(surface, PLAYER_BODY, (nose, left, back, right))
        pygame.draw.polygon(surface, PLAYER_CORE, (nose, left, back, right), 2)
        pygame.draw.circle(surface, PLAYER_CORE, (x, y), max(3, r // 4))

    def draw_enemy(self, surface: pygame.Surface, pos: tuple[int, int], frame: int, alpha: int) -> None:
        """Draw the enemy centred at `pos` with opacity `alpha` (0..255, its fade-in)."""
        x, y = pos
        g = self.enemy_glow
        sprite = self.enemy_frame(frame)
        if alpha < 255:
            sprite.set_alpha(alpha)
            surface.blit(sprite, (x - sprite.get_width() // 2, y - sprite.get_height() // 2))
            sprite.set_alpha(255)
            return
        surface.blit(g, (x - g.get_width() // 2, y - g.get_height() // 2), special_flags=pygame.BLEND_ADD)
        surface.blit(sprite, (x - sprite.get_width() // 2, y - sprite.get_height() // 2))

    def draw_missile(self, surface: pygame.Surface, pos: tuple[int, int]) -> None:
        """Draw a missile centred at `pos`."""
        x, y = pos
        g = self.missile_glow
        surface.blit(g, (x - g.get_width() // 2, y - g.get_height() // 2), special_flags=pygame.BLEND_ADD)
        pygame.draw.circle(surface, MISSILE_CORE, (x, y), 5)
