"""The readable Python reference of the rules (docs/rules.md), one world at a time.

`Worlds` has the API of `aip_engine.Worlds` (docs/engine-api.md) and steps each
world with a Python loop over `World` objects. The modules read in rule order:

- ``_rng``: the per-world SplitMix64 generator;
- ``_geometry``: boundaries, shortest displacements, clipping, rotation;
- ``_state``: what a world remembers;
- ``_bots``: the scripted player bots, enemy bots, target motions and guidance;
- ``_frame``: one frame, steps 1 to 5 (actions, movement, guidance, collisions, respawns);
- ``_observe``: the role observations;
- ``_episode``: a world playing a task (reset, rewards, episode ends);
- ``_worlds``: the batch.
"""

from __future__ import annotations

from ._episode import Outcome, World
from ._rng import Rng
from ._worlds import StepResult, Worlds

__all__ = ["Outcome", "Rng", "StepResult", "World", "Worlds"]
