"""Example mod: a scoring rule. A hit within the combo window of the previous one pays a bonus of
50 points times the combo length (2nd hit +50, 3rd +100, ...); a life lost breaks the combo."""

from __future__ import annotations

from aip_game.mods import MOD_API_VERSION, GameStartEvent, HitEvent, LifeLostEvent, Mod, ModContext

__all__ = ["BONUS", "ComboMod", "mod"]

#: Bonus points per step of a combo.
BONUS = 50


class ComboMod(Mod):
    """Counts hits that follow each other quickly and adds the bonus to the score."""

    name = "combo"
    version = "1.0.0"
    api_version = MOD_API_VERSION
    description = "quick successive hits score a growing bonus"

    def __init__(self) -> None:
        self.combo = 0
        self.last_hit = -(10**9)

    def setup(self, ctx: ModContext) -> None:
        ctx.add_setting("window", "Combo window (s)", (5, 3, 8), 5, "Seconds between hits that keep a combo")

        def on_hit(event: HitEvent) -> None:
            window = int(ctx.setting("window")) * 60
            self.combo = self.combo + 1 if event.frame - self.last_hit <= window else 1
            self.last_hit = event.frame
            if self.combo > 1 and ctx.game is not None:
                ctx.game.add_score(BONUS * (self.combo - 1), f"combo x{self.combo}")

        def reset(_: object) -> None:
            self.combo, self.last_hit = 0, -(10**9)

        ctx.subscribe(HitEvent, on_hit)
        ctx.subscribe(LifeLostEvent, reset)
        ctx.subscribe(GameStartEvent, reset)


mod = ComboMod
