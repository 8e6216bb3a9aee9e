"""The ``aip`` command: the root group, its error handling and its sub-commands."""

from __future__ import annotations

import os
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from aip_cli._errors import EXIT_CODES_HELP, ExitCode, classify
from aip_cli._output import error_console

__all__ = ["app", "main", "models_app"]


def _debug() -> bool:
    return os.environ.get("AIP_DEBUG", "") not in ("", "0")


class AipGroup(TyperGroup):
    """The root group: turns errors a user can cause into one line and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        """Run the sub-command, reporting errors as ``aip: error: ...`` with their exit code."""
        try:
            return super().invoke(ctx)
        except (TyperException, typer.Exit, typer.Abort):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            found = classify(exc)
            if found is None:
                if _debug():
                    raise
                found = (
                    ExitCode.FAILURE,
                    f"unexpected {type(exc).__name__}: {exc} (set AIP_DEBUG=1 to see the traceback)",
                )
            code, message = found
            error_console.print(f"aip: error: {message}", markup=False)
            ctx.exit(int(code))


_HELP = """\
AIP: train, evaluate and play against Pixel Pursuit agents.

A typical session:

\b
  aip train chase-v1 total_steps=200000     # train; progress, then how to play against it
  aip tune chase-v1 --timeout 1200          # search hyperparameters (Optuna); writes a best.toml
  aip models list                           # the registered versions, their scores and aliases
  aip models promote chase-v1-enemy/2       # make it @champion if it beats the current one
  aip play --opponent chase-v1-enemy@champion
  aip replay FILE.aiprec                    # watch a recorded game again (the game's recordings/)
  aip eval chase-v1-enemy@champion --episodes 100
  aip eval bot:intercept --task chase-v1    # the scripted baseline, same episodes
  aip dashboard                             # the web dashboard: live runs, replays, play in the browser

Runs and models go to an MLflow store: mlflow.db and mlartifacts/ in the current folder by default;
--tracking-uri or MLFLOW_TRACKING_URI selects another (e.g. http://127.0.0.1:5000). Browse it with
`mlflow ui --backend-store-uri sqlite:///mlflow.db`. Every command takes --help and most take --json
(one JSON document on stdout, for scripts). Set AIP_DEBUG=1 to see tracebacks of unexpected errors.
"""

app = typer.Typer(
    name="aip",
    cls=AipGroup,
    help=_HELP,
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)

models_app = typer.Typer(
    name="models",
    help=(
        "The model registry: list versions with scores and aliases, show one, promote one to "
        "@champion, export a policy file. Models are named TASK-ROLE (e.g. chase-v1-enemy); a "
        "reference is NAME (its champion, else its latest version), NAME/VERSION or NAME@ALIAS."
    ),
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
app.add_typer(models_app, name="models")


def _version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            text = version("aip-cli")
        except PackageNotFoundError:
            text = "unknown (not installed)"
        typer.echo(f"aip {text}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """AIP: train, evaluate and play against Pixel Pursuit agents."""


def _register() -> None:
    # Command modules import only light things at import time; heavy libraries load inside commands.
    from aip_cli import _bench, _dashboard, _demos, _doctor, _eval, _league, _models, _play, _replay, _train, _tune

    _train.register(app)
    _tune.register(app)
    _eval.register(app)
    _play.register(app)
    _replay.register(app)
    _models.register(models_app)
    _bench.register(app)
    _league.register(app)
    _doctor.register(app)
    _dashboard.register(app)
    _demos.register(app)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run ``aip`` with ``argv`` (default: the process's arguments) and return its exit status.

    Args:
        argv: The arguments after the program name.

    Returns:
        The exit status.
    """
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="aip", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    return 0
