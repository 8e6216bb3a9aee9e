"""Errors raised by the tracking and registry layer.

Every error carries a message that says what was wrong and what to do; the ``aip`` command prints it as
one line and maps the class to an exit code.
"""

from __future__ import annotations

__all__ = [
    "ExportExistsError",
    "ModelNotFoundError",
    "PromotionRefusedError",
    "StoreUnavailableError",
    "TrackingError",
]


class TrackingError(Exception):
    """Base class of every error of :mod:`aip_ml.tracking`."""


class StoreUnavailableError(TrackingError):
    """The tracking store cannot be reached or opened (server down, unreadable database)."""


class ModelNotFoundError(TrackingError, LookupError):
    """A registered model, version or alias does not exist in the store."""


class ExportExistsError(TrackingError, FileExistsError):
    """The export target exists already; nothing is overwritten without ``overwrite=True``."""


class PromotionRefusedError(TrackingError):
    """The candidate does not beat the current champion (and promotion was not forced)."""
