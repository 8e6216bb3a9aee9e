"""Replays: play a recorded game again through the engine, frame for frame, and check that it matches.

A `Replay` rebuilds the recorded game (seed, config, controllers, the game's numbers) and feeds it the
recorded actions of every agent and the recorded parameter changes; after each frame it compares the
engine's state with the recording's state check, so a replay that drifts says where. It needs no
window (the game's replay viewer draws a `Replay`; ``aip replay FILE`` opens that viewer)::

    from aip_game import replay

    result = replay.verify("demo-player-20260101-120000-001.aiprec")
    result.frames, result.diverged_at        # None: every frame matched
    r = replay.Replay(recording.load(path))  # step by step: r.step(), r.seek(frame), r.session
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._balance import Balance, BalanceError
from ._engine import ae
from ._opponents import BotOpponent, Opponent
from ._session import GameSession, state_check
from .mods import GameView
from .recording import Recording, RecordingError, load

__all__ = ["RecordedOpponent", "Replay", "ReplayError", "ReplayResult", "verify"]


class ReplayError(RecordingError):
    """A recording cannot be replayed (the message says why)."""


class RecordedOpponent(Opponent):
    """An agent that plays back recorded actions (a policy, a mod's controller or a person)."""

    kind = "recording"

    def __init__(self, label: str, role: str, actions: npt.NDArray[np.float32]) -> None:
        super().__init__(label, role)
        self.actions = actions

    def act(self, observation: npt.NDArray[np.float32], view: GameView) -> npt.NDArray[np.float32]:
        """Return the action recorded for the frame being played (zero past the recording's end)."""
        frame = view.frame
        self.last_action = self.actions[frame] if frame < len(self.actions) else np.zeros(self.act_size, np.float32)
        return self.last_action


@dataclass(frozen=True)
class ReplayResult:
    """What a full replay found.

    Attributes:
        frames: Frames replayed.
        diverged_at: The first frame whose state differs from the recording's, or None.
        score: The score the replay reached.
        recorded_score: The recording's last score (None when it has no frames).
        outcome: The recording's outcome (None when it was interrupted).
    """

    frames: int
    diverged_at: int | None
    score: int
    recorded_score: int | None
    outcome: dict[str, Any] | None

    @property
    def exact(self) -> bool:
        """Every frame matched the recording."""
        return self.diverged_at is None


class Replay:
    """A recorded game, played again one frame at a time.

    Args:
        recording: A loaded recording, or the path of one.

    Raises:
        ReplayError: The recording cannot be replayed (an old format, a header that lacks what a replay
            needs, or numbers this engine refuses); the message names the file and the reason.
    """

    def __init__(self, recording: Recording | str | Path) -> None:
        self.source = str(recording) if not isinstance(recording, Recording) else "the recording"
        rec = recording if isinstance(recording, Recording) else load(recording)
        reason = rec.not_replayable
        if reason is not None:
            raise ReplayError(f"{self.source} cannot be replayed: {reason}")
        self.recording = rec
        h = rec.header
        try:
            self.config = ae.Config(**h["config"])
            self.balance = Balance.from_dict(h.get("balance") or {}, f"{self.source}: the header's balance")
        except (TypeError, ValueError, BalanceError) as exc:
            raise ReplayError(f"{self.source} cannot be replayed: {exc}") from None
        self.side = str(h.get("side") or rec.header["role"])
        self.check_fields: tuple[str, ...] = tuple(h.get("check_fields") or ())
        self._params: dict[int, list[tuple[str, float]]] = {}
        for change in rec.param_changes:
            self._params.setdefault(change.frame, []).append((change.name, change.value))
        #: The first frame whose state differed from the recording's (None: none so far).
        self.diverged_at: int | None = None
        self.session = self._new_session()
        self.verifiable = self._check_fields_known()

    # ------------------------------------------------------------------ building

    def _who(self, role: str, described: dict[str, Any] | None) -> Opponent:
        controller = self.recording.header["controllers"][role]
        label = str((described or {}).get("label") or (f"bot: {controller}" if controller != "agent" else role))
        if controller != "agent":
            return BotOpponent(role, controller, label=label)
        try:
            actions = self.recording.inputs_of(role)
        except KeyError as exc:
            raise ReplayError(f"{self.source} cannot be replayed: {exc}") from None
        return RecordedOpponent(label, role, actions)

    def _new_session(self) -> GameSession:
        h = self.recording.header
        if self.side == "watch":
            opponent, partner = self._who("enemy", h.get("opponent")), self._who("player", h.get("partner"))
        else:
            other = "enemy" if self.side == "player" else "player"
            opponent, partner = self._who(other, h.get("opponent")), None
        controllers = h.get("controllers")
        missiles = None
        if isinstance(controllers, dict) and "missile" in controllers:
            missiles = self._who("missile", h.get("missiles") if isinstance(h.get("missiles"), dict) else None)
        try:
            return GameSession(
                self.side,
                opponent,
                seed=int(h["seed"]),
                partner=partner,
                base_config=self.config,
                balance=self.balance,
                apply_levels=False,
                missiles=missiles,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ReplayError(f"{self.source} cannot be replayed: {exc}") from None

    def _check_fields_known(self) -> bool:
        state = self.session.worlds.state()
        return bool(self.check_fields) and all(name in state for name in self.check_fields)

    # ------------------------------------------------------------------ playing

    @property
    def frame(self) -> int:
        """Frames replayed so far."""
        return self.session.frame

    @property
    def length(self) -> int:
        """Frames in the recording."""
        return len(self.recording)

    @property
    def done(self) -> bool:
        """Whether every recorded frame has been replayed."""
        return self.frame >= self.length

    def step(self) -> bool:
        """Replay the next frame; return False when the recording has no more frames."""
        if self.done:
            return False
        s = self.session
        f = s.frame
        for name, value in self._params.get(f, ()):
            s.set_param(name, value)
        if s.human_role is not None:
            s.set_human_action(self.recording.inputs_of(s.human_role)[f])
        if not self.verifiable and self.diverged_at is None:
            # without usable state checks, the recorded role's observations are compared instead
            seen = s.worlds.observations(s.record_role)[0]
            if not np.array_equal(seen, self.recording.observations[f]):
                self.diverged_at = f
        s.step()
        checked = self.verifiable and self.diverged_at is None
        if checked and state_check(s.worlds.state(), self.check_fields) != int(self.recording.checks[f]):
            self.diverged_at = f
        return True

    def seek(self, frame: int) -> None:
        """Go to `frame` (frames played); backwards, the game is replayed again from its start."""
        frame = max(0, min(int(frame), self.length))
        if frame < self.frame:
            self.session = self._new_session()
        while self.frame < frame:
            self.step()

    def run(self) -> ReplayResult:
        """Replay every remaining frame and return what was found."""
        while self.step():
            pass
        rec = self.recording
        return ReplayResult(
            frames=self.frame,
            diverged_at=self.diverged_at,
            score=self.session.score,
            recorded_score=int(rec.scores[-1]) if len(rec.scores) else None,
            outcome=rec.outcome,
        )


def verify(path: str | Path | Recording) -> ReplayResult:
    """Replay a whole recording and report whether every frame matched (`ReplayResult.exact`).

    Raises:
        ReplayError: The recording cannot be replayed.
        RecordingError: The file is not a readable recording.
    """
    return Replay(path).run()
