"""Text drawing with a cache: the same string in the same style is rendered once."""

from __future__ import annotations

import pygame

__all__ = ["Text"]


class Text:
    """Renders strings with pygame's default font, caching the surfaces.

    Call after ``pygame.font.init()``.
    """

    def __init__(self) -> None:
        self._fonts: dict[int, pygame.font.Font] = {}
        self._cache: dict[tuple[str, int, tuple[int, ...]], pygame.Surface] = {}

    def font(self, size: int) -> pygame.font.Font:
        """Return the font of `size` pixels."""
        font = self._fonts.get(size)
        if font is None:
            font = self._fonts[size] = pygame.font.Font(None, size)
        return font

    def render(self, text: str, size: int, color: tuple[int, ...]) -> pygame.Surface:
        """Return the rendered text (anti-aliased, transparent background)."""
        key = (text, size, color)
        surf = self._cache.get(key)
        if surf is None:
            if len(self._cache) > 512:
                self._cache.clear()
            surf = self._cache[key] = self.font(size).render(text, True, color)
        return surf

    def draw(
        self,
        surface: pygame.Surface,
        text: str,
        pos: tuple[float, float],
        size: int = 28,
        color: tuple[int, ...] = (225, 235, 255),
        anchor: str = "topleft",
    ) -> pygame.Rect:
        """Draw `text` with its `anchor` point (a ``pygame.Rect`` attribute name) at `pos`; return its rect."""
        surf = self.render(text, size, color)
        rect = surf.get_rect(**{anchor: (int(pos[0]), int(pos[1]))})
        surface.blit(surf, rect)
        return rect
