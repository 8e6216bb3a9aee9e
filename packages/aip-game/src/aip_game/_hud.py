"""The heads-up display (score, lives, missiles, level, FPS), the debug overlay, and notices."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pygame

from ._engine import ae
from ._sprites import HUD_ACCENT, HUD_TEXT, HUD_WARN, MISSILE_CORE, Sprites
from ._text import Text

__all__ = ["HUD_HEIGHT", "Hud"]

#: Height of the HUD's bar at the top of the screen.
HUD_HEIGHT = 44


class Hud:
    """Draws the HUD over the arena.

    Args:
        text: The shared text renderer.
        sprites: The shared sprites (the lives icon).
    """

    def __init__(self, text: Text, sprites: Sprites) -> None:
        self.text = text
        self.sprites = sprites
        self.bar = pygame.Surface((1280, HUD_HEIGHT), pygame.SRCALPHA)
        self.bar.fill((6, 8, 20, 190))
        pygame.draw.line(self.bar, (60, 90, 150, 255), (0, HUD_HEIGHT - 1), (1280, HUD_HEIGHT - 1))
        self.panel = pygame.Surface((330, 720 - HUD_HEIGHT - 10), pygame.SRCALPHA)
        self.panel.fill((4, 6, 16, 215))
        self.shade = pygame.Surface((1280, 720), pygame.SRCALPHA)
        self.shade.fill((0, 0, 0, 140))
        self.hint_bar = pygame.Surface((900, 64), pygame.SRCALPHA)
        self.hint_bar.fill((6, 8, 20, 200))

    def draw(
        self,
        surface: pygame.Surface,
        *,
        score: int,
        lives: int,
        missiles_ready: int,
        max_missiles: int,
        level: int,
        speed_scale: float,
        fps: float | None,
        side: str,
        opponent: str,
        partner: str | None = None,
        rating: float | None = None,
        heading: str | None = None,
    ) -> None:
        """Draw the top bar: score, lives, missiles, level, who plays each side, the frame rate."""
        t = self.text
        surface.blit(self.bar, (0, 0))
        t.draw(surface, "SCORE", (16, 8), 20, HUD_ACCENT)
        t.draw(surface, f"{score:06d}", (16, 24), 26, HUD_TEXT)
        t.draw(surface, "LIVES", (150, 8), 20, HUD_ACCENT)
        for i in range(lives):
            surface.blit(self.sprites.life_icon, (150 + i * 26, 21))
        t.draw(surface, "MISSILES", (260, 8), 20, HUD_ACCENT)
        for i in range(max_missiles):
            center = (266 + i * 18, 32)
            if i < missiles_ready:
                pygame.draw.circle(surface, MISSILE_CORE, center, 6)
            else:
                pygame.draw.circle(surface, (90, 80, 60), center, 6, 1)
        t.draw(surface, f"{missiles_ready}/{max_missiles}", (266 + max_missiles * 18, 24), 24, HUD_TEXT)
        t.draw(surface, "LEVEL", (420, 8), 20, HUD_ACCENT)
        t.draw(surface, f"{level}  x{speed_scale:.1f}", (420, 24), 24, HUD_TEXT)
        rated = f"  (rating {rating:.0f})" if rating is not None else ""
        if side == "watch":
            t.draw(surface, heading or "WATCHING", (760, 8), 20, HUD_ACCENT, anchor="midtop")
            line = f"player: {partner or '?'}   enemy: {opponent}{rated}"
        else:
            t.draw(surface, f"YOU: {side.upper()}", (760, 8), 20, HUD_ACCENT, anchor="midtop")
            line = f"{'enemy' if side == 'player' else 'player'}: {opponent}{rated}"
        t.draw(surface, line[:64], (760, 24), 22, HUD_TEXT, anchor="midtop")
        if fps is not None:
            t.draw(surface, f"FPS {fps:4.0f}", (1264, 14), 24, HUD_TEXT, anchor="topright")

    def draw_debug(
        self,
        surface: pygame.Surface,
        role: str,
        label: str,
        observation: npt.NDArray[np.float32] | None,
        action: npt.NDArray[np.float32] | None,
        action_note: str = "",
    ) -> None:
        """Draw the debug overlay: the opponent's observation (with field names) and its action."""
        x0, y0 = 1280 - self.panel.get_width() - 6, HUD_HEIGHT + 4
        surface.blit(self.panel, (x0, y0))
        layout = ae.role_layout(role)
        t = self.text
        t.draw(surface, f"{label} sees ({layout.name})", (x0 + 10, y0 + 6), 20, HUD_ACCENT)
        y = y0 + 24
        fields: Sequence[ae.Field] = layout.observation
        step, size = self.debug_row_size(role)
        values = observation if observation is not None else np.zeros(len(fields), dtype=np.float32)
        for f, v in zip(fields, values, strict=False):
            self._row(surface, x0, y, f.name, float(v), f.low, f.high, size)
            y += step
        y += 4
        t.draw(surface, f"action{action_note}", (x0 + 10, y), 20, HUD_ACCENT)
        y += step
        acts = action if action is not None else np.zeros(len(layout.action), dtype=np.float32)
        for f, v in zip(layout.action, acts, strict=False):
            self._row(surface, x0, y, f.name, float(v), f.low, f.high, size)
            y += step

    @staticmethod
    def debug_row_size(role: str) -> tuple[int, int]:
        """Row spacing and text size of the debug overlay for `role` (they shrink for long layouts)."""
        layout = ae.role_layout(role)
        rows = len(layout.observation) + len(layout.action) + 2
        step = max(12, min(18, (720 - HUD_HEIGHT - 28 - 10) // rows))
        return step, step + 3

    def _row(
        self, surface: pygame.Surface, x0: int, y: int, name: str, v: float, lo: float, hi: float, size: int
    ) -> None:
        self.text.draw(surface, name, (x0 + 10, y), size, HUD_TEXT)
        self.text.draw(surface, f"{v:+.2f}", (x0 + 180, y), size, HUD_TEXT, anchor="topright")
        bar_x, bar_w = x0 + 190, 120
        pygame.draw.rect(surface, (40, 50, 80), (bar_x, y + 3, bar_w, size - 8), 1)
        span = hi - lo if hi > lo else 1.0
        k = min(1.0, max(0.0, (v - lo) / span))
        zero = min(1.0, max(0.0, (0.0 - lo) / span))
        a, b = sorted((zero, k))
        pygame.draw.rect(surface, HUD_ACCENT, (bar_x + int(a * bar_w), y + 4, max(1, int((b - a) * bar_w)), size - 10))

    def draw_center(
        self, surface: pygame.Surface, title: str, lines: Sequence[str] = (), *, title_size: int = 96
    ) -> None:
        """Draw a dimmed centre card (pause, game over, the get-ready count)."""
        surface.blit(self.shade, (0, 0))
        self.text.draw(surface, title, (640, 300), title_size, HUD_TEXT, anchor="center")
        for i, line in enumerate(lines):
            self.text.draw(surface, line, (640, 370 + i * 32), 32, HUD_ACCENT, anchor="center")

    def draw_hint(self, surface: pygame.Surface, lines: Sequence[str]) -> None:
        """Draw the keys in a bar near the bottom (the first game shows them)."""
        surface.blit(self.hint_bar, (190, 560))
        for i, line in enumerate(lines[:2]):
            self.text.draw(surface, line, (640, 568 + i * 26), 26, HUD_TEXT, anchor="midtop")

    def draw_notices(self, surface: pygame.Surface, notices: Sequence[str]) -> None:
        """Draw notices (a mod that failed, a file that could not be read) at the bottom."""
        for i, line in enumerate(notices[-3:]):
            self.text.draw(
                surface, line[:150], (640, 700 - (len(notices[-3:]) - 1 - i) * 22), 22, HUD_WARN, anchor="midbottom"
            )
