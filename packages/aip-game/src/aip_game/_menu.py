"""A vertical menu driven by keyboard (arrows/WASD, Enter, Esc) and mouse (hover, click).

The selection follows the mouse only when the pointer moves: a menu that opens under a resting
pointer keeps its keyboard selection, so Enter chooses what the highlight shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pygame

from ._sprites import HUD_ACCENT, HUD_TEXT, HUD_WARN
from ._text import Text

__all__ = ["Menu", "MenuItem"]

_UP = (pygame.K_UP, pygame.K_w)
_DOWN = (pygame.K_DOWN, pygame.K_s)
_SELECT = (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE)
_MIN_SPACING = 34
_BOTTOM = 630


@dataclass
class MenuItem:
    """One entry: `on_select()` runs when it is chosen; a disabled entry shows `detail` instead."""

    label: str
    on_select: Callable[[], None]
    detail: str = ""
    enabled: bool = True


class Menu:
    """A list of items drawn centred under a title.

    Args:
        items: The entries.
        on_back: Runs on Esc (None: Esc does nothing).
        top: The first item's vertical centre.
        spacing: Largest distance between items (shrinks when there are many).
    """

    def __init__(
        self,
        items: Sequence[MenuItem],
        on_back: Callable[[], None] | None = None,
        *,
        top: int = 230,
        spacing: int = 52,
        size: int = 44,
    ) -> None:
        self.items = list(items)
        self.on_back = on_back
        self.selected = next((i for i, item in enumerate(self.items) if item.enabled), 0)
        n = max(1, len(self.items))
        self.spacing = min(spacing, max(_MIN_SPACING, (_BOTTOM - top) // n))
        self.size = min(size, self.spacing - 6)
        self.top = top
        self.hover: int | None = None
        self.detail_y = 652
        #: Items shown at once; a longer list scrolls (keys follow the selection, the wheel scrolls).
        self.rows = max(1, (_BOTTOM - top) // self.spacing)
        self.first = 0
        self._follow()

    def _follow(self) -> None:
        if self.selected < self.first:
            self.first = self.selected
        elif self.selected >= self.first + self.rows:
            self.first = self.selected - self.rows + 1
        self.first = max(0, min(self.first, max(0, len(self.items) - self.rows)))

    def visible(self) -> range:
        """The indices of the items on screen."""
        return range(self.first, min(len(self.items), self.first + self.rows))

    def item_rect(self, index: int) -> pygame.Rect:
        """The clickable area of item `index` in logical screen coordinates (scrolls it into view)."""
        if index not in self.visible():
            self.first = index if index < self.first else index - self.rows + 1
            self._follow_bounds()
        row = index - self.first
        return pygame.Rect(340, self.top + row * self.spacing - self.spacing // 2 + 2, 600, self.spacing - 4)

    def _follow_bounds(self) -> None:
        self.first = max(0, min(self.first, max(0, len(self.items) - self.rows)))

    def _move(self, step: int) -> None:
        if not any(item.enabled for item in self.items):
            return
        i = self.selected
        for _ in range(len(self.items)):
            i = (i + step) % len(self.items)
            if self.items[i].enabled:
                self.selected = i
                return

    def _choose(self, index: int) -> None:
        if 0 <= index < len(self.items) and self.items[index].enabled:
            self.selected = index
            self.items[index].on_select()

    def handle(self, event: pygame.event.Event) -> bool:
        """React to an event; return whether the menu used it."""
        if event.type == pygame.KEYDOWN:
            self.hover = None
            if event.key in _UP:
                self._move(-1)
                self._follow()
            elif event.key in _DOWN:
                self._move(1)
                self._follow()
            elif event.key in _SELECT:
                self._choose(self.selected)
            elif event.key == pygame.K_ESCAPE and self.on_back is not None:
                self.on_back()
            else:
                return False
            return True
        if event.type == pygame.MOUSEWHEEL:
            self.first -= int(event.y)
            self._follow_bounds()
            return True
        if event.type == pygame.MOUSEMOTION and not any(getattr(event, "rel", (1, 1))):
            # SDL reports where the pointer already is when a window appears, changes mode or a screen
            # opens under it; only a pointer that moves changes the selection.
            return False
        if event.type in (pygame.MOUSEMOTION, pygame.MOUSEBUTTONDOWN):
            hit = self.index_at(event.pos)
            self.hover = hit
            if hit is None:
                return False
            if self.items[hit].enabled:
                self.selected = hit
            if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                self._choose(hit)
            return True
        return False

    def index_at(self, pos: tuple[int, int]) -> int | None:
        """The item under a logical screen position, if any."""
        for i in self.visible():
            if self.item_rect(i).collidepoint(pos):
                return i
        return None

    def draw(self, surface: pygame.Surface, text: Text) -> None:
        """Draw the items; the selected one is highlighted."""
        shown_rows = self.visible()
        if self.first > 0:
            text.draw(surface, "more above", (640, self.top - self.spacing // 2 - 8), 20, HUD_ACCENT, anchor="center")
        if shown_rows.stop < len(self.items):
            y = self.top + self.rows * self.spacing - self.spacing // 2 + 4
            text.draw(surface, "more below (scroll)", (640, y), 20, HUD_ACCENT, anchor="center")
        for i in shown_rows:
            item = self.items[i]
            rect = self.item_rect(i)
            chosen = i == self.selected
            if chosen:
                pygame.draw.rect(surface, (24, 40, 80), rect, border_radius=10)
                pygame.draw.rect(surface, HUD_ACCENT, rect, 2, border_radius=10)
            color = HUD_TEXT if item.enabled else (110, 110, 130)
            label = f"> {item.label} <" if chosen else item.label
            text.draw(surface, label, rect.center, self.size, color, anchor="center")
        shown = self.hover if self.hover is not None else self.selected
        if 0 <= shown < len(self.items) and self.items[shown].detail:
            item = self.items[shown]
            color = HUD_WARN if not item.enabled else HUD_ACCENT
            text.draw(surface, item.detail[:120], (640, self.detail_y), 24, color, anchor="center")
