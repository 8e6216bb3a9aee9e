"""Behaviour cloning (Pomerleau 1991; Bain & Sammut 1995): fit the actor to demonstrated actions.

Moves are fitted by mean squared error of the actor's mean in the normalised action space. A binary
action (the player's ``fire``, which fires at >= 0.5) is a Bernoulli head: the actor's output is read
as a logit, ``p(fire) = sigmoid(FIRE_LOGIT_SCALE * mean)``, fitted by cross-entropy; the deterministic
policy fires exactly when ``p > 0.5``, as the exported policy does (``mean > 0``). Whole episodes are
held out to report the loss on demonstrations the network did not see.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch.nn import functional as F

import aip_engine

from .._config import AUGMENTS
from ._dataset import DemoDataset

__all__ = ["BINARY_ACTIONS", "FIRE_LOGIT_SCALE", "clone", "cloning_loss"]

#: Action fields that are decisions (fire or not), fitted as Bernoulli heads.
BINARY_ACTIONS = ("fire",)
#: The logit of a binary action per unit of the actor's output.
FIRE_LOGIT_SCALE = 4.0
#: Fewest gradient steps of a cloning: a small dataset (20 recorded episodes are ~16,000 samples, four
#: minibatches of 4,096) gets smaller minibatches instead of a few dozen steps that leave it underfitted.
MIN_GRADIENT_STEPS = 2000
#: A demonstrated move at least this long is a full-speed move (see ``full_speed_gain``).
FULL_SPEED = 0.999
#: Held-out samples evaluated per forward pass.
_EVAL_CHUNK = 65536


def _targets(
    layout: aip_engine.RoleLayout, actions: npt.NDArray[np.float32], full_speed_gain: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    low = np.array([f.low for f in layout.action], np.float32)
    high = np.array([f.high for f in layout.action], np.float32)
    binary = np.array([f.name in BINARY_ACTIONS for f in layout.action])
    scaled = np.clip((actions - (high + low) / 2) / ((high - low) / 2), -1.0, 1.0)
    scaled[:, binary] = (actions[:, binary] >= (high[binary] + low[binary]) / 2).astype(np.float32)
    names = [f.name for f in layout.action]
    if full_speed_gain != 1.0 and {"move_x", "move_y"} <= set(names):
        # The engine clips a move to the unit disc: a full-speed move fitted a little short slows the
        # agent (by 1 % against a fleeing player, 10 % of the gap it closes); fitted past the circle,
        # the same errors are clipped back to full speed.
        move = [names.index("move_x"), names.index("move_y")]
        full = np.linalg.norm(scaled[:, move], axis=1) >= FULL_SPEED
        scaled[np.ix_(full, move)] *= full_speed_gain
    return torch.from_numpy(scaled.astype(np.float32)), torch.from_numpy(binary)


def _mirror_factors(layout: aip_engine.RoleLayout) -> tuple[torch.Tensor, torch.Tensor]:
    """The factors of the arena's four mirror images, as ``(4, obs_size)`` and ``(4, act_size)`` tensors.

    Rows: as recorded, x mirrored, y mirrored, both (`aip_engine.RoleLayout.mirror_signs`).
    """
    (ox, ax), (oy, ay) = layout.mirror_signs("x"), layout.mirror_signs("y")
    obs = np.array([np.ones(len(ox)), ox, oy, np.multiply(ox, oy)], np.float32)
    act = np.array([np.ones(len(ax)), ax, ay, np.multiply(ax, ay)], np.float32)
    return torch.from_numpy(obs), torch.from_numpy(act)


def cloning_loss(mean: torch.Tensor, target: torch.Tensor, binary: torch.Tensor) -> torch.Tensor:
    """The cloning loss: MSE on continuous fields plus cross-entropy on binary ones (per sample mean)."""
    cont = ~binary
    loss = torch.zeros((), dtype=mean.dtype)
    if bool(cont.any()):
        loss = loss + ((mean[:, cont] - target[:, cont]) ** 2).mean() * int(cont.sum())
    if bool(binary.any()):
        logits = mean[:, binary] * FIRE_LOGIT_SCALE
        loss = loss + F.binary_cross_entropy_with_logits(logits, target[:, binary]) * int(binary.sum())
    return loss / mean.shape[1]


def clone(
    learner: Any,
    dataset: DemoDataset,
    *,
    epochs: int,
    holdout: float = 0.1,
    seed: int = 0,
    batch: int = 4096,
    learning_rate: float = 1e-3,
    update_statistics: bool = True,
    min_steps: int = MIN_GRADIENT_STEPS,
    full_speed_gain: float = 1.0,
    augment: str = "none",
) -> dict[str, float]:
    """Fit a learner's actor to a dataset's actions.

    Args:
        learner: A PPO learner (its ``model``, ``obs_rms``, ``normalizer``, ``layout``, ``generator``).
        dataset: Demonstrations of the learner's layout.
        epochs: Passes over the training part.
        holdout: Fraction of the episodes held out.
        seed: Seed of the split.
        batch: Samples per gradient step at most; fewer (down to 32) where ``epochs`` passes of ``batch``
            would take fewer than ``min_steps`` steps.
        learning_rate: Adam's learning rate.
        update_statistics: Fold the demonstrations into the observation statistics first.
        min_steps: Gradient steps the minibatch size is chosen to reach (see ``batch``).
        full_speed_gain: Length at which demonstrated full-speed moves (``move_x``, ``move_y`` of length
            at least `FULL_SPEED`) are fitted; above 1 the clone's errors fall outside the unit disc, where
            the engine clips them back to full speed.
        augment: ``"mirror"``: each training sample is shown as one of the arena's four mirror images,
            drawn at random per sample and step (the rules are symmetric, so each image is a valid
            demonstration); the statistics are those of all four. ``"none"``: as recorded. The held-out
            loss is always measured on the samples as recorded.

    Returns:
        ``bc/loss`` (training, last epoch), ``bc/holdout_loss`` (NaN without a held-out part),
        ``bc/holdout_fire_accuracy`` (roles that fire), ``bc/samples``, ``bc/episodes`` and ``bc/steps``
        (gradient steps).
    """
    if augment not in AUGMENTS:
        raise ValueError(f"augment must be one of {', '.join(AUGMENTS)}, not {augment!r}")
    layout = learner.layout
    train, held = dataset.split(holdout, seed)
    x_all = dataset.observations
    train_idx, held_idx = np.flatnonzero(train), np.flatnonzero(held)
    mirrors = _mirror_factors(layout) if augment == "mirror" else None
    if update_statistics and learner.config.obs_norm:
        rows = train_idx if len(held_idx) else None
        if mirrors is None:
            learner.obs_rms.update(x_all, rows=rows)
        else:
            # The moments of the four images from those of the samples: a field that changes sign in
            # half of them has mean 0 and its second moment as variance.
            n, mean, var = learner.obs_rms.moments(x_all, rows)
            kept = mirrors[0].mean(dim=0).double().numpy()
            if n:
                learner.obs_rms.fold(mean * kept, var + mean * mean * (1.0 - kept * kept), n)
        learner.normalizer.refresh(learner.obs_rms, layout.obs_size)
    target, binary = _targets(layout, dataset.actions, full_speed_gain)

    def inputs(idx: npt.NDArray[np.intp], factors: torch.Tensor | None = None) -> torch.Tensor:
        # Normalised per minibatch: the dataset is never copied whole (millions of samples).
        x = torch.from_numpy(x_all[idx])
        out: torch.Tensor = learner.normalizer(x if factors is None else x * factors)
        return out

    n_train = len(train_idx)
    batch = max(1, min(batch, max(32, n_train * epochs // max(min_steps, 1))))
    optimizer = torch.optim.Adam(learner.model.actor.parameters(), lr=learning_rate)
    running = float("nan")
    steps = 0
    for _ in range(epochs):
        perm = torch.randperm(n_train, generator=learner.generator).numpy()
        total, count = 0.0, 0
        for start in range(0, n_train, batch):
            idx = train_idx[perm[start : start + batch]]
            y, factors = target[torch.from_numpy(idx)], None
            if mirrors is not None:
                image = torch.randint(4, (len(idx),), generator=learner.generator)
                factors, y = mirrors[0][image], y * mirrors[1][image]
            loss = cloning_loss(learner.model.mean(inputs(idx, factors)), y, binary)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            steps += 1
            total += float(loss.item()) * len(idx)
            count += len(idx)
        running = total / max(count, 1)
    out = {
        "bc/loss": running,
        "bc/samples": float(n_train),
        "bc/episodes": float(dataset.episodes),
        "bc/holdout_loss": float("nan"),
        "bc/steps": float(steps),
    }
    if len(held_idx):
        loss_sum, fired_right = 0.0, 0.0
        with torch.no_grad():
            for start in range(0, len(held_idx), _EVAL_CHUNK):
                idx = held_idx[start : start + _EVAL_CHUNK]
                mean, y_held = learner.model.mean(inputs(idx)), target[torch.from_numpy(idx)]
                loss_sum += float(cloning_loss(mean, y_held, binary).item()) * len(idx)
                if bool(binary.any()):
                    fired_right += float(((mean[:, binary] > 0).float() == y_held[:, binary]).float().sum().item())
        out["bc/holdout_loss"] = loss_sum / len(held_idx)
        if bool(binary.any()):
            out["bc/holdout_fire_accuracy"] = fired_right / (len(held_idx) * int(binary.sum()))
    return out
