"""Sphinx configuration of the AIP documentation (MyST Markdown, furo theme; built with -W)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

project = "AIP"
author = "the AIP developers"
copyright = "2026, the AIP developers"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]

# --- MyST -----------------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "fieldlist", "attrs_inline"]
myst_heading_anchors = 3
# The contract pages (rules.md, engine-api.md) are also read on GitHub, where headings start wherever
# the page needs; that is not an error here.
suppress_warnings = ["myst.header"]
# A short name in a docstring ("Raises: ConfigError") can match the same class under its public and its
# canonical (private module) path, or two packages' errors of the same name; the link goes to the first.
suppress_warnings.append("ref.python")

# --- autodoc --------------------------------------------------------------------------------------
# The four packages are documented from the installed code. A heavy third-party library that is not
# installed is mocked so that the pages still build (a docs-only environment without torch).
autodoc_mock_imports = [m for m in ("torch", "mlflow", "pygame", "optuna") if importlib.util.find_spec(m) is None]
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
# "Attributes:" sections as fields of the class, not as separate entries that autodoc would repeat
# (NamedTuple and dataclass fields are also documented as members).
napoleon_use_ivar = True
MISSING_PACKAGES = [m for m in ("aip_engine", "aip_game", "aip_ml", "aip_cli") if importlib.util.find_spec(m) is None]
if MISSING_PACKAGES:
    # A package that is not installed gets an empty API page instead of a failed build; the docs
    # environment (tox -e docs, tools/dev.py docs) installs all four.
    print(f"docs: not installed, API pages left empty: {', '.join(MISSING_PACKAGES)}", file=sys.stderr)
    suppress_warnings.append("autodoc.import_object")

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

# --- HTML -----------------------------------------------------------------------------------------
html_theme = "furo"
html_title = "AIP: AI Platform Trainer"
html_static_path = ["_static"]
html_theme_options = {"navigation_with_keys": True}


# --- the changelogs page --------------------------------------------------------------------------
CHANGELOG_MARKER = "<!-- the changelogs are inserted here by conf.py -->"


def _insert_changelogs(app: object, docname: str, source: list[str]) -> None:
    """Fill changelog.md with each package's CHANGELOG.md (a package without one says so)."""
    if docname != "changelog":
        return
    parts = []
    for package in ("aip-engine", "aip-game", "aip-ml", "aip-cli"):
        if (ROOT / "packages" / package / "CHANGELOG.md").is_file():
            parts.append(f"```{{include}} ../packages/{package}/CHANGELOG.md\n:heading-offset: 1\n```\n")
        else:
            parts.append(f"## {package}\n\nNo changelog yet.\n")
    source[0] = source[0].replace(CHANGELOG_MARKER, "\n".join(parts))


def setup(app: object) -> None:
    app.connect("source-read", _insert_changelogs)  # type: ignore[attr-defined]
