"""Finding, loading and running mods, each call isolated so that a broken mod cannot stop the game."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ._settings import Settings, SettingSpec
from .mods import MOD_API_VERSION, GameEvent, GameView, Mod, ModContext, OpponentOffer

__all__ = ["ENTRY_POINT_GROUP", "LoadedMod", "ModHost", "ModSource"]

log = logging.getLogger("aip_game")

#: The entry-point group installed mods register under.
ENTRY_POINT_GROUP = "aip_game.mods"


@dataclass(frozen=True)
class ModSource:
    """Where a mod comes from: `load()` returns the object named by an entry point or a loose module."""

    name: str
    origin: str
    load: Callable[[], Any]


@dataclass
class LoadedMod:
    """A mod the game found, and what became of it.

    Attributes:
        name: Its name.
        origin: Where it came from (entry point or file).
        state: ``"enabled"``, ``"rejected"`` (wrong API version or not a mod) or ``"failed"`` (it raised).
        message: Why it is not enabled.
    """

    name: str
    origin: str
    state: str = "enabled"
    message: str = ""
    mod: Mod | None = None
    ctx: ModContext | None = None
    version: str = ""
    description: str = ""

    @property
    def enabled(self) -> bool:
        return self.state == "enabled"


def entry_point_sources(group: str = ENTRY_POINT_GROUP) -> list[ModSource]:
    """Return the mods installed as packages (entry points of `group`)."""
    return [
        ModSource(ep.name, f"entry point {ep.name} = {ep.value}", ep.load)
        for ep in importlib.metadata.entry_points(group=group)
    ]


def folder_sources(folder: Path) -> list[ModSource]:
    """Return the loose mods of `folder`: each ``*.py`` file and each package (folder with ``__init__.py``).

    The module's ``mod`` attribute (a `Mod` subclass or instance) is the mod.
    """
    if not folder.is_dir():
        return []
    sources = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(("_", ".")):
            continue
        if path.suffix == ".py":
            sources.append(ModSource(path.stem, str(path), _module_loader(path.stem, path)))
        elif (path / "__init__.py").is_file():
            sources.append(ModSource(path.name, str(path), _module_loader(path.name, path / "__init__.py")))
    return sources


def _module_loader(name: str, file: Path) -> Callable[[], Any]:
    def load() -> Any:
        module_name = f"aip_game_loose_mods.{name}"
        spec = importlib.util.spec_from_file_location(module_name, file)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {file}")
        module: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        if not hasattr(module, "mod"):
            raise AttributeError(f"{file} defines no 'mod' (a Mod subclass or instance)")
        return module.mod

    return load


class ModHost:
    """The loaded mods: dispatches events, gathers opponents, overlays, settings and rule changes.

    Args:
        settings: The game's settings (mods add theirs).
        on_problem: Called with a message when a mod is rejected or fails (the game shows it).
    """

    def __init__(self, settings: Settings, on_problem: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.mods: list[LoadedMod] = []
        self.on_problem = on_problem or (lambda message: None)
        self.problems: list[str] = []
        #: The mod being called right now (so that what it changes can be traced back to it).
        self.current: LoadedMod | None = None

    def load_all(self, sources: Iterable[ModSource]) -> None:
        """Load every source, in order; names already loaded are skipped with a note."""
        for source in sources:
            self.load(source)

    def load(self, source: ModSource) -> LoadedMod:
        """Load one mod, check its API version, and run its `setup` in isolation."""
        record = LoadedMod(source.name, source.origin)
        self.mods.append(record)
        if any(m.name == source.name and m is not record and m.enabled for m in self.mods):
            return self._reject(record, f"a mod named {source.name!r} is already loaded")
        try:
            obj = source.load()
            mod = obj() if isinstance(obj, type) and issubclass(obj, Mod) else obj
        except Exception as exc:
            return self._fail(record, "could not be imported", exc)
        if not isinstance(mod, Mod):
            return self._reject(record, f"{source.origin} is not a Mod subclass or instance (got {type(mod).__name__})")
        record.name = mod.name or source.name
        record.version, record.description, record.mod = str(mod.version), mod.description, mod
        if mod.api_version != MOD_API_VERSION:
            return self._reject(
                record,
                f"needs mod API version {mod.api_version}; this game provides version {MOD_API_VERSION}",
            )
        ctx = ModContext(record.name, self.settings.get)
        record.ctx = ctx
        try:
            mod.setup(ctx)
            for offer in ctx.settings:
                self.settings.register(
                    SettingSpec(f"{record.name}.{offer.key}", offer.label, offer.choices, offer.default, offer.help)
                )
        except Exception as exc:
            return self._fail(record, "failed in setup()", exc)
        log.info("mod %s %s loaded from %s", record.name, record.version, record.origin)
        return record

    def _reject(self, record: LoadedMod, why: str) -> LoadedMod:
        record.state, record.message = "rejected", why
        self._report(f"mod {record.name} not loaded: {why}")
        return record

    def _fail(self, record: LoadedMod, what: str, exc: BaseException) -> LoadedMod:
        record.state = "failed"
        record.message = f"{what}: {type(exc).__name__}: {exc}"
        log.error("mod %s %s\n%s", record.name, what, "".join(traceback.format_exception(exc)))
        self._report(f"mod {record.name} disabled: {record.message}")
        return record

    def _report(self, message: str) -> None:
        log.warning(message)
        self.problems.append(message)
        self.on_problem(message)

    def active(self) -> Iterator[LoadedMod]:
        """Yield the enabled mods and their contexts."""
        for record in self.mods:
            if record.enabled and record.ctx is not None:
                yield record

    def call(self, record: LoadedMod, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call into a mod; if it raises, disable the mod, report it, and return None."""
        outer, self.current = self.current, record
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            self._fail(record, f"raised in {what}", exc)
            return None
        finally:
            self.current = outer

    def disable(self, record: LoadedMod, why: str, exc: BaseException) -> None:
        """Disable a mod for something it caused outside a call (e.g. a parameter the engine refused)."""
        self._fail(record, why, exc)

    def publish(self, event: GameEvent) -> None:
        """Deliver `event` to every enabled mod that subscribed to its type (or a base type)."""
        for record in list(self.active()):
            assert record.ctx is not None
            for event_type, handler in record.ctx.handlers:
                if isinstance(event, event_type) and record.enabled:
                    self.call(record, f"its {type(event).__name__} handler", handler, event)

    def set_game(self, view: GameView | None) -> None:
        """Give every mod's context the running game (None when no game runs)."""
        for record in self.active():
            assert record.ctx is not None
            record.ctx.game = view

    def draw_overlays(self, surface: Any, view: GameView) -> None:
        """Run every enabled mod's overlays."""
        for record in list(self.active()):
            assert record.ctx is not None
            for draw in record.ctx.overlays:
                if record.enabled:
                    self.call(record, "its overlay", draw, surface, view)

    def opponents(self, role: str) -> list[tuple[LoadedMod, OpponentOffer]]:
        """Return the opponents enabled mods offer for `role`."""
        return [(r, o) for r in self.active() if r.ctx for o in r.ctx.opponents if o.role == role]

    def config_changes(self) -> dict[str, Any]:
        """Return the merged engine ``Config`` changes of the enabled mods (later mods win)."""
        merged: dict[str, Any] = {}
        for record in self.active():
            assert record.ctx is not None
            merged.update(record.ctx.config_changes)
        return merged

    def param_changes(self) -> list[tuple[LoadedMod, dict[str, float]]]:
        """Return each enabled mod's per-world parameter changes."""
        return [(r, dict(r.ctx.param_changes)) for r in self.active() if r.ctx and r.ctx.param_changes]

    def summary(self) -> list[str]:
        """One line per mod for the menu."""
        lines = []
        for record in self.mods:
            if record.enabled:
                lines.append(f"{record.name} {record.version}: enabled")
            else:
                lines.append(f"{record.name}: {record.state} - {record.message}")
        return lines


def discover(host: ModHost, folders: Iterable[Path], *, entry_points: bool = True) -> None:
    """Load the installed mods (entry points) and then the loose mods of `folders`."""
    sources: list[ModSource] = entry_point_sources() if entry_points else []
    for folder in folders:
        sources.extend(folder_sources(folder))
    host.load_all(sources)
