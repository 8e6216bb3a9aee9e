"""Exit codes and the translation of library errors into one clear line each."""

from __future__ import annotations

import enum

__all__ = ["EXIT_CODES_HELP", "CliError", "ExitCode", "classify"]


class ExitCode(enum.IntEnum):
    """The exit statuses of ``aip`` (also listed in ``aip --help``)."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    NOT_FOUND = 3
    REFUSED = 4
    UNAVAILABLE = 5
    INTERRUPTED = 130


EXIT_CODES_HELP = """\
\b
Exit codes:
  0    ok
  1    failure: the work itself failed (or doctor found a problem)
  2    usage or bad input: unknown option, task, bot or config key; bad value
  3    not found: model, version, alias, file, run to resume, tracking store
  4    refused: promotion not better than the champion; export target exists (see --force)
  5    unavailable: tracking server not answering, engine not built, no repository checkout
  130  interrupted (Ctrl-C); a training can be resumed with --resume

"""


class CliError(Exception):
    """An error to report to the user as one line, with an exit code.

    Args:
        message: What was wrong and what to do.
        code: The exit status.
    """

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILURE) -> None:
        super().__init__(message)
        self.code = code


def _named(exc: BaseException, *names: str) -> bool:
    """Whether ``exc`` is an instance of a class (or base) with one of these names."""
    return any(cls.__name__ in names for cls in type(exc).__mro__)


def classify(exc: BaseException) -> tuple[ExitCode, str] | None:
    """The exit code and message for an error a user can cause, or ``None`` for a bug.

    Classes are matched by name so that this module imports none of the libraries.

    Args:
        exc: The exception.

    Returns:
        ``(code, message)``, or ``None`` when the error is unexpected.
    """
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        message = exc.args[0]  # KeyError's str() adds quotes
    if isinstance(exc, CliError):
        return exc.code, message
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED, "interrupted"
    if _named(exc, "ModelNotFoundError"):
        return ExitCode.NOT_FOUND, message
    if _named(exc, "ExportExistsError", "PromotionRefusedError"):
        return ExitCode.REFUSED, message
    if _named(exc, "StoreUnavailableError", "BackendError"):
        return ExitCode.UNAVAILABLE, message
    if _named(exc, "TrackingError"):
        return ExitCode.USAGE, message
    if _named(exc, "UnknownNameError", "ConfigError", "ShapeError", "ActionError"):
        return ExitCode.USAGE, message
    if _named(exc, "ConfigValueError", "ConfigKeyError", "ConfigFileError", "InvalidConfigError"):
        return ExitCode.USAGE, message
    if _named(exc, "PolicyError", "PolicyFormatError", "PolicyLoadError", "LayoutMismatchError"):
        return ExitCode.USAGE, message
    if isinstance(exc, NotImplementedError):
        return ExitCode.USAGE, f"not supported: {message}"
    if isinstance(exc, FileNotFoundError):
        name = exc.filename or message
        return ExitCode.NOT_FOUND, f"file not found: {name}"
    if isinstance(exc, FileExistsError):
        return ExitCode.REFUSED, message
    if _named(exc, "RunDirError"):
        return ExitCode.USAGE, message
    if _named(exc, "LeagueRecordError"):
        return ExitCode.FAILURE, message
    if _named(exc, "CheckpointError"):
        return ExitCode.FAILURE, message
    if _named(exc, "MlflowException"):
        return ExitCode.FAILURE, f"tracking store: {getattr(exc, 'message', message)}"
    return None
