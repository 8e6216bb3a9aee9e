#!/usr/bin/env python3
"""The dashboard's third-party web files: check them, or fetch them again from the npm registry.

The files live in ``packages/aip-cli/src/aip_cli/_dashboard/static/vendor/`` and are listed, pinned,
in ``ASSETS.json`` there: each npm package's version and registry integrity (``sha512``), and the
SHA-256 of every file taken from it. Nothing is downloaded at run time.

    python3 tools/vendor_assets.py --check   # every file matches its checksum (offline; the tests run it)
    python3 tools/vendor_assets.py --fetch   # npm pack each package, verify it, extract the files again

To move to a new version: change ``version`` in ASSETS.json, run ``--fetch --update`` (it records the new
integrity and checksums), read the package's changelog, and commit the files with the manifest.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "packages" / "aip-cli" / "src" / "aip_cli" / "_dashboard" / "static" / "vendor"
MANIFEST = VENDOR / "ASSETS.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check() -> list[str]:
    """Return the problems found (empty when every vendored file matches the manifest)."""
    manifest = json.loads(MANIFEST.read_text())
    problems = []
    for package in manifest["packages"]:
        for source, spec in package["files"].items():
            path = VENDOR / spec["to"]
            if not path.is_file():
                problems.append(f"{path.relative_to(ROOT)} is missing ({package['name']} {source})")
            elif sha256(path) != spec["sha256"]:
                problems.append(f"{path.relative_to(ROOT)} does not match its checksum in ASSETS.json")
    return problems


def fetch(update: bool) -> None:
    """Download each package with ``npm pack``, verify its integrity, and extract the listed files."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to fetch the files (apt-get install npm)")
    manifest = json.loads(MANIFEST.read_text())
    for package in manifest["packages"]:
        spec = f"{package['name']}@{package['version']}"
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([npm, "pack", spec, "--json"], cwd=tmp, check=True, capture_output=True, text=True)
            info = json.loads(out.stdout)[0]
            tarball = Path(tmp) / info["filename"]
            digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
            if digest != info["integrity"]:
                raise SystemExit(f"{spec}: the tarball does not match the registry's integrity")
            if digest != package["integrity"] and not update:
                raise SystemExit(f"{spec}: integrity {digest} differs from ASSETS.json (pass --update to accept it)")
            package["integrity"] = digest
            with tarfile.open(tarball) as archive:
                for source, target in package["files"].items():
                    member = archive.extractfile(source)
                    if member is None:
                        raise SystemExit(f"{spec} has no file {source}")
                    data = member.read()
                    checksum = hashlib.sha256(data).hexdigest()
                    if checksum != target["sha256"] and not update:
                        raise SystemExit(f"{spec}: {source} differs from its checksum (pass --update to accept it)")
                    target["sha256"] = checksum
                    path = VENDOR / target["to"]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
            print(f"{spec}: {len(package['files'])} files verified and written")
    if update:
        MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="verify the vendored files against ASSETS.json")
    group.add_argument("--fetch", action="store_true", help="fetch the pinned packages from npm and extract them")
    parser.add_argument("--update", action="store_true", help="with --fetch: record new integrity and checksums")
    args = parser.parse_args()
    if args.fetch:
        fetch(args.update)
    problems = check()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print("vendored files: all match ASSETS.json")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
