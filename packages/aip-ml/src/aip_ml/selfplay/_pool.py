"""The opponent pool of one learning role: the other role's latest policy, past snapshots and bots.

Every world draws its opponent when its episode starts: the latest policy with probability
``latest_ratio``, otherwise one member of the pool uniformly (the last ``window`` snapshots and the
scripted bots), as Unity ML-Agents' ghost trainer does. The draw for a world's next episode is made
when its current episode starts, because the engine reads a scripted bot's choice at the reset it
does itself inside a step (the ``*_driver`` per-world parameters); so the pool keeps, per world, the
opponent of the current episode and the one already drawn for the next.

Opponent codes (per world): `LATEST` (-1), a snapshot's id (the update it was taken at, >= 0), or
``-2 - k`` for the scripted bot of code k.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import aip_engine

__all__ = ["LATEST", "OpponentPool", "Snapshot", "bot_code_of", "is_bot"]

LATEST = -1


def is_bot(code: int) -> bool:
    """Whether an opponent code names a scripted bot."""
    return code <= -2


def bot_code_of(code: int) -> int:
    """The engine's bot code of a bot opponent code."""
    return -2 - code


@dataclass
class Snapshot:
    """A frozen copy of a learner's policy.

    Attributes:
        uid: The update it was taken at (its id in the pool).
        policy: A deterministic policy (``act(obs)``), not shared with the learner.
        state: What rebuilds it: the network's and the observation statistics' state.
    """

    uid: int
    policy: Any
    state: dict[str, Any]


class OpponentPool:
    """Who one learner's worlds put in the other role's slot, world by world and episode by episode.

    Args:
        role: The opponents' role (the role the pool's members play).
        num_worlds: Worlds whose opponent slot this pool fills.
        window: Snapshots kept (the oldest leaves when a new one comes).
        latest_ratio: Probability of the latest policy at each draw.
        bots: Scripted bots of ``role`` that are members of the pool.
        seed: Seed of the draws.
    """

    def __init__(
        self, role: str, num_worlds: int, *, window: int, latest_ratio: float, bots: Sequence[str], seed: int
    ) -> None:
        self.role = role
        self.window = window
        self.latest_ratio = latest_ratio
        self.bots = tuple(bots)
        names = aip_engine.bots(role)
        self._bot_codes = [-2 - names.index(b) for b in self.bots]
        self.snapshots: list[Snapshot] = []
        self._retired: dict[int, Snapshot] = {}
        self._stack: Any = None  # the snapshots faced now, stacked (rebuilt when they change)
        self._stack_index: dict[int, int] = {}
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.current = np.full(num_worlds, LATEST, np.int64)
        self.next = np.full(num_worlds, LATEST, np.int64)

    # --- membership ----------------------------------------------------------------------------

    def members(self) -> list[int]:
        """The codes a non-latest draw chooses among (snapshots, then bots)."""
        return [s.uid for s in self.snapshots] + self._bot_codes

    def add(self, snapshot: Snapshot) -> None:
        """Add a snapshot; the oldest beyond the window retires (worlds facing it finish their episode)."""
        self.snapshots.append(snapshot)
        self._stack = None
        while len(self.snapshots) > self.window:
            old = self.snapshots.pop(0)
            self._retired[old.uid] = old

    def policy_of(self, code: int) -> Any:
        """The policy of a snapshot code (a current or a retired one still faced)."""
        for s in self.snapshots:
            if s.uid == code:
                return s.policy
        return self._retired[code].policy

    def prune(self) -> None:
        """Forget retired snapshots that no world faces or will face any more."""
        used = set(np.unique(self.current).tolist()) | set(np.unique(self.next).tolist())
        kept = {k: v for k, v in self._retired.items() if k in used}
        if len(kept) != len(self._retired):
            self._stack = None
        self._retired = kept

    def snapshot_actions(self, obs: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Actions of worlds facing snapshots (``codes`` >= 0), all snapshots in one batched pass."""
        if self._stack is None:
            from ._stacked import StackedSnapshots

            faced = [*self.snapshots, *self._retired.values()]
            self._stack_index = {s.uid: i for i, s in enumerate(faced)}
            self._stack = StackedSnapshots([s.policy for s in faced])
        which = np.fromiter((self._stack_index[int(c)] for c in codes), np.int64, len(codes))
        return self._stack.act(obs, which)  # type: ignore[no-any-return]

    # --- draws ---------------------------------------------------------------------------------

    def draw(self, count: int) -> np.ndarray:
        """Draw ``count`` opponents."""
        members = self.members()
        out = np.full(count, LATEST, np.int64)
        if members:
            past = self.rng.random(count) >= self.latest_ratio
            picks = self.rng.integers(0, len(members), count)
            out[past] = np.asarray(members, np.int64)[picks[past]]
        return out

    def start_all(self) -> None:
        """All worlds start episodes (a reset of the batch): they face what was drawn; draw the next."""
        self.current[:] = self.next
        self.next[:] = self.draw(len(self.next))

    def start(self, worlds: np.ndarray) -> None:
        """Episodes started in ``worlds`` (indices): they face what was drawn for them; draw their next."""
        if worlds.size:
            self.current[worlds] = self.next[worlds]
            self.next[worlds] = self.draw(worlds.size)

    def drivers(self) -> np.ndarray:
        """The engine's driver code for the next episode of each world: 1 + bot code, or 0 (actions)."""
        out = np.zeros(len(self.next), np.int32)
        bots = self.next <= -2
        out[bots] = (-2 - self.next[bots] + 1).astype(np.int32)
        return out

    def groups(self) -> list[tuple[int, np.ndarray]]:
        """The opponents faced now that need actions (latest and snapshots), with their worlds."""
        codes = np.unique(self.current)
        return [(int(c), np.flatnonzero(self.current == c)) for c in codes if c >= LATEST]

    def latest_worlds(self) -> np.ndarray:
        """The worlds facing the latest policy now."""
        return np.flatnonzero(self.current == LATEST)

    def snapshot_worlds(self) -> np.ndarray:
        """The worlds facing a snapshot now."""
        return np.flatnonzero(self.current >= 0)

    # --- state ---------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the draws exactly (snapshots included)."""
        return {
            "snapshots": [(s.uid, copy.deepcopy(s.state)) for s in self.snapshots],
            "retired": [(s.uid, copy.deepcopy(s.state)) for s in self._retired.values()],
            "rng": self.rng.bit_generator.state,
            # Plain lists: checkpoints load with torch's weights-only unpickler, which refuses numpy.
            "current": self.current.tolist(),
            "next": self.next.tolist(),
        }

    def load_state_dict(self, state: dict[str, Any], rebuild: Any) -> None:
        """Restore what `state_dict` returned; ``rebuild(state)`` turns a snapshot's state into a policy."""
        self._stack = None
        self.snapshots = [Snapshot(uid, rebuild(s), s) for uid, s in state["snapshots"]]
        self._retired = {uid: Snapshot(uid, rebuild(s), s) for uid, s in state["retired"]}
        self.rng.bit_generator.state = state["rng"]
        self.current[:] = state["current"]
        self.next[:] = state["next"]
