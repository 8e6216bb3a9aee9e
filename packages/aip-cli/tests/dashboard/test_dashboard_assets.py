"""The dashboard's files: vendored libraries match their pinned checksums; pages load only our own scripts."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

from aip_cli._dashboard._app import STATIC

ROOT = Path(__file__).resolve().parents[4]


def test_vendored_files_match_the_manifest() -> None:
    tool = runpy.run_path(str(ROOT / "tools" / "vendor_assets.py"))
    assert tool["check"]() == []


def test_pages_have_no_inline_script_and_every_module_exists() -> None:
    html = (STATIC / "index.html").read_text()
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert re.search(r"\son[a-z]+=", html) is None  # no inline event handlers either
    for js in (STATIC / "js").glob("*.js"):
        for target in re.findall(r'from "(\.[^"]+)"', js.read_text()):
            assert (js.parent / target).resolve().is_file(), f"{js.name} imports {target}, which is missing"
        assert "innerHTML" not in js.read_text(), f"{js.name} must build the page from text, not HTML"
