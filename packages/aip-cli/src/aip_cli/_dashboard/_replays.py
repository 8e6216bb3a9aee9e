"""Replays for the browser: the trainer's evaluation episodes and the game's recordings, as positions.

Both become the same JSON: per episode, each frame's player, enemy and missile positions and the
events of the step, which the page draws with the game's look. An evaluation replay holds those
positions already (``aip_ml.replays``). A game recording (read with ``aip_game.recording.load``) is
played again frame by frame by the game's own ``aip_game.replay.Replay``, which checks every frame
against the recording and says where a replay stops matching.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from aip_cli._dashboard._security import PathRefused, contained_file

__all__ = ["MAX_RECORDING_BYTES", "list_recordings", "recording_replay", "replay_json"]

#: The largest recording the dashboard replays (an hour of play is about 20 MB).
MAX_RECORDING_BYTES = 64 * 1024 * 1024


def _round(values: npt.NDArray[Any], digits: int = 2) -> list[Any]:
    return np.round(values.astype(np.float64), digits).tolist()  # type: ignore[no-any-return]


def _episode_json(ep: dict[str, npt.NDArray[Any]], outcome: dict[str, Any]) -> dict[str, Any]:
    missiles = np.where(ep["missile_alive"][..., None], ep["missile_pos"], np.nan)
    return {
        **outcome,
        "frames": int(ep["player_pos"].shape[0] - 1),
        "player": _round(ep["player_pos"]),
        "player_vel": _round(ep["player_vel"], 3),
        "enemy": _round(ep["enemy_pos"]),
        "enemy_active": ep["enemy_active"].astype(int).tolist(),
        "enemy_fade": ep["enemy_fade"].astype(int).tolist(),
        "missiles": [[[None if np.isnan(x) else round(float(x), 2) for x in slot] for slot in row] for row in missiles],
        "invulnerable": ep["invulnerable"].astype(int).tolist(),
        "events": ep["events"].astype(int).tolist(),
    }


def replay_json(replay: Any) -> dict[str, Any]:
    """An ``aip_ml.replays.Replay`` as the page draws it.

    Args:
        replay: The replay.

    Returns:
        ``header`` (task, roles, seed, update, arena size, radii, event names) and ``episodes``.
    """
    episodes = []
    for k in range(replay.episodes):
        ep = replay.episode(k)
        outcome = {"success": bool(ep["success"]), "return": round(float(ep["returns"]), 3)}
        episodes.append(_episode_json(ep, outcome))
    return {"header": _header(replay.header), "episodes": episodes}


def _header(header: dict[str, Any]) -> dict[str, Any]:
    config = header.get("config", {})
    keep = ("task", "roles", "agents", "seed", "update", "global_step", "label", "events", "role", "opponent")
    out = {k: header[k] for k in keep if k in header}
    out["arena"] = [config.get("arena_width", 1280), config.get("arena_height", 720)]
    out["radius"] = {
        "player": config.get("player_radius", 25),
        "enemy": config.get("enemy_radius", 25),
        "missile": config.get("missile_radius", 5),
    }
    out["boundary"] = config.get("boundary", "wrap")
    return out


# --- the game's recordings ---------------------------------------------------------------------


def list_recordings(folder: Path | None) -> list[dict[str, Any]]:
    """The recordings in ``folder`` (``*.aiprec`` regular files), newest first.

    Args:
        folder: The recordings folder, or ``None``.

    Returns:
        ``name``, ``size``, ``modified`` (seconds), and from the header ``role``, ``opponent``,
        ``created``, ``frames`` and ``complete`` (or ``error`` for an unreadable file).
    """
    from aip_game import recording

    if folder is None or not folder.is_dir():
        return []
    out = []
    for path in folder.iterdir():
        try:
            file = contained_file(folder, path.name, suffix=recording.SUFFIX)
        except PathRefused:
            continue
        stat = file.stat()
        item: dict[str, Any] = {"name": path.name, "size": stat.st_size, "modified": stat.st_mtime}
        if stat.st_size > MAX_RECORDING_BYTES:
            item["error"] = "too large to replay here"
        else:
            try:
                rec = recording.load(file)
                opponent = rec.header.get("opponent")
                item.update(
                    role=rec.header.get("role"),
                    opponent=opponent.get("label") if isinstance(opponent, dict) else opponent,
                    replayable=rec.replayable,
                    created=rec.header.get("created"),
                    frames=len(rec),
                    complete=rec.complete,
                )
            except (ValueError, OSError, KeyError) as exc:
                item["error"] = str(exc).replace(str(folder), "")
        out.append(item)
    return sorted(out, key=lambda r: -float(r["modified"]))


def recording_replay(folder: Path, name: str) -> dict[str, Any]:
    """Play a recording again (``aip_game.replay``) and return it as the page draws it.

    Args:
        folder: The recordings folder.
        name: The file's name in it.

    Returns:
        The replay JSON of one episode; its ``note`` says where a replay stopped matching the recording.

    Raises:
        PathRefused: The name is refused or names no recording.
        ValueError: The file is not a recording, or cannot be replayed (the game's reason).
    """
    from aip_game import recording, replay

    path = contained_file(folder, name, suffix=recording.SUFFIX)
    if path.stat().st_size > MAX_RECORDING_BYTES:
        raise ValueError(f"{name} is larger than {MAX_RECORDING_BYTES // 2**20} MB; too large to replay here")
    try:
        game = replay.Replay(recording.load(path))
    except recording.RecordingError as exc:
        raise ValueError(str(exc).replace(str(folder), "").lstrip("/")) from None
    states: dict[str, list[Any]] = {k: [] for k in _STATE}
    events: list[Any] = [np.zeros(len(game.recording.event_names), np.int64)]

    def keep() -> None:
        st = game.session.state()
        for key, source in _STATE.items():
            states[key].append(np.array(st[source]))

    keep()
    while game.step():
        keep()
        events.append(np.array(game.session.frame_events))
    note = ""
    if game.diverged_at is not None:
        note = f"the replay differs from the recording from frame {game.diverged_at} on"
    elif not game.recording.complete:
        note = "the recording was interrupted; it holds the frames written before that"
    ep = {k: np.stack(v) for k, v in states.items()}
    ep["events"] = np.stack(events)
    header = game.recording.header
    opponent = header.get("opponent")
    label = opponent.get("label") if isinstance(opponent, dict) else opponent
    outcome = {"success": False, "return": float(game.session.score), "note": note, "score": game.session.score}
    out_header = _header(
        {
            **header,
            "roles": dict(game.session.controllers),
            "agents": [game.side],
            "label": f"{name} ({game.side} against {label})",
        }
    )
    return {"header": out_header, "episodes": [_episode_json(ep, outcome)]}


_STATE = {
    "player_pos": "player_pos",
    "player_vel": "player_vel",
    "enemy_pos": "enemy_pos",
    "enemy_active": "enemy_active",
    "enemy_fade": "enemy_fade",
    "missile_pos": "missile_pos",
    "missile_alive": "missile_alive",
    "invulnerable": "player_invulnerable",
}
