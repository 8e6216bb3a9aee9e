"""Example mod: rule changes. Missiles fly faster and reload sooner (engine ``Config`` fields), and
the player moves faster (a per-world engine parameter). The engine still runs every rule."""

from __future__ import annotations

from aip_game.mods import MOD_API_VERSION, Mod, ModContext

__all__ = ["TurboMod", "mod"]


class TurboMod(Mod):
    """Sets ``missile_speed``, ``fire_cooldown`` and the ``player_speed`` parameter."""

    name = "turbo"
    version = "1.0.0"
    api_version = MOD_API_VERSION
    description = "faster missiles (8 px/frame, 20-frame cooldown) and a faster player (6 px/frame)"

    def setup(self, ctx: ModContext) -> None:
        ctx.set_config(missile_speed=8.0, fire_cooldown=20)
        ctx.set_param("player_speed", 6.0)


mod = TurboMod
