"""Demonstrations from recordings: each recorded game is played again through the engine.

The engine is given the recording's task, seed, rule numbers and controllers, and steps with the
recorded actions of the demonstrated role, so the observations are exactly the role's current layout
as the engine computes it, not what the recorder wrote. The recorded observations serve as a check:
where the replay leaves them (a change the file does not hold), the rest of the recording is dropped,
and the episodes that ended before it are kept. The recording is read by the game's own reader
(``aip_game.recording``); this module takes its header and arrays, so aip-ml does not import the game.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

import aip_engine

from ._dataset import DemoDataset

__all__ = ["TOLERANCE", "ConversionRefused", "RecordingEpisodes", "resimulate"]

#: Largest difference between a recorded and a replayed observation value that still counts as equal.
TOLERANCE = 1e-4


class ConversionRefused(ValueError):
    """A recording that cannot become demonstrations at all (another role, task or layout)."""


@dataclass
class RecordingEpisodes:
    """What one recording gave.

    Attributes:
        dataset: Its valid episodes (possibly none).
        episodes_dropped: Episodes left out.
        reasons: Why (one line each).
    """

    dataset: DemoDataset
    episodes_dropped: int = 0
    reasons: list[str] = field(default_factory=list)


def _refuse(name: str, why: str) -> ConversionRefused:
    return ConversionRefused(f"{name}: {why}")


def _check_header(
    name: str, header: Mapping[str, Any], role: str, task: str | None, has_inputs: bool = False
) -> aip_engine.RoleLayout:
    current = aip_engine.role_layout(role) if role in aip_engine.roles() else None
    got_role = header.get("role")
    if current is None:
        raise _refuse(name, f"{role!r} is not a role ({', '.join(aip_engine.roles())})")
    if got_role != role:
        raise _refuse(name, f"a recording of the {got_role} role, not the {role}")
    if header.get("layout") != current.name or header.get("layout_version", current.version) != current.version:
        raise _refuse(
            name,
            f"recorded with layout {header.get('layout')} (version {header.get('layout_version')}); this engine's "
            f"{role} layout is {current.name} (version {current.version})",
        )
    fields = header.get("observation_fields")
    if fields is not None and list(fields) != [f.name for f in current.observation]:
        raise _refuse(name, f"its observation fields differ from {current.name}'s")
    recorded_task = header.get("task")
    if recorded_task not in aip_engine.tasks():
        raise _refuse(name, f"recorded in task {recorded_task!r}, which this engine does not know")
    if task is not None and recorded_task != task:
        raise _refuse(name, f"recorded in task {recorded_task!r}, not {task!r}")
    for key in ("seed", "controllers"):
        if key not in header:
            raise _refuse(name, f"the header has no {key!r}; it cannot be replayed")
    controllers = dict(header["controllers"])
    if controllers.get(role) != "agent":
        raise _refuse(name, f"the {role} was not played by a person in it (controllers: {controllers})")
    for other, who in controllers.items():
        if other != role and who == "agent" and not has_inputs:
            raise _refuse(
                name,
                f"the {other} was played by a policy ({header.get('opponent', '?')}); only games against "
                "scripted bots can be replayed",
            )
    return current


def resimulate(
    name: str,
    header: Mapping[str, Any],
    actions: npt.NDArray[np.float32],
    observations: npt.NDArray[np.float32],
    frames: npt.NDArray[np.int32],
    *,
    role: str,
    task: str | None = None,
    complete: bool = True,
    notes: Sequence[str] = (),
    inputs: npt.NDArray[np.float32] | None = None,
    param_changes: Sequence[tuple[int, str, float]] = (),
) -> RecordingEpisodes:
    """Replay one recording through the engine and cut it into episodes.

    Args:
        name: The recording's file name (for messages).
        header: Its header (role, layout, task, seed, config, controllers).
        actions: The recorded actions of the role, (n, act_size).
        observations: The recorded observations, (n, obs_size): the replay is checked against them.
        frames: The recorded frame numbers (0, 1, ...).
        role: The role the dataset is for.
        task: Only accept recordings of this task (None: any).
        complete: Whether the file ended cleanly (else its last episode is incomplete and dropped).
        notes: What the reader skipped (a damaged or short block).
        inputs: Every agent role's actions per frame, as the header's ``inputs`` ([[role, size], ...])
            lays them out (recording format 2); then games against policies replay too.
        param_changes: ``(frame, name, value)``: per-world parameters set before that frame's step
            (level-ups, mods), as format 2 records them.

    Returns:
        The valid episodes and what was dropped.

    Raises:
        ConversionRefused: Another role, task or layout, or a header that cannot be replayed.
    """
    spec_inputs = [(str(r), int(k)) for r, k in header.get("inputs") or []]
    use_inputs = inputs is not None and bool(spec_inputs) and len(inputs) >= len(actions)
    layout = _check_header(name, header, role, task, use_inputs)
    recorded_task = str(header["task"])
    spec = aip_engine.task_spec(recorded_task)
    n = len(actions)
    reasons = [f"{name}: {note}" for note in notes]
    if n and (frames[0] != 0 or np.any(np.diff(frames) != 1)):
        gap = int(np.flatnonzero(np.diff(frames) != 1)[0] + 1) if frames[0] == 0 else 0
        reasons.append(f"{name}: frame numbers jump at sample {gap}; only the frames before it are used")
        n = gap
        complete = False
    config = dict(header.get("config") or {})
    try:
        worlds: Any = aip_engine.Worlds(
            recorded_task,
            1,
            seed=int(header["seed"]),
            config=config,
            controllers=dict(header["controllers"]),
            threads=1,
        )
    except (aip_engine.ConfigError, aip_engine.UnknownNameError, ValueError) as exc:
        raise _refuse(name, f"its rule numbers or controllers cannot be replayed ({exc})") from None
    worlds.reset(seed=int(header["seed"]))
    obs_out = np.zeros((n, layout.obs_size), np.float32)
    episode = np.zeros(n, np.int32)
    catch = aip_engine.EVENTS.index("catch")
    rule_free = spec.time_limit == 0 and spec.success == "none"
    current = 0
    valid_until = 0  # samples [0, valid_until) belong to finished episodes
    diverged = False
    act = np.zeros((1, layout.act_size), np.float32)
    changes: dict[int, list[tuple[str, float]]] = {}
    for frame, pname, value in param_changes:
        changes.setdefault(int(frame), []).append((str(pname), float(value)))
    offsets = np.cumsum([0, *[k for _, k in spec_inputs]])
    for t in range(n):
        for pname, value in changes.get(int(frames[t]), ()):
            worlds.params[pname][0] = value
        obs = worlds.observations(role)[0]
        if not np.allclose(obs, observations[t], atol=TOLERANCE, rtol=0):
            field_index = int(np.argmax(np.abs(obs - observations[t])))
            reasons.append(
                f"{name}: the replay leaves the recording at frame {int(frames[t])} (field "
                f"{layout.observation[field_index].name!r}: recorded {observations[t][field_index]:.5g}, replayed "
                f"{obs[field_index]:.5g}); a change the file does not hold, such as a level-up or a mod"
            )
            diverged = True
            break
        obs_out[t] = obs
        episode[t] = current
        act[0] = actions[t]
        if not np.all(np.isfinite(act)):
            reasons.append(f"{name}: a non-finite action at frame {int(frames[t])}")
            diverged = True
            break
        if use_inputs and inputs is not None:
            row = np.asarray(inputs[t], np.float32)
            acts = {r: row[None, offsets[i] : offsets[i + 1]].copy() for i, (r, _) in enumerate(spec_inputs)}
            result = worlds.step(acts[spec_inputs[0][0]] if len(acts) == 1 else acts)
        else:
            result = worlds.step(act)
        ended = bool(result.terminated[0] or result.truncated[0])
        if rule_free and result.events[0, catch]:
            ended = True  # the game: a catch ends a life (the player) or an attack (the enemy)
        if ended:
            current += 1
            valid_until = t + 1
    end = valid_until
    if not diverged and complete:
        end = n  # a cleanly closed game: its last episode ended with the game
    dropped = int(end < len(actions))
    if not diverged and not complete and valid_until < n:
        reasons.append(f"{name}: the file ends inside an episode (an interrupted recording); that episode is dropped")
    opponent = header.get("opponent")
    sources = [
        {"file": name, "task": recorded_task, "opponent": opponent, "episode": int(e)} for e in np.unique(episode[:end])
    ]
    dataset = DemoDataset(
        obs_out[:end].copy(),
        np.asarray(actions[:end], dtype=np.float32).copy(),
        episode[:end].copy(),
        role=role,
        layout=layout.name,
        layout_version=layout.version,
        sources=sources,
        dropped=list(reasons),
    )
    return RecordingEpisodes(dataset, dropped, reasons)
