"""Replays: evaluation episodes recorded frame by frame during training, for viewers such as the dashboard.

:class:`ReplayCallback` plugs into :func:`aip_ml.train` and writes ``<run_dir>/replays/*.aipreplay``
every so many updates; :func:`record_episodes` records any policy; :func:`load_replay` reads a file
back (NumPy only: importing this package loads neither torch nor MLflow).
"""

from __future__ import annotations

from aip_ml.replays._callback import REPLAYS_DIR, ReplayCallback, replay_name
from aip_ml.replays._format import FORMAT_VERSION, SUFFIX, Replay, ReplayError, load_replay, save_replay
from aip_ml.replays._record import Actor, record_episodes

__all__ = [
    "FORMAT_VERSION",
    "REPLAYS_DIR",
    "SUFFIX",
    "Actor",
    "Replay",
    "ReplayCallback",
    "ReplayError",
    "load_replay",
    "record_episodes",
    "replay_name",
    "save_replay",
]
