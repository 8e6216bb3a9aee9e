"""Example mod: a visual effect. A radar ring around the player points at the enemy, and each hit
or catch leaves a floating label that rises and fades."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pygame

from aip_game.mods import MOD_API_VERSION, CatchEvent, GameStartEvent, GameView, HitEvent, Mod, ModContext

__all__ = ["RADAR_COLORS", "RadarMod", "mod"]

#: The ring's colour per setting value.
RADAR_COLORS = {"green": (90, 255, 140), "amber": (255, 190, 60), "white": (240, 240, 255)}
_LABEL_FRAMES = 50


@dataclass
class _Label:
    x: float
    y: float
    text: str
    age: int = 0


class RadarMod(Mod):
    """Draws the radar and the floating labels."""

    name = "radar"
    version = "1.0.0"
    api_version = MOD_API_VERSION
    description = "a radar arrow toward the enemy and floating +100 labels"

    def __init__(self) -> None:
        self.labels: list[_Label] = []
        self.font: pygame.font.Font | None = None

    def setup(self, ctx: ModContext) -> None:
        ctx.add_setting("color", "Radar colour", tuple(RADAR_COLORS), "green", "Colour of the radar ring")
        ctx.subscribe(GameStartEvent, lambda e: self.labels.clear())
        ctx.subscribe(HitEvent, lambda e: self.labels.append(_Label(*e.position, "+100")))
        ctx.subscribe(CatchEvent, lambda e: self.labels.append(_Label(*e.position, "ouch")))
        ctx.add_overlay(lambda surface, view: self.draw(surface, view, RADAR_COLORS[str(ctx.setting("color"))]))

    def draw(self, surface: pygame.Surface, view: GameView, color: tuple[int, int, int]) -> None:
        """Draw the ring and arrow around the player, then the labels."""
        state = view.state()
        px, py = view.to_screen(float(state["player_pos"][0]), float(state["player_pos"][1]))
        pygame.draw.circle(surface, color, (px, py), 48, 1)
        if bool(state["enemy_active"]):
            ex, ey = view.to_screen(float(state["enemy_pos"][0]), float(state["enemy_pos"][1]))
            a = math.atan2(ey - py, ex - px)
            tip = (px + 58 * math.cos(a), py + 58 * math.sin(a))
            left = (px + 46 * math.cos(a + 0.2), py + 46 * math.sin(a + 0.2))
            right = (px + 46 * math.cos(a - 0.2), py + 46 * math.sin(a - 0.2))
            pygame.draw.polygon(surface, color, (tip, left, right))
        if self.font is None:
            self.font = pygame.font.Font(None, 34)
        for label in self.labels:
            k = 1.0 - label.age / _LABEL_FRAMES
            image = self.font.render(label.text, True, tuple(int(c * k) for c in (255, 240, 160)))
            sx, sy = view.to_screen(label.x, label.y)
            surface.blit(image, image.get_rect(center=(sx, sy - 30 - label.age)))
            label.age += 1
        self.labels = [label for label in self.labels if label.age < _LABEL_FRAMES]


mod = RadarMod
