"""The tracking store as the dashboard reads it: runs, metric histories, replays, registered models.

Everything goes through ``aip_ml.tracking`` (the code behind ``aip models``) and the MLflow client it
makes. Nothing here writes to the store; promotion is in ``_models.py`` and uses the command's checks.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aip_cli._dashboard._security import PathRefused

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = ["CURVES", "REPLAY_NAME", "Store"]

#: The curves the Runs page draws by default (every other metric of a run can be added).
CURVES = (
    "success_rate",
    "episode_return_mean",
    "steps_per_second",
    "loss/policy",
    "loss/value",
    "loss/entropy",
    "std_mean",
    "curriculum_value",
)
#: Replay artifact names the dashboard serves (what ``aip_ml.replays.replay_name`` writes).
REPLAY_NAME = re.compile(r"^update-\d{6}\.aipreplay$")
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_MAX_RUNS = 2000


def check_run_id(run_id: str) -> str:
    """An MLflow run id as the dashboard accepts it (32 hexadecimal digits).

    Args:
        run_id: From the request.

    Returns:
        The id.

    Raises:
        PathRefused: Anything else.
    """
    if not _RUN_ID.match(run_id):
        raise PathRefused(f"{run_id[:40]!r} is not a run id")
    return run_id


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


class Store:
    """Reads one tracking store (any MLflow URI) for the dashboard.

    Args:
        tracking_uri: The store, or ``None`` for ``aip``'s default (``MLFLOW_TRACKING_URI``, else
            ``sqlite:///mlflow.db`` here).
    """

    def __init__(self, tracking_uri: str | None) -> None:
        from aip_ml.tracking import resolve_tracking_uri

        self.uri = resolve_tracking_uri(tracking_uri)
        self._client: MlflowClient | None = None
        self._lock = threading.Lock()
        self._cache_dir = Path(tempfile.mkdtemp(prefix="aip-dashboard-"))
        self._replays: OrderedDict[tuple[str, str], Path] = OrderedDict()

    def close(self) -> None:
        """Remove the downloaded artifacts."""
        shutil.rmtree(self._cache_dir, ignore_errors=True)

    @property
    def exists(self) -> bool:
        """Whether there is a store to read (a SQLite file that exists, or a server)."""
        from aip_ml.tracking import store_exists

        return store_exists(self.uri)

    def client(self) -> MlflowClient:
        """The MLflow client (made on first use, probing a server once).

        Returns:
            The client.
        """
        with self._lock:
            if self._client is None:
                from aip_ml.tracking import make_client

                self._client = make_client(self.uri)
            return self._client

    # --- runs ------------------------------------------------------------------------------------

    def runs(self) -> list[dict[str, Any]]:
        """Every run of every experiment, newest first, with its latest metrics.

        Returns:
            One dictionary per run.
        """
        if not self.exists:
            return []
        client = self.client()
        experiments = {e.experiment_id: e.name for e in client.search_experiments()}
        if not experiments:
            return []
        runs = client.search_runs(list(experiments), max_results=_MAX_RUNS, order_by=["attributes.start_time DESC"])
        out = []
        for run in runs:
            info, data = run.info, run.data
            out.append(
                {
                    "run_id": info.run_id,
                    "name": info.run_name or info.run_id[:8],
                    "experiment_id": info.experiment_id,
                    "experiment": experiments.get(info.experiment_id, "?"),
                    "task": data.tags.get("aip.task", experiments.get(info.experiment_id, "?")),
                    "status": info.status,
                    "start_ms": info.start_time,
                    "end_ms": info.end_time,
                    "metrics": {k: _finite(v) for k, v in data.metrics.items()},
                    "params": {k: data.params[k] for k in ("seed", "total_steps", "num_worlds") if k in data.params},
                    "run_dir": data.tags.get("aip.run_dir"),
                }
            )
        return out

    def run_status(self, run_id: str) -> str:
        """The run's status (``RUNNING``, ``FINISHED``, ``FAILED``, ``KILLED``).

        Args:
            run_id: The run.

        Returns:
            The status.
        """
        return str(self.client().get_run(check_run_id(run_id)).info.status)

    def metric_keys(self, run_id: str) -> list[str]:
        """The names of the run's metrics.

        Args:
            run_id: The run.

        Returns:
            The names, sorted.
        """
        return sorted(self.client().get_run(check_run_id(run_id)).data.metrics)

    def history(
        self, run_id: str, keys: list[str], after: dict[str, int] | None = None
    ) -> dict[str, list[list[float]]]:
        """The points ``[step, value]`` of each metric, optionally only those past a step.

        Args:
            run_id: The run.
            keys: The metric names.
            after: Per name, the last step already known (points at or before it are left out).

        Returns:
            Name to points, in step order; NaN values are left out.
        """
        client = self.client()
        check_run_id(run_id)
        out: dict[str, list[list[float]]] = {}
        for key in keys:
            last = (after or {}).get(key, -1)
            points = []
            for m in client.get_metric_history(run_id, key):
                value = _finite(m.value)
                if m.step > last and value is not None:
                    points.append([float(m.step), value])
            points.sort(key=lambda p: p[0])
            out[key] = points
        return out

    # --- replays ---------------------------------------------------------------------------------

    def replays(self, run_id: str) -> list[dict[str, Any]]:
        """The run's replay artifacts (``replays/update-NNNNNN.aipreplay``), in update order.

        Args:
            run_id: The run.

        Returns:
            ``name``, ``update`` and ``size`` of each.
        """
        from aip_ml.replays import REPLAYS_DIR

        files = self.client().list_artifacts(check_run_id(run_id), REPLAYS_DIR)
        out = []
        for f in files:
            name = f.path.rsplit("/", 1)[-1]
            if not f.is_dir and REPLAY_NAME.match(name):
                out.append({"name": name, "update": int(name[7:13]), "size": int(f.file_size or 0)})
        return sorted(out, key=lambda r: r["update"])

    def replay_file(self, run_id: str, name: str) -> Path:
        """A local copy of one replay artifact (downloaded once).

        Args:
            run_id: The run.
            name: A name from :meth:`replays`.

        Returns:
            The file.

        Raises:
            PathRefused: Not a replay name, or the run has no such replay.
        """
        from aip_ml.replays import REPLAYS_DIR

        check_run_id(run_id)
        if not REPLAY_NAME.match(name):
            raise PathRefused(f"{name[:60]!r} is not a replay name")
        key = (run_id, name)
        with self._lock:
            cached = self._replays.get(key)
        if cached is not None and cached.is_file():
            return cached
        if name not in {r["name"] for r in self.replays(run_id)}:
            raise PathRefused(f"run {run_id} has no replay {name!r}")
        import mlflow.artifacts

        folder = self._cache_dir / run_id
        folder.mkdir(parents=True, exist_ok=True)
        local = Path(
            mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=f"{REPLAYS_DIR}/{name}", dst_path=str(folder), tracking_uri=self.uri
            )
        )
        with self._lock:
            self._replays[key] = local
            while len(self._replays) > 256:
                _, old = self._replays.popitem(last=False)
                old.unlink(missing_ok=True)
        return local

    # --- models ----------------------------------------------------------------------------------

    def models(self) -> list[dict[str, Any]]:
        """Every registered version (as ``aip models list --json`` shows it), with its model's tags.

        Lineage and ratings are shown where the version's tags hold them: the tag names are in
        ``_models.py``.

        Returns:
            One dictionary per version.
        """
        if not self.exists:
            return []
        from aip_cli._dashboard._models import describe_version
        from aip_ml.tracking import list_versions

        return [describe_version(v) for v in list_versions(self.client())]
