"""The compiled CPU engine (private; `aip_engine.Worlds` is the public class)."""

from typing import Any

import numpy as np
from numpy.typing import NDArray

class Engine:
    """A batch of worlds: structure-of-arrays state, outputs and a thread pool, in C++."""

    def __init__(self, num_worlds: int, rules: dict[str, Any], params: dict[str, Any], threads: int) -> None:
        """Allocate every array once and check the parameters.

        Args:
            num_worlds: N >= 1.
            rules: Batch-wide rule numbers and codes (built by `aip_engine.Worlds`).
            params: Initial per-world parameters (the same for every world).
            threads: Threads of the pool, the calling thread included (>= 1).
        """

    @property
    def num_worlds(self) -> int:
        """N."""

    @property
    def threads(self) -> int:
        """Threads of the pool."""

    def reset(self, seed: int | None, mask: NDArray[np.bool_] | None) -> None:
        """Reset the masked (or all) worlds; reseed them from (seed, index) unless seed is None.

        Raises:
            ShapeError: The mask is not a C-contiguous (N,) bool array.
            ConfigError: A per-world parameter is out of range.
            EngineError: Another thread is using this batch.
        """

    def step(
        self,
        player: NDArray[np.float32] | None,
        enemy: NDArray[np.float32] | None,
        missile: NDArray[np.float32] | None,
    ) -> None:
        """One frame of every world, with the GIL released.

        Args:
            player: (N, 3) float32 actions when the player is an agent, else None.
            enemy: (N, 2) float32 actions when the enemy is an agent, else None.
            missile: (N, 1) or (N,) float32 actions when the missile is an agent, else None.

        Raises:
            ShapeError: Missing actions for an agent role, or a wrong dtype, shape or layout.
            ActionError: A NaN or infinite action.
            ConfigError: A per-world parameter is out of range.
            EngineError: Another thread is using this batch.
        """

    def step_one(self, role: int, actions: NDArray[np.float32]) -> None:
        """`step` for a task with one agent role (code 0, 1 or 2): its actions only.

        Raises:
            ShapeError: The wrong dtype, shape or memory layout.
            ActionError: A NaN or infinite action.
            ConfigError: A per-world parameter is out of range.
            EngineError: Another thread is using this batch.
        """

    def observe(self, role: int) -> None:
        """Write the observations of a role (0 player, 1 enemy, 2 missile) for every world."""

    def set_min_chunk(self, worlds: int) -> None:
        """Smallest number of worlds worth a thread (default 256); results never depend on it."""

    def check_params(self) -> None:
        """Check the per-world parameters; raise ConfigError naming field, world and range."""

    def arrays(self, group: str) -> dict[str, NDArray[Any]]:
        """Writable numpy views of the 'state', 'params' or 'outputs' arrays (they keep self alive)."""

def task_names() -> list[str]:
    """The task names the module was built with (from tasks.toml), in the order of their codes."""
