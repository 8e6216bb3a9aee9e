"""The ``aip dashboard`` command: options, the token, the address it prints, the server."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import typer

from aip_cli._common import TRACKING_OPTION
from aip_cli._errors import CliError, ExitCode
from aip_cli._output import console

__all__ = ["DEFAULT_PORT", "allowed_hosts", "register"]

DEFAULT_PORT = 8765
_EXTRA = "pip install 'aip-cli[dashboard]'"


def allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """The Host header values to accept: the loopback names with the port, or any for other addresses.

    Args:
        host: The address bound.
        port: The port bound.

    Returns:
        The accepted values, or ``None`` (any: the token protects).
    """
    from aip_cli._dashboard._security import is_loopback

    if not is_loopback(host):
        return None
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        hint = " (another dashboard?); choose another with --port, or --port 0 for any free one" if port else ""
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}", ExitCode.USAGE) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _is_http_url(text: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


_RECORDINGS = typer.Option(
    None, "--recordings", metavar="DIR", help="The game's recordings folder [default: the game's own]."
)


def dashboard_command(
    host: str = typer.Option(
        "127.0.0.1", "--host", metavar="ADDRESS", help="Address to listen on; any other than loopback needs a token."
    ),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=0, max=65535, help="Port (0: any free one)."),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="AIP_DASHBOARD_TOKEN",
        show_envvar=True,
        metavar="TEXT",
        help="The token every request must carry [default: none on 127.0.0.1; generated on other addresses].",
    ),
    recordings: Path | None = _RECORDINGS,
    mlflow_ui: str | None = typer.Option(
        None, "--mlflow-ui", metavar="URL", help="MLflow's UI, for links [default: the store's server, if any]."
    ),
    max_games: int = typer.Option(8, "--max-games", min=1, max=64, help="Games in the browser at once, in all."),
    tracking_uri: str | None = TRACKING_OPTION,
) -> None:
    """Serve the web dashboard: live runs, replays, behaviour pictures, models, and play in the browser.

    It prints its address and opens nothing. It listens on 127.0.0.1 unless --host says otherwise;
    on another address every request needs the token it prints (or --token). For a remote machine,
    prefer an SSH tunnel: ssh -L 8765:127.0.0.1:8765 HOST, then open http://127.0.0.1:8765/ here.
    Ctrl-C stops it.
    """
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise CliError(
            f"the dashboard needs its web libraries ({exc.name} is missing): {_EXTRA}", ExitCode.USAGE
        ) from None
    from aip_cli._dashboard._app import Settings, create_app
    from aip_cli._dashboard._play import GameLimits
    from aip_cli._dashboard._security import is_loopback, new_token
    from aip_ml.tracking import resolve_tracking_uri

    if mlflow_ui is not None and not _is_http_url(mlflow_ui):
        raise CliError(
            f"--mlflow-ui must be the http:// or https:// address of MLflow's UI (e.g. http://127.0.0.1:5000), "
            f"got {mlflow_ui!r}",
            ExitCode.USAGE,
        )
    uri = resolve_tracking_uri(tracking_uri)
    if token is not None and len(token) < 16:
        raise CliError("--token must be at least 16 characters (or leave it out to have one generated)", ExitCode.USAGE)
    if token is None and not is_loopback(host):
        token = new_token()
    if recordings is None:
        from aip_game.recording import default_folder

        recordings = default_folder()
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    settings = Settings(
        tracking_uri=uri,
        recordings=recordings,
        token=token,
        allowed_hosts=allowed_hosts(host, bound),
        mlflow_ui=mlflow_ui,
        limits=GameLimits(games=max_games),
    )
    app = create_app(settings)
    address = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{bound}/"
    console.print(f"AIP dashboard: {address}{'?token=' + token if token else ''}", markup=False, soft_wrap=True)
    console.print(f"  tracking store {uri}", markup=False, soft_wrap=True)
    console.print(f"  recordings     {recordings}", markup=False, soft_wrap=True)
    if host in ("0.0.0.0", "::"):
        console.print(
            f"  listening on every address of this machine (port {bound}); the token is required", markup=False
        )
    console.print("Ctrl-C stops it.", markup=False)
    config = uvicorn.Config(
        app,
        log_level=os.environ.get("AIP_DASHBOARD_LOG", "warning"),
        access_log=False,
        ws="websockets-sansio" if _has_sansio() else "websockets",
        ws_max_size=4096,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        limit_concurrency=256,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=16 * 1024,
        server_header=False,
        date_header=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def _has_sansio() -> bool:
    import importlib.util

    return importlib.util.find_spec("uvicorn.protocols.websockets.websockets_sansio_impl") is not None


def register(app: typer.Typer) -> None:
    """Add ``aip dashboard`` to ``app``.

    Args:
        app: The root command.
    """
    app.command("dashboard")(dashboard_command)
