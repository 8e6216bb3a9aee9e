"""Options of the cross-package tests."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="rewrite tests/api_snapshots/*.txt from the installed packages (a deliberate API change)",
    )
