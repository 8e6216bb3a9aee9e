"""Promotion: the alias ``champion`` moves to a candidate only if it beats the current champion.

Both are evaluated again, now, on the same seeds, so that the comparison is fair whatever the scores
recorded at training time. The candidate wins when its success rate is higher, or equal with a higher
mean return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING

from aip_ml.tracking._errors import TrackingError
from aip_ml.tracking._registry import (
    CHAMPION,
    ModelVersionInfo,
    download_policy,
    set_alias,
    version_info,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = ["PolicyEvaluator", "Promotion", "beats", "promote", "promote_by_rating"]

PolicyEvaluator = Callable[[Path, ModelVersionInfo], Mapping[str, float]]
"""Evaluates a policy file (of the given version) on its task; returns at least ``success_rate``
and ``mean_return``. The same evaluator (same seeds, same episodes) is used for both sides."""

_EPS = 1e-9


def beats(candidate: Mapping[str, float], champion: Mapping[str, float]) -> bool:
    """Whether ``candidate`` is strictly better: success rate first, then mean return.

    Args:
        candidate: The candidate's scores.
        champion: The champion's scores.

    Returns:
        ``True`` if the candidate wins.
    """
    c_success = float(candidate.get("success_rate", 0.0))
    h_success = float(champion.get("success_rate", 0.0))
    if c_success > h_success + _EPS:
        return True
    if c_success < h_success - _EPS:
        return False
    return float(candidate.get("mean_return", float("-inf"))) > float(champion.get("mean_return", float("-inf"))) + _EPS


@dataclass(frozen=True)
class Promotion:
    """The outcome of :func:`promote`.

    Attributes:
        candidate: The version proposed.
        champion: The champion before the decision (``None`` when there was none).
        candidate_scores: The candidate's fresh scores (empty when not evaluated).
        champion_scores: The champion's fresh scores (empty when not evaluated).
        promoted: Whether the alias now points at the candidate.
        reason: One sentence explaining the decision.
    """

    candidate: ModelVersionInfo
    champion: ModelVersionInfo | None
    candidate_scores: dict[str, float]
    champion_scores: dict[str, float]
    promoted: bool
    reason: str

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary."""
        return {
            "candidate": self.candidate.reference,
            "champion": self.champion.reference if self.champion else None,
            "candidate_scores": self.candidate_scores,
            "champion_scores": self.champion_scores,
            "promoted": self.promoted,
            "reason": self.reason,
        }


def _fmt(scores: Mapping[str, float]) -> str:
    return (
        f"success {scores.get('success_rate', float('nan')):.1%}, "
        f"mean return {scores.get('mean_return', float('nan')):.2f}"
    )


def promote(
    client: MlflowClient,
    candidate: ModelVersionInfo,
    evaluate: PolicyEvaluator | None,
    *,
    force: bool = False,
    alias: str = CHAMPION,
) -> Promotion:
    """Point ``alias`` at ``candidate`` if it beats the version the alias points at now.

    Args:
        client: A client.
        candidate: The version proposed.
        evaluate: Evaluates one policy; may be ``None`` only with ``force`` or when there is no
            champion yet.
        force: Promote without comparing.
        alias: The alias to move.

    Returns:
        What was decided and why. Nothing changes when ``promoted`` is false.

    Raises:
        TrackingError: An evaluator is needed and none was given.
    """
    aliases = dict(client.get_registered_model(candidate.name).aliases or {})
    current: ModelVersionInfo | None = None
    if alias in aliases:
        current = version_info(client, candidate.name, str(aliases[alias]))
    if current is not None and current.version == candidate.version:
        return Promotion(candidate, current, {}, {}, False, f"{candidate.reference} is already @{alias}")
    if force or current is None:
        set_alias(client, candidate, alias)
        why = "forced" if force else f"there was no @{alias} yet"
        return Promotion(candidate, current, {}, {}, True, f"{candidate.reference} is now @{alias} ({why})")
    if evaluate is None:
        raise TrackingError("promotion needs an evaluator to compare with the current champion")
    with TemporaryDirectory(prefix="aip-promote-") as tmp:
        cand_path = download_policy(client, candidate, Path(tmp) / "candidate")
        champ_path = download_policy(client, current, Path(tmp) / "champion")
        cand_scores = {k: float(v) for k, v in evaluate(cand_path, candidate).items()}
        champ_scores = {k: float(v) for k, v in evaluate(champ_path, current).items()}
    if beats(cand_scores, champ_scores):
        set_alias(client, candidate, alias)
        return Promotion(
            candidate,
            current,
            cand_scores,
            champ_scores,
            True,
            f"{candidate.reference} ({_fmt(cand_scores)}) beats {current.reference} "
            f"({_fmt(champ_scores)}); it is now @{alias}",
        )
    return Promotion(
        candidate,
        current,
        cand_scores,
        champ_scores,
        False,
        f"{candidate.reference} ({_fmt(cand_scores)}) does not beat @{alias} "
        f"{current.reference} ({_fmt(champ_scores)}); nothing changed "
        "(pass --force to promote anyway)",
    )


def promote_by_rating(
    client: MlflowClient,
    candidate: ModelVersionInfo,
    *,
    margin: float = 1.0,
    force: bool = False,
    alias: str = CHAMPION,
) -> Promotion:
    """Point ``alias`` at ``candidate`` if the task's league rates it above the champion by ``margin``.

    Both ratings come from the newest round of the task's league (``aip league TASK``), so they are on
    one scale. The candidate wins when ``(mu_c - mu_h) / sqrt(sigma_c^2 + sigma_h^2) >= margin``: its
    rating is above the champion's by ``margin`` standard deviations of the difference.

    Args:
        client: A client.
        candidate: The version proposed.
        margin: Standard deviations of the difference the candidate must be rated above by.
        force: Promote without comparing.
        alias: The alias to move.

    Returns:
        What was decided and why. Nothing changes when ``promoted`` is false.

    Raises:
        TrackingError: The task has no league yet, or it has not rated the candidate or the champion.
    """
    from aip_ml.selfplay import separation
    from aip_ml.tracking._league import latest_league

    aliases = dict(client.get_registered_model(candidate.name).aliases or {})
    current = version_info(client, candidate.name, str(aliases[alias])) if alias in aliases else None
    if current is not None and current.version == candidate.version:
        return Promotion(candidate, current, {}, {}, False, f"{candidate.reference} is already @{alias}")
    if force or current is None:
        set_alias(client, candidate, alias)
        why = "forced" if force else f"there was no @{alias} yet"
        return Promotion(candidate, current, {}, {}, True, f"{candidate.reference} is now @{alias} ({why})")
    stored = latest_league(client, candidate.task)
    if stored is None:
        raise TrackingError(
            f"{candidate.task} has no league yet; rate the models with `aip league {candidate.task}` first"
        )
    table = stored.record.ratings().ratings
    for info in (candidate, current):
        if info.reference not in table:
            raise TrackingError(
                f"the league of {candidate.task} has not rated {info.reference} yet; "
                f"run `aip league {candidate.task}` to add it"
            )
    cand, champ = table[candidate.reference], table[current.reference]
    sep = separation(cand, champ)
    cand_scores = {"rating_mu": cand.mu, "rating_sigma": cand.sigma, "separation": sep}
    champ_scores = {"rating_mu": champ.mu, "rating_sigma": champ.sigma}
    text = (
        f"{candidate.reference} (rating {cand.mu:.2f} +- {cand.sigma:.2f}) vs @{alias} {current.reference} "
        f"({champ.mu:.2f} +- {champ.sigma:.2f}): {sep:+.2f} sd"
    )
    if sep >= margin:
        set_alias(client, candidate, alias)
        return Promotion(
            candidate, current, cand_scores, champ_scores, True, f"{text} >= {margin:g}; it is now @{alias}"
        )
    return Promotion(
        candidate,
        current,
        cand_scores,
        champ_scores,
        False,
        f"{text} < {margin:g}; nothing changed (pass --force to promote anyway)",
    )
