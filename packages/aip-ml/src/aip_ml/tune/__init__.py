"""Hyperparameter search with Optuna: search spaces in TOML, pruning, shared studies, nested MLflow runs.

``aip tune TASK`` is the command; `tune` is the library call::

    from aip_ml import load_config
    from aip_ml.tune import load_space, tune, best_config_toml

    base = load_config("chase-v1")
    space = load_space("chase-v1", base=base)       # aip_ml/configs/chase-v1.space.toml
    result = tune(space, base, trials=20)            # optuna.db and mlflow.db in the working directory

Optuna is an optional dependency: ``pip install "aip-ml[tune]"``.
"""

from __future__ import annotations

from ._pruning import PruningCallback, TargetReached, not_reached_value, steps_value
from ._report import BEST_HEADER, best_config, best_config_toml, importances, top_trials, write_best_config
from ._space import OBJECTIVES, PRUNERS, Param, SearchSpace, SearchSpaceError, load_space, space_path, space_tasks
from ._storage import DEFAULT_STORAGE_FILE, StudyError, default_storage, open_storage, storage_label
from ._study import TUNE_DIR, TrialOutcome, TuneResult, tune

__all__ = [
    "BEST_HEADER",
    "DEFAULT_STORAGE_FILE",
    "OBJECTIVES",
    "PRUNERS",
    "TUNE_DIR",
    "Param",
    "PruningCallback",
    "SearchSpace",
    "SearchSpaceError",
    "StudyError",
    "TargetReached",
    "TrialOutcome",
    "TuneResult",
    "best_config",
    "best_config_toml",
    "default_storage",
    "importances",
    "load_space",
    "not_reached_value",
    "open_storage",
    "space_path",
    "space_tasks",
    "steps_value",
    "storage_label",
    "top_trials",
    "tune",
    "write_best_config",
]
