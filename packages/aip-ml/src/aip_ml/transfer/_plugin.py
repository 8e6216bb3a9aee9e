"""Transfer as a training plugin: start from another model's network where the role layouts agree."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

import aip_engine

from .._errors import ConfigError
from .._plugins import PluginBase, PluginContext
from ._sources import Source, resolve_source

__all__ = ["Transfer", "load_into"]


def _layout_text(layout: aip_engine.RoleLayout) -> str:
    return f"{layout.name} (version {layout.version})"


def _checkpoint_weights(source: Source, learner: Any) -> tuple[dict[str, torch.Tensor], Any, str]:
    from .._checkpoint import load_checkpoint

    ckpt = load_checkpoint(source.path)
    roles = ckpt.roles
    role = learner.role if learner.role in roles else roles[0]
    state = ckpt.state if len(roles) == 1 else ckpt.state["learners"][role]
    names = ckpt.layouts
    layout = aip_engine.layout(names.get(role, aip_engine.role_layout(role).name))
    cfg = ckpt.config
    if layout.name != learner.layout.name:
        raise ConfigError(
            f"config key 'init_from' = {source.text!r}: it holds a {role} network for layout {_layout_text(layout)}; "
            f"this run trains {_layout_text(learner.layout)}; transfer needs the same layout"
        )
    if tuple(cfg.hidden_sizes) != tuple(learner.config.hidden_sizes) or cfg.activation != learner.config.activation:
        raise ConfigError(
            f"config key 'init_from' = {source.text!r}: its network is {list(cfg.hidden_sizes)} {cfg.activation}, "
            f"this run's {list(learner.config.hidden_sizes)} {learner.config.activation}; set hidden_sizes and "
            "activation to match"
        )
    weights = {k: v for k, v in state["model"].items() if k != "log_std"}
    rms = state["obs_rms"] if cfg.obs_norm else None
    return weights, rms, "actor+critic"


def _policy_weights(source: Source, learner: Any) -> tuple[dict[str, torch.Tensor], Any, str]:
    from aip_engine._policy import _read_archive

    policy = aip_engine.load_policy(source.path)
    if policy.layout.name != learner.layout.name:
        raise ConfigError(
            f"config key 'init_from' = {source.text!r}: it is a policy for layout {_layout_text(policy.layout)}; "
            f"this run trains {_layout_text(learner.layout)}; transfer needs the same layout"
        )
    arrays = _read_archive(source.path)
    actor = [m for m in learner.model.actor if isinstance(m, nn.Linear)]
    count = len([k for k in arrays if k.startswith("w") and k[1:].isdigit()])
    shapes = [tuple(arrays[f"w{i}"].shape) for i in range(count)]
    if shapes != [tuple(m.weight.shape) for m in actor] or policy.activation != learner.config.activation:
        raise ConfigError(
            f"config key 'init_from' = {source.text!r}: its network {shapes} {policy.activation} differs from this "
            f"run's {[tuple(m.weight.shape) for m in actor]} {learner.config.activation}"
        )
    weights: dict[str, torch.Tensor] = {}
    linear_index = [i for i, m in enumerate(learner.model.actor) if isinstance(m, nn.Linear)]
    for k, i in enumerate(linear_index):
        weights[f"actor.{i}.weight"] = torch.from_numpy(np.array(arrays[f"w{k}"], dtype=np.float32))
        weights[f"actor.{i}.bias"] = torch.from_numpy(np.array(arrays[f"b{k}"], dtype=np.float32))
    rms = {
        "mean": torch.from_numpy(np.array(arrays["obs_mean"], dtype=np.float64)),
        "var": torch.from_numpy(np.array(arrays["obs_var"], dtype=np.float64)),
        "count": 1e6,
    }
    return weights, rms, "actor"


def load_into(learner: Any, source: Source) -> list[str]:
    """Load a source's weights and observation statistics into a PPO learner.

    Args:
        learner: The learner (`aip_ml` PPO).
        source: What `resolve_source` found.

    Returns:
        The names of the parameters loaded.

    Raises:
        ConfigError: The layouts or the networks differ (the message names both).
    """
    read = _checkpoint_weights if source.kind == "checkpoint" else _policy_weights
    weights, rms, _ = read(source, learner)
    learner.model.load_state_dict(weights, strict=False)
    if rms is not None and learner.config.obs_norm:
        learner.obs_rms.load_state_dict(rms)
        learner.normalizer.refresh(learner.obs_rms, learner.layout.obs_size)
    return sorted(weights)


class Transfer(PluginBase):
    """Starts a run from ``init_from`` (a `aip_ml._plugins.Plugin`).

    Before the first update it loads the source's weights and observation statistics; in every
    session (fresh or resumed) it freezes the first ``init_freeze`` hidden layers and gives the loaded
    layers the learning-rate factor ``init_lr_scale``.

    Args:
        text: The ``init_from`` value.
        freeze: Hidden layers to freeze.
        lr_scale: Learning-rate factor of the loaded layers.
    """

    name = "transfer"

    def __init__(self, text: str, freeze: int = 0, lr_scale: float = 1.0) -> None:
        self.text = text
        self.freeze = freeze
        self.lr_scale = lr_scale
        self.source: Source | None = None
        self.loaded: list[str] = []
        self._learner: Any = None

    def setup(self, context: PluginContext) -> None:
        """Resolve the source (at a fresh start) and group the learner's parameters."""
        import aip_engine as ae

        if len(ae.task_spec(context.config.task).agents) != 1:
            raise ConfigError(
                f"config key 'init_from': {context.config.task!r} trains several roles; transfer "
                "applies to single-agent tasks"
            )
        self._learner = context.learner
        if not context.resumed:
            self.source = resolve_source(self.text, context.tracking_uri, context.run_dir / "init_from")

    def initialize(self, learner: Any) -> dict[str, float]:
        """Load the weights, then freeze and regroup."""
        assert self.source is not None
        self.loaded = load_into(learner, self.source)
        self._regroup(learner, self.loaded)
        return {"transfer/parameters_loaded": float(len(self.loaded))}

    def state_dict(self) -> dict[str, Any]:
        """Which parameters were loaded (a resumed run regroups the same ones)."""
        return {"loaded": list(self.loaded)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Regroup the learner like the session that loaded the weights (called on resume)."""
        self.loaded = [str(n) for n in state.get("loaded", [])]
        self._regroup(self._learner, self.loaded)

    def lineage(self) -> dict[str, str]:
        """The source's tags."""
        return dict(self.source.lineage) if self.source is not None else {"init_from": self.text}

    def _regroup(self, learner: Any, loaded: list[str]) -> None:
        frozen: set[str] = set()
        for net in ("actor", "critic"):
            linear = [i for i, m in enumerate(getattr(learner.model, net)) if isinstance(m, nn.Linear)]
            for i in linear[: self.freeze]:
                frozen |= {f"{net}.{i}.weight", f"{net}.{i}.bias"}
        named = dict(learner.model.named_parameters())
        for name in frozen & set(named):
            named[name].requires_grad_(False)
        if self.lr_scale == 1.0 and not frozen:
            return
        old = learner.optimizer
        group = old.param_groups[0]
        slow = [p for n, p in named.items() if n in loaded and n not in frozen]
        fast = [p for n, p in named.items() if n not in loaded and n not in frozen]
        groups = [{"params": fast, "lr_scale": 1.0}, {"params": slow, "lr_scale": self.lr_scale}]
        learner.optimizer = torch.optim.Adam(
            [g for g in groups if g["params"]], lr=group["lr"], eps=group["eps"], fused=True
        )
