"""Example mod: a custom enemy controller that closes in on the player along a spiral.

It reads the enemy's observation by field name (layout ``enemy-v1``) and steers at an angle to the
player that shrinks as it gets closer, so it circles in instead of charging straight.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from aip_game.mods import MOD_API_VERSION, GameView, Mod, ModContext

__all__ = ["SpiralHunter", "SpiralHunterMod", "mod"]


class SpiralHunter:
    """An enemy controller: move toward the player rotated by an angle that grows with distance."""

    def __init__(self, max_angle_deg: float = 70.0) -> None:
        import aip_engine

        names = [f.name for f in aip_engine.role_layout("enemy").observation]
        self.dx, self.dy, self.dist = names.index("player_dx"), names.index("player_dy"), names.index("player_dist")
        self.max_angle = math.radians(max_angle_deg)
        self.side = 1.0

    def reset(self, seed: int) -> None:
        self.side = 1.0 if seed % 2 == 0 else -1.0

    def act(self, observation: np.ndarray, view: GameView) -> list[float]:
        # Relative positions are normalised by half the arena; undo that for a true direction.
        dx, dy = float(observation[self.dx]) * 640.0, float(observation[self.dy]) * 360.0
        norm = math.hypot(dx, dy)
        if norm < 1e-9:
            return [0.0, 0.0]
        angle = self.side * self.max_angle * min(1.0, float(observation[self.dist]))
        c, s = math.cos(angle), math.sin(angle)
        ux, uy = dx / norm, dy / norm
        return [ux * c - uy * s, ux * s + uy * c]


class SpiralHunterMod(Mod):
    """Adds the "spiral hunter" enemy to the opponent menus."""

    name = "spiral_hunter"
    version = "1.0.0"
    api_version = MOD_API_VERSION
    description = "an enemy that circles in on a closing spiral"

    def setup(self, ctx: ModContext) -> None:
        ctx.add_setting("tightness", "Spiral angle (deg)", (70, 45, 90), 70, "How wide the spiral hunter circles")

        def make() -> Any:
            return SpiralHunter(float(ctx.setting("tightness")))

        ctx.add_opponent("spiral hunter", "enemy", make)


mod = SpiralHunterMod
