"""Opponents: who controls the side the human does not play (scripted bots, trained policies, mods).

Every opponent is an `Opponent`: the engine either runs it itself (a scripted bot: `controller` is
the bot's name) or the game asks it for an action each frame (`controller` is ``"agent"`` and `act`
returns the action in the role's layout). The menus list `OpponentChoice` records; choosing one
makes a fresh `Opponent` for the game.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._engine import ae
from ._modhost import LoadedMod, ModHost
from .mods import Controller, GameView

__all__ = [
    "BOT_DESCRIPTIONS",
    "POLICY_SOURCES_GROUP",
    "BotOpponent",
    "ControllerOpponent",
    "Opponent",
    "OpponentChoice",
    "PolicyOpponent",
    "SourceScan",
    "find_choices",
    "local_choices",
]

log = logging.getLogger("aip_game")

#: Entry-point group of policy sources: each loads a callable returning ``[(label, role, loader)]``.
POLICY_SOURCES_GROUP = "aip_game.policy_sources"
_POLICY_SUFFIX = ".aipp"


class Opponent:
    """Controls one role (``"enemy"`` or ``"player"``) for a game.

    Attributes:
        label: What the menus show (the HUD shows `display_name`).
        role: The role it controls.
        kind: ``"bot"``, ``"policy"`` or ``"mod"``.
        last_action: The last action it chose (None for a bot, which the engine runs).
        rating: Its skill rating (mu) where one is known (the HUD and the high scores show it), else None.
        rating_sigma: The rating's standard deviation, where known.
        rating_where: The league the rating comes from (``"duel-v1 league"``).
    """

    kind = "opponent"

    def __init__(self, label: str, role: str) -> None:
        self.label = label
        self.role = role
        self.last_action: npt.NDArray[np.float32] | None = None
        self.act_size = ae.role_layout(role).act_size
        #: Why the opponent stopped deciding (it then stands still), or None.
        self.problem: str | None = None
        self.rating: float | None = None
        self.rating_sigma: float | None = None
        self.rating_where = ""

    @property
    def display_name(self) -> str:
        """The name the HUD shows: the label without a menu's trailing remark in parentheses."""
        name = self.label
        if name.endswith(")") and " (" in name:
            name = name[: name.rindex(" (")]
        return name

    @property
    def controller(self) -> str:
        """The engine controller name for the role: a bot's name or ``"agent"``."""
        return "agent"

    def describe(self) -> dict[str, Any]:
        """Who this is, as JSON-ready data (a recording's header keeps it)."""
        return {"label": self.label, "kind": self.kind, "role": self.role, "controller": self.controller}

    def prepare(self) -> None:
        """Load what the opponent needs before a game (a policy file); may raise with a clear message."""

    def reset(self, seed: int) -> None:
        """Called at the start of each game."""

    def act(self, observation: npt.NDArray[np.float32], view: GameView) -> npt.NDArray[np.float32]:
        """Return the role's action (only called when `controller` is ``"agent"``)."""
        raise NotImplementedError

    def _checked(self, action: Any) -> npt.NDArray[np.float32]:
        arr = np.asarray(action, dtype=np.float32).reshape(-1)
        if arr.size != self.act_size or not np.all(np.isfinite(arr)):
            raise ValueError(
                f"opponent {self.label!r} returned {arr.tolist()!r}; the {self.role} role needs "
                f"{self.act_size} finite numbers ({', '.join(f.name for f in ae.role_layout(self.role).action)})"
            )
        self.last_action = arr
        return arr


class BotOpponent(Opponent):
    """A scripted bot built into the engine."""

    kind = "bot"

    def __init__(self, role: str, bot: str, *, label: str | None = None) -> None:
        super().__init__(label or f"bot: {bot}", role)
        self.bot = bot

    @property
    def controller(self) -> str:
        return self.bot


class PolicyOpponent(Opponent):
    """A trained policy in the portable format, run by the engine's numpy runtime (no torch).

    Args:
        label: The menu label.
        role: The role it plays.
        locate: Returns the policy file's path (may download or look something up).
    """

    kind = "policy"

    def __init__(self, label: str, role: str, locate: Callable[[], Any]) -> None:
        super().__init__(label, role)
        self._locate = locate
        self.policy: Any = None

    def prepare(self) -> None:
        if self.policy is None:
            path = Path(self._locate())
            self.policy = ae.load_policy(path, role=self.role)
            self.path = path
            try:
                self.sha256: str | None = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                self.sha256 = None

    def describe(self) -> dict[str, Any]:
        path = getattr(self, "path", None)
        return {
            **super().describe(),
            "source": str(path) if path is not None else None,
            "sha256": getattr(self, "sha256", None),
        }

    def act(self, observation: npt.NDArray[np.float32], view: GameView) -> npt.NDArray[np.float32]:
        if self.problem is None:
            try:
                return self._checked(self.policy.act(observation))
            except Exception as exc:
                # a policy that breaks (non-finite output) must not end the game: it stands still
                self.problem = f"{self.label} stopped: {exc}"
                log.error("%s", self.problem, exc_info=exc)
        self.last_action = np.zeros(self.act_size, dtype=np.float32)
        return self.last_action


class ControllerOpponent(Opponent):
    """An opponent added by a mod: its `Controller` is called inside the mod host's isolation."""

    kind = "mod"

    def __init__(self, label: str, role: str, factory: Callable[[], Controller], host: ModHost, record: LoadedMod):
        super().__init__(label, role)
        self._factory = factory
        self.host = host
        self.record = record
        self.controller_obj: Controller | None = None
        self._zero = np.zeros(self.act_size, dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "mod": self.record.name, "mod_version": self.record.version}

    def prepare(self) -> None:
        made = self.host.call(self.record, "its opponent factory", self._factory)
        if made is None:
            raise RuntimeError(
                f"the mod {self.record.name!r} could not make opponent {self.label!r}: {self.record.message}"
            )
        self.controller_obj = made

    def reset(self, seed: int) -> None:
        reset = getattr(self.controller_obj, "reset", None)
        if callable(reset):
            self.host.call(self.record, "its controller's reset()", reset, seed)

    def act(self, observation: npt.NDArray[np.float32], view: GameView) -> npt.NDArray[np.float32]:
        # A failed mod leaves its role standing still: the game goes on.
        if not self.record.enabled or self.controller_obj is None:
            self.last_action = self._zero
            return self._zero
        ctrl = self.controller_obj
        result = self.host.call(
            self.record, "its controller's act()", lambda: self._checked(ctrl.act(observation, view))
        )
        if result is None:
            self.last_action = self._zero
            return self._zero
        return result  # type: ignore[no-any-return]


@dataclass(frozen=True)
class OpponentChoice:
    """A menu entry: `make()` builds a fresh opponent; `problem` says why it cannot be chosen."""

    label: str
    role: str
    kind: str
    make: Callable[[], Opponent]
    problem: str | None = None
    description: str = ""


#: One line per scripted bot for the menus (docs/rules.md has the exact behaviour).
BOT_DESCRIPTIONS = {
    "chase": "flies straight at you",
    "intercept": "aims where you will be",
    "dodge": "chases you and swerves around missiles",
    "staged": "starts slow and learns: wander, chase, intercept, dodge (resets at every life)",
    "linear": "drifts in a straight line (a target, not a hunter)",
    "circular": "flies in circles (a target, not a hunter)",
    "zigzag": "zigzags across the arena (a target, not a hunter)",
    "evasive": "drifts, and sidesteps missiles (a target, not a hunter)",
    "idle": "stands still",
    "wander": "wanders, changing heading every second or so",
    "patterns": "wanders, circles and runs diagonals",
    "kite": "keeps 200 px away, circling you, and shoots",
    "flee": "runs when you come close",
}


def bot_choices(role: str) -> list[OpponentChoice]:
    """Return every scripted bot of `role` the engine provides."""
    return [
        OpponentChoice(f"bot: {bot}", role, "bot", _bot_maker(role, bot), description=BOT_DESCRIPTIONS.get(bot, ""))
        for bot in ae.bots(role)
    ]


def _bot_maker(role: str, bot: str) -> Callable[[], Opponent]:
    return lambda: BotOpponent(role, bot)


def policy_file_choices(role: str, folders: Iterable[Path]) -> list[OpponentChoice]:
    """Return the policy files (``*.aipp``) of `role` in `folders`; unreadable files carry a `problem`."""
    choices = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob(f"*{_POLICY_SUFFIX}")):
            try:
                policy_role = ae.load_policy(path).role
            except Exception as exc:
                choices.append(OpponentChoice(f"policy: {path.name}", role, "policy", _broken(path), str(exc)))
                continue
            if policy_role == role:
                label = f"policy: {path.stem}"
                maker = _policy_maker(label, role, _constant(path))
                choices.append(OpponentChoice(label, role, "policy", maker, description=f"trained policy {path}"))
    return choices


def _constant(path: Path) -> Callable[[], Path]:
    return lambda: path


def _policy_maker(label: str, role: str, locate: Callable[[], Any]) -> Callable[[], Opponent]:
    return lambda: PolicyOpponent(label, role, locate)


def _broken(path: Path) -> Callable[[], Opponent]:
    def make() -> Opponent:
        raise RuntimeError(f"the policy file {path} cannot be used")

    return make


def entry_point_choices(role: str, group: str = POLICY_SOURCES_GROUP) -> list[OpponentChoice]:
    """Return the policies offered by installed policy sources (e.g. a model registry) for `role`."""
    choices: list[OpponentChoice] = []
    for ep in importlib.metadata.entry_points(group=group):
        try:
            offers: Sequence[tuple[str, str, Callable[[], Any]]] = list(ep.load()())
        except Exception as exc:
            log.warning("policy source %s failed: %s", ep.name, exc)
            choices.append(OpponentChoice(f"source: {ep.name}", role, "policy", _broken(Path(ep.name)), str(exc)))
            continue
        for label, offer_role, loader in offers:
            if offer_role == role:
                choices.append(OpponentChoice(label, role, "policy", _policy_maker(label, role, loader)))
    return choices


def mod_choices(role: str, host: ModHost | None) -> list[OpponentChoice]:
    """Return the opponents enabled mods offer for `role`."""
    if host is None:
        return []
    return [
        OpponentChoice(
            f"mod: {offer.label}",
            role,
            "mod",
            _mod_maker(f"mod: {offer.label}", role, offer.factory, host, record),
            description=f"from the mod {record.name}: {record.description}",
        )
        for record, offer in host.opponents(role)
    ]


def _mod_maker(
    label: str, role: str, factory: Callable[[], Controller], host: ModHost, record: LoadedMod
) -> Callable[[], Opponent]:
    return lambda: ControllerOpponent(label, role, factory, host, record)


def local_choices(role: str, host: ModHost | None, policy_folders: Iterable[Path]) -> list[OpponentChoice]:
    """Return the opponents found without asking installed policy sources: bots, policy files, mods."""
    return bot_choices(role) + policy_file_choices(role, policy_folders) + mod_choices(role, host)


def find_choices(role: str, host: ModHost | None, policy_folders: Iterable[Path]) -> list[OpponentChoice]:
    """Return every opponent for `role`: bots, policy files, mods, then the policy sources' offers."""
    return local_choices(role, host, policy_folders) + entry_point_choices(role)


class SourceScan:
    """Asks the installed policy sources for their offers in a background thread.

    A source may be slow (it may import a large library or query a server); the menu shows the
    local opponents at once and adds these when they arrive.

    Args:
        role: The role wanted.
    """

    def __init__(self, role: str) -> None:
        self.role = role
        self.result: list[OpponentChoice] | None = None
        self._thread = threading.Thread(target=self._run, name="aip-game policy sources", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = entry_point_choices(self.role)
        except Exception as exc:
            self.result = [OpponentChoice("policy sources", self.role, "policy", _broken(Path("?")), str(exc))]

    @property
    def done(self) -> bool:
        """Whether the offers have arrived."""
        return self.result is not None

    def wait(self, timeout: float | None = None) -> list[OpponentChoice]:
        """Wait for the offers (the tests use it) and return them."""
        self._thread.join(timeout)
        return self.result or []
