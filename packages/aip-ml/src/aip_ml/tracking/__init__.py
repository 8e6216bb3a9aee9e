"""MLflow tracking and the model registry for AIP.

Runs are recorded by :class:`MlflowCallback` (a training callback) or :class:`RunTracker`; policies are
registered as versions of ``<task>-<role>`` with their evaluation scores as version tags; the alias
``champion`` marks the version to play against. The default store is ``sqlite:///mlflow.db`` with
artifacts in ``./mlartifacts``; ``MLFLOW_TRACKING_URI`` or ``tracking_uri=`` select another (an MLflow
server with ``--serve-artifacts`` works the same). MLflow is imported on first use only.
"""

from __future__ import annotations

from aip_ml.tracking._callback import RUN_FILE, MlflowCallback, scores_from_report
from aip_ml.tracking._errors import (
    ExportExistsError,
    ModelNotFoundError,
    PromotionRefusedError,
    StoreUnavailableError,
    TrackingError,
)
from aip_ml.tracking._league import (
    LEAGUE_ARTIFACTS,
    LEAGUE_EXPERIMENT,
    RATING_TAG_PREFIX,
    StoredLeague,
    latest_league,
    log_league,
    metric_key,
    version_rating,
)
from aip_ml.tracking._promote import PolicyEvaluator, Promotion, beats, promote, promote_by_rating
from aip_ml.tracking._registry import (
    CHAMPION,
    EVAL_TAG_PREFIX,
    ModelVersionInfo,
    download_policy,
    export_version,
    lineage_chain,
    list_versions,
    model_name,
    parse_reference,
    resolve_version,
    set_alias,
    version_info,
)
from aip_ml.tracking._run import RunTracker
from aip_ml.tracking._sources import cached_policy, policy_sources, rating_sources
from aip_ml.tracking._store import (
    DEFAULT_ARTIFACTS_DIR,
    DEFAULT_DB_FILE,
    StoreStatus,
    check_store,
    default_tracking_uri,
    make_client,
    resolve_tracking_uri,
    store_exists,
)

__all__ = [
    "CHAMPION",
    "DEFAULT_ARTIFACTS_DIR",
    "DEFAULT_DB_FILE",
    "EVAL_TAG_PREFIX",
    "LEAGUE_ARTIFACTS",
    "LEAGUE_EXPERIMENT",
    "RATING_TAG_PREFIX",
    "RUN_FILE",
    "ExportExistsError",
    "MlflowCallback",
    "ModelNotFoundError",
    "ModelVersionInfo",
    "PolicyEvaluator",
    "Promotion",
    "PromotionRefusedError",
    "RunTracker",
    "StoreStatus",
    "StoreUnavailableError",
    "StoredLeague",
    "TrackingError",
    "beats",
    "cached_policy",
    "check_store",
    "default_tracking_uri",
    "download_policy",
    "export_version",
    "latest_league",
    "lineage_chain",
    "list_versions",
    "log_league",
    "make_client",
    "metric_key",
    "model_name",
    "parse_reference",
    "policy_sources",
    "promote",
    "promote_by_rating",
    "rating_sources",
    "resolve_tracking_uri",
    "resolve_version",
    "scores_from_report",
    "set_alias",
    "store_exists",
    "version_info",
    "version_rating",
]
