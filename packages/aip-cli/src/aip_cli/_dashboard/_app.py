"""The dashboard's web application (Starlette): pages, JSON API, live metrics (SSE) and games (WebSocket).

Blocking work (the tracking store, the engine's episodes) runs in worker threads so that the games,
which step in the event loop, keep their 60 frames per second; heavy pictures are computed one at a
time and cached.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from aip_cli._dashboard._play import GameLimits, PlayHub
from aip_cli._dashboard._security import PathRefused, SecurityMiddleware
from aip_cli._dashboard._store import CURVES, Store, check_run_id

__all__ = ["STATIC", "Settings", "create_app"]

STATIC = Path(__file__).parent / "static"
_MAX_BODY = 4096
_STREAM_PERIOD_S = 1.0
_STREAMS_PER_CLIENT = 8
_MAX_KEYS = 16


@dataclass(frozen=True)
class Settings:
    """What ``aip dashboard`` was started with.

    Attributes:
        tracking_uri: The MLflow store (``None``: aip's default).
        recordings: The game's recordings folder (``None``: none).
        token: The token every request must carry, or ``None`` (loopback only).
        allowed_hosts: Accepted ``Host`` header values, or ``None`` for any.
        mlflow_ui: The base URL of MLflow's UI for links (``None``: the store's own for a server).
        limits: The play limits.
    """

    tracking_uri: str | None
    recordings: Path | None
    token: str | None
    allowed_hosts: frozenset[str] | None
    mlflow_ui: str | None = None
    limits: GameLimits = field(default_factory=GameLimits)


class _Busy(Exception):
    """Too many heavy requests waiting."""


class _Heavy:
    """One heavy computation at a time, a short queue behind it, and a cache of results."""

    def __init__(self, waiting: int = 4, cached: int = 32) -> None:
        self._lock = asyncio.Lock()
        self._waiting = 0
        self._max_waiting = waiting
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._max_cached = cached

    async def run(self, key: str, work: Callable[[], Any]) -> Any:
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if self._waiting >= self._max_waiting:
            raise _Busy
        self._waiting += 1
        try:
            async with self._lock:
                if key not in self._cache:
                    self._cache[key] = await run_in_threadpool(work)
                    while len(self._cache) > self._max_cached:
                        self._cache.popitem(last=False)
                return self._cache[key]
        finally:
            self._waiting -= 1


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _client(request: Request | WebSocket) -> str:
    return request.client.host if request.client else "?"


def create_app(settings: Settings) -> Any:
    """The ASGI application, wrapped in the security middleware.

    Args:
        settings: What it serves and how it is protected.

    Returns:
        The application (give it to uvicorn).
    """
    store = Store(settings.tracking_uri)
    heavy = _Heavy()
    streams: dict[str, int] = {}
    policies: dict[str, Any] = {}
    policies_lock = threading.Lock()

    def mlflow_ui() -> str | None:
        if settings.mlflow_ui:
            return settings.mlflow_ui.rstrip("/")
        if store.uri.lower().startswith(("http://", "https://")):
            return store.uri.rstrip("/")
        return None

    def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                result = await handler(request)
            except PathRefused as exc:
                return _error(404, str(exc))
            except _Busy:
                return _error(429, "busy with other pictures; try again in a moment")
            except Exception as exc:  # every error a user can cause becomes a message, never a traceback
                return _error(*_classify(exc))
            return result if isinstance(result, Response) else JSONResponse(result)

        return endpoint

    # --- pages and facts ---------------------------------------------------------------------------

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    async def info(request: Request) -> Any:
        import aip_cli
        import aip_engine

        config = aip_engine.task_spec("play-v1").config
        store_status = await run_in_threadpool(_store_status, store)
        return {
            "version": aip_cli.__version__,
            "tracking_uri": store.uri,
            "store": store_status,
            "mlflow_ui": mlflow_ui(),
            "mlflow_ui_command": f"mlflow ui --backend-store-uri {store.uri} --port 5000",
            "recordings": str(settings.recordings) if settings.recordings else None,
            "tasks": list(aip_engine.tasks()),
            "bots": {role: list(aip_engine.bots(role)) for role in aip_engine.roles()},
            "events": list(aip_engine.EVENTS),
            "curves": list(CURVES),
            "arena": [config.arena_width, config.arena_height],
            "limits": {"games": settings.limits.games, "games_per_client": settings.limits.games_per_client},
        }

    # --- runs ---------------------------------------------------------------------------------------

    async def runs(request: Request) -> Any:
        found = await run_in_threadpool(store.runs)
        base = mlflow_ui()
        for run in found:
            run["mlflow_url"] = f"{base}/#/experiments/{run['experiment_id']}/runs/{run['run_id']}" if base else None
        return {"runs": found}

    def _keys(request: Request) -> list[str]:
        raw = request.query_params.get("keys", "")
        keys = [k for k in raw.split(",") if k] if raw else list(CURVES)
        if len(keys) > _MAX_KEYS or any(len(k) > 100 for k in keys):
            raise ValueError(f"at most {_MAX_KEYS} metric names of at most 100 characters")
        return keys

    async def metrics(request: Request) -> Any:
        run_id = check_run_id(request.path_params["run_id"])
        keys = _keys(request)
        history = await run_in_threadpool(store.history, run_id, keys)
        all_keys = await run_in_threadpool(store.metric_keys, run_id)
        return {"run_id": run_id, "metrics": history, "keys": all_keys}

    async def stream(request: Request) -> Response:
        ids = [check_run_id(r) for r in request.query_params.get("runs", "").split(",") if r]
        if not ids or len(ids) > 8:
            raise ValueError("name 1 to 8 runs: ?runs=ID,ID")
        keys = _keys(request)
        client = _client(request)
        if streams.get(client, 0) >= _STREAMS_PER_CLIENT:
            return _error(429, "too many live streams open from this address")

        async def events() -> AsyncIterator[bytes]:
            streams[client] = streams.get(client, 0) + 1
            last: dict[str, dict[str, int]] = {run_id: {} for run_id in ids}
            try:
                yield b"retry: 2000\n\n"
                while not await request.is_disconnected():
                    for run_id in ids:
                        new = await run_in_threadpool(store.history, run_id, keys, last[run_id])
                        status = await run_in_threadpool(store.run_status, run_id)
                        for key, points in new.items():
                            if points:
                                last[run_id][key] = int(points[-1][0])
                        payload = {"run_id": run_id, "status": status, "metrics": {k: v for k, v in new.items() if v}}
                        if payload["metrics"] or status != "RUNNING":
                            yield f"event: metrics\ndata: {json.dumps(payload)}\n\n".encode()
                    yield b": keep-alive\n\n"
                    await asyncio.sleep(_STREAM_PERIOD_S)
            finally:
                streams[client] = max(0, streams.get(client, 1) - 1)

        return StreamingResponse(events(), media_type="text/event-stream", headers={"x-accel-buffering": "no"})

    # --- replays ------------------------------------------------------------------------------------

    async def replays(request: Request) -> Any:
        run_id = check_run_id(request.path_params["run_id"])
        return {"run_id": run_id, "replays": await run_in_threadpool(store.replays, run_id)}

    async def replay(request: Request) -> Any:
        run_id = check_run_id(request.path_params["run_id"])
        name = request.path_params["name"]

        def load() -> Any:
            from aip_cli._dashboard._replays import replay_json
            from aip_ml.replays import load_replay

            return replay_json(load_replay(store.replay_file(run_id, name)))

        return await heavy.run(f"replay:{run_id}:{name}", load)

    async def recordings(request: Request) -> Any:
        from aip_cli._dashboard._replays import list_recordings

        return {
            "folder": str(settings.recordings),
            "recordings": await run_in_threadpool(list_recordings, settings.recordings),
        }

    async def recording(request: Request) -> Any:
        from aip_cli._dashboard._replays import recording_replay

        folder = settings.recordings
        if folder is None:
            raise PathRefused("no recordings folder")
        name = request.path_params["name"]
        stamp = _mtime(folder, name)
        return await heavy.run(f"recording:{name}:{stamp}", lambda: recording_replay(folder, name))

    # --- models and behaviour -----------------------------------------------------------------------

    async def models(request: Request) -> Any:
        return {"versions": await run_in_threadpool(store.models)}

    async def promote(request: Request) -> Any:
        body = await _json_body(request)
        from aip_cli._dashboard._models import promote_request

        return await heavy.run(f"promote:{id(body)}", lambda: promote_request(store.client(), body))

    def policy_file(reference: str) -> tuple[Any, Path]:
        from aip_ml.tracking import cached_policy, resolve_version

        info = resolve_version(store.client(), reference)
        with policies_lock:
            path = policies.get(info.reference)
            if path is None:
                path = cached_policy(store.uri, info.name, info.version)
                policies[info.reference] = path
        return info, path

    async def behaviour(request: Request) -> Any:
        import aip_engine
        from aip_cli._dashboard._behaviour import behaviour as pictures

        subject = request.query_params.get("of", "")
        task = request.query_params.get("task")
        episodes = _int_param(request, "episodes", 64, 1, 512)
        if subject.startswith("bot:"):
            bot = subject[4:]
            if task not in aip_engine.tasks():
                raise ValueError("a bot's pictures need ?task=TASK (a task of the bot's role)")
            role = aip_engine.task_spec(task).agents[0]
            return await heavy.run(
                f"bot:{bot}:{task}:{episodes}", lambda: pictures(task, role, bot=bot, episodes=episodes)
            )
        if not subject:
            raise ValueError("name what to picture: ?of=NAME/VERSION or ?of=bot:NAME&task=TASK")

        def work() -> Any:
            info, path = policy_file(subject)
            policy = aip_engine.load_policy(path, role=info.role)
            out = pictures(info.task, info.role, policy=policy, episodes=episodes)
            out["reference"] = info.reference
            return out

        info, _ = await run_in_threadpool(policy_file, subject)
        return await heavy.run(f"model:{info.reference}:{episodes}", work)

    # --- play ---------------------------------------------------------------------------------------

    def opponent_for(choice: str, role: str) -> Any:
        import aip_engine
        import aip_game

        if choice.startswith("bot:"):
            bot = choice[4:]
            if bot not in aip_engine.bots(role):
                raise ValueError(f"{bot!r} is not a {role} bot; the {role} bots are {', '.join(aip_engine.bots(role))}")
            return aip_game.BotOpponent(role, bot)
        info, path = policy_file(choice[6:])
        if info.role != role:
            raise ValueError(f"{info.reference} plays the {info.role}; your opponent must play the {role}")
        return aip_game.PolicyOpponent(info.reference, role, lambda: path)

    hub = PlayHub(opponent_for, settings.limits)

    async def play(ws: WebSocket) -> None:
        await ws.accept()
        await hub.serve(ws, _client(ws))

    async def play_stats(request: Request) -> Any:
        return {"games": hub.stats()}

    routes = [
        Route("/", index),
        Route("/api/info", guarded(info)),
        Route("/api/runs", guarded(runs)),
        Route("/api/runs/{run_id}/metrics", guarded(metrics)),
        Route("/api/stream", guarded(stream)),
        Route("/api/runs/{run_id}/replays", guarded(replays)),
        Route("/api/runs/{run_id}/replays/{name}", guarded(replay)),
        Route("/api/recordings", guarded(recordings)),
        Route("/api/recordings/{name}", guarded(recording)),
        Route("/api/models", guarded(models)),
        Route("/api/models/promote", guarded(promote), methods=["POST"]),
        Route("/api/behaviour", guarded(behaviour)),
        Route("/api/play/stats", guarded(play_stats)),
        WebSocketRoute("/api/play", play),
        Mount("/static", app=StaticFiles(directory=STATIC, follow_symlink=False), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    async def http_error(request: Request, exc: Exception) -> Response:
        # Starlette's own refusals (no such route, a method a route does not take, a bad range) as
        # JSON errors like every other answer of the API, with what is allowed.
        status = getattr(exc, "status_code", 500)
        detail = str(getattr(exc, "detail", "") or "")
        if status == 404:
            detail = f"no such page or API route: {request.url.path[:200]!r}"
        elif status == 405:
            allowed = dict(getattr(exc, "headers", None) or {}).get("Allow", "GET")
            detail = f"method {request.method[:20]!r} is not allowed here; allowed: {allowed}"
        return JSONResponse(
            {"error": detail or "bad request"}, status_code=status, headers=getattr(exc, "headers", None)
        )

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    app.state.hub = hub
    app.state.store = store
    return SecurityMiddleware(app, token=settings.token, allowed_hosts=settings.allowed_hosts)


def _store_status(store: Store) -> dict[str, Any]:
    from aip_ml.tracking import check_store

    status = check_store(store.uri, timeout_s=2.0)
    return {
        "location": status.location,
        "exists": status.exists,
        "reachable": status.reachable,
        "detail": status.detail,
    }


def _mtime(folder: Path, name: str) -> float:
    from aip_cli._dashboard._security import contained_file

    return contained_file(folder, name).stat().st_mtime


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"{name} must be a whole number in [{low}, {high}]")
    return int(raw)


async def _json_body(request: Request) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ValueError("send JSON (content-type: application/json)")
    size = request.headers.get("content-length")
    if size is None or not size.isdigit() or int(size) > _MAX_BODY:
        raise _TooLarge
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BODY:
            raise _TooLarge
    try:
        return json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("the body is JSON nested too deeply") from None
    except ValueError:
        raise ValueError("the body is not JSON (UTF-8, no NaN or Infinity)") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _TooLarge(Exception):
    """A request body past the limit."""


def _classify(exc: Exception) -> tuple[int, str]:
    from aip_cli._errors import CliError
    from aip_ml.tracking import ModelNotFoundError, StoreUnavailableError, TrackingError

    if isinstance(exc, _TooLarge):
        return 413, f"request bodies are at most {_MAX_BODY} bytes (with a content-length)"
    if isinstance(exc, ModelNotFoundError):
        return 404, str(exc)
    if isinstance(exc, StoreUnavailableError):
        return 503, str(exc)
    if isinstance(exc, (TrackingError, CliError, ValueError, KeyError)):
        return 400, str(exc).strip("'\"")
    return 500, f"unexpected {type(exc).__name__}: {exc}"
