"""tools/release.py: tag parsing, wheel metadata checks and the changelog collector (no builds here)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import types
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def release() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("aip_release_tool", ROOT / "tools" / "release.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def repo(tmp_path: Path, release: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with aip-engine 0.3.0 and aip-game 0.2.0."""
    for name, version in (("aip-engine", "0.3.0"), ("aip-game", "0.2.0")):
        folder = tmp_path / "packages" / name
        folder.mkdir(parents=True)
        (folder / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "{version}"\n')
    monkeypatch.setattr(release, "ROOT", tmp_path)
    return tmp_path


def make_wheel(path: Path, name: str, version: str, requires: list[str], files: list[str]) -> Path:
    module = name.replace("-", "_")
    wheel = path / f"{module}-{version}-py3-none-any.whl"
    lines = [
        "Metadata-Version: 2.4",
        f"Name: {name}",
        f"Version: {version}",
        "Requires-Python: >=3.11",
        *(f"Requires-Dist: {r}" for r in requires),
    ]
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{module}-{version}.dist-info/METADATA", "\n".join(lines) + "\n")
        for file in files:
            archive.writestr(file, "")
    return wheel


def test_tag_names_package_and_version(release: types.ModuleType, repo: Path) -> None:
    assert release.parse_tag("aip-game-v0.2.0") == ("aip-game", "0.2.0")
    assert release.parse_tag("refs/tags/aip-engine-v0.3.0") == ("aip-engine", "0.3.0")


@pytest.mark.parametrize("tag", ["aip-game-0.2.0", "game-v0.2.0", "aip-gui-v1.0.0", "aip-game-v0.2"])
def test_malformed_tags_are_refused(release: types.ModuleType, repo: Path, tag: str) -> None:
    with pytest.raises(release.ReleaseError, match="not of the form"):
        release.parse_tag(tag)


def test_tag_must_match_the_package_version(release: types.ModuleType, repo: Path) -> None:
    with pytest.raises(release.ReleaseError, match=r"pyproject\.toml says 0\.2\.0"):
        release.parse_tag("aip-game-v0.2.1")


def test_a_good_wheel_passes(release: types.ModuleType, repo: Path, tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path,
        "aip-game",
        "0.2.0",
        ["aip-engine>=0.3,<0.4", "pygame>=2.5"],
        ["aip_game/__init__.py", "aip_game/py.typed"],
    )
    assert release.check_wheel("aip-game", wheel, {"aip-engine": "0.3.0", "aip-game": "0.2.0"}) == []


@pytest.mark.parametrize(
    ("requirement", "problem"),
    [
        ("aip-engine @ file:///src/packages/aip-engine", "URL or path"),
        ("aip-engine", "both bounds"),
        ("aip-engine>=0.3", "both bounds"),
        ("aip-engine==0.3.0", "both bounds"),
        ("aip-engine>=0.1,<0.2", "excludes the aip-engine 0.3.0"),
        ("torch>=2", "without torch"),
    ],
)
def test_bad_requirements_are_reported(
    release: types.ModuleType, repo: Path, tmp_path: Path, requirement: str, problem: str
) -> None:
    wheel = make_wheel(tmp_path, "aip-game", "0.2.0", [requirement], ["aip_game/__init__.py", "aip_game/py.typed"])
    problems = release.check_wheel("aip-game", wheel, {"aip-engine": "0.3.0"})
    assert any(problem in p for p in problems), problems


def test_wrong_version_missing_py_typed_and_junk_are_reported(
    release: types.ModuleType, repo: Path, tmp_path: Path
) -> None:
    wheel = make_wheel(tmp_path, "aip-game", "0.1.9", [], ["aip_game/__init__.py", "aip_game/__pycache__/x.pyc"])
    problems = " | ".join(release.check_wheel("aip-game", wheel, {}))
    assert "differs from pyproject.toml's 0.2.0" in problems
    assert "py.typed is missing" in problems
    assert "must not ship" in problems


def write_fragments(repo: Path, fragments: dict[str, str]) -> Path:
    folder = repo / "packages" / "aip-game" / "changelog.d"
    folder.mkdir()
    for name, text in fragments.items():
        (folder / name).write_text(text)
    return folder


def test_changelog_collects_fragments_by_type_and_removes_them(release: types.ModuleType, repo: Path) -> None:
    changelog = repo / "packages" / "aip-game" / "CHANGELOG.md"
    changelog.write_text("# Changelog of aip-game\n\n## 0.1.0 (2026-01-01)\n\n- First release.\n")
    folder = write_fragments(
        repo,
        {
            "12.fixed.md": "The pause key works\nin fullscreen.\n",
            "mods.added.md": "Mods can add sounds.",
            "README.md": "x",
        },
    )
    section = release.collect_changelog("aip-game", "0.2.0", draft=False, today=dt.date(2026, 11, 24))
    assert section.startswith("## 0.2.0 (2026-11-24)")
    text = changelog.read_text()
    assert text.index("## 0.2.0") < text.index("## 0.1.0")
    assert "### Added\n\n- Mods can add sounds." in text
    assert "### Fixed\n\n- The pause key works in fullscreen." in text
    assert sorted(p.name for p in folder.iterdir()) == ["README.md"]


def test_changelog_replaces_an_unreleased_section_of_the_same_version(release: types.ModuleType, repo: Path) -> None:
    changelog = repo / "packages" / "aip-game" / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## 0.2.0 (unreleased)\n\n- Written by hand.\n")
    write_fragments(repo, {"a.changed.md": "Faster."})
    release.collect_changelog("aip-game", "0.2.0", draft=False, today=dt.date(2026, 11, 24))
    text = changelog.read_text()
    assert "unreleased" not in text
    assert "### Changed\n\n- Faster." in text and "- Written by hand." in text
    with pytest.raises(release.ReleaseError, match="already has a released section"):
        release.collect_changelog("aip-game", "0.2.0", draft=False)


def test_draft_changes_nothing_and_bad_fragment_names_are_refused(release: types.ModuleType, repo: Path) -> None:
    folder = write_fragments(repo, {"x.fixed.md": "A fix."})
    section = release.collect_changelog("aip-game", "0.2.0", draft=True)
    assert "- A fix." in section
    assert (folder / "x.fixed.md").exists()
    assert not (repo / "packages" / "aip-game" / "CHANGELOG.md").exists()
    (folder / "oops.md").write_text("no type")
    with pytest.raises(release.ReleaseError, match=r"<name>\.<type>\.md"):
        release.collect_changelog("aip-game", "0.2.0", draft=True)
