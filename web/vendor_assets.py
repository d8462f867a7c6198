#!/usr/bin/env python3
"""Install the pinned front-end packages and copy their files into ``web/static/vendor/``.

The app serves every script, stylesheet and image its maps need from ``/static/vendor``, so
pages work without internet access. Versions are pinned in ``web/package.json`` and
``web/package-lock.json``; this script runs ``npm ci --no-audit --no-fund`` in ``web/`` and
copies the files listed in :data:`FILES`. It is idempotent: a stamp file records the hash of
the lock file and of the file list, and nothing is done while it matches and every file exists.

Usage::

    python3 web/vendor_assets.py           # install and copy when needed
    python3 web/vendor_assets.py --force   # always reinstall and copy
    python3 web/vendor_assets.py --check   # exit 1 when the vendor folder is stale

Only the standard library is used, so ``make web-assets`` can run before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
NODE_MODULES = WEB_DIR / "node_modules"
VENDOR_DIR = WEB_DIR / "static" / "vendor"
STAMP = VENDOR_DIR / ".stamp"
LOCK = WEB_DIR / "package-lock.json"

#: Destination under ``web/static/vendor/`` -> source under ``web/node_modules/``.
#: ``geo_ssgp.maps.VENDOR_ASSETS`` names the subset that Folium elements link to; the CSS files
#: refer to the images beside them with relative ``url(images/...)``.
FILES: dict[str, str] = {
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.js.map": "leaflet/dist/leaflet.js.map",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images/layers.png": "leaflet/dist/images/layers.png",
    "leaflet/images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
    "leaflet/images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
    "leaflet/LICENSE": "leaflet/LICENSE",
    "leaflet.markercluster/leaflet.markercluster.js": (
        "leaflet.markercluster/dist/leaflet.markercluster.js"
    ),
    "leaflet.markercluster/leaflet.markercluster.js.map": (
        "leaflet.markercluster/dist/leaflet.markercluster.js.map"
    ),
    "leaflet.markercluster/MarkerCluster.css": "leaflet.markercluster/dist/MarkerCluster.css",
    "leaflet.markercluster/MarkerCluster.Default.css": (
        "leaflet.markercluster/dist/MarkerCluster.Default.css"
    ),
    "leaflet.markercluster/MIT-LICENCE.txt": "leaflet.markercluster/MIT-LICENCE.txt",
    "leaflet-draw/leaflet.draw.js": "leaflet-draw/dist/leaflet.draw.js",
    "leaflet-draw/leaflet.draw.css": "leaflet-draw/dist/leaflet.draw.css",
    "leaflet-draw/images/spritesheet.png": "leaflet-draw/dist/images/spritesheet.png",
    "leaflet-draw/images/spritesheet-2x.png": "leaflet-draw/dist/images/spritesheet-2x.png",
    "leaflet-draw/images/spritesheet.svg": "leaflet-draw/dist/images/spritesheet.svg",
    "jquery/jquery.min.js": "jquery/dist/jquery.min.js",
    "jquery/LICENSE.txt": "jquery/LICENSE.txt",
    # The API documentation page (/docs) served offline.
    "swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui/favicon-32x32.png": "swagger-ui-dist/favicon-32x32.png",
    "swagger-ui/LICENSE": "swagger-ui-dist/LICENSE",
}


def fingerprint() -> str:
    """Hash of the lock file and the file list: the vendor folder is current when it matches."""
    digest = hashlib.sha256(LOCK.read_bytes())
    digest.update(json.dumps(FILES, sort_keys=True).encode())
    return digest.hexdigest()


def is_current() -> bool:
    """Whether the stamp matches :func:`fingerprint` and every vendor file exists."""
    if not STAMP.is_file() or STAMP.read_text().strip() != fingerprint():
        return False
    return all((VENDOR_DIR / dest).is_file() for dest in FILES)


def npm_ci() -> None:
    """Run ``npm ci`` in ``web/`` (clean install exactly as pinned by the lock file)."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "npm was not found: install Node.js 20 and npm, then run `make web-assets`"
        )
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB_DIR, check=True)


def copy_files() -> None:
    """Copy :data:`FILES` from ``node_modules`` into the vendor folder, replacing old copies."""
    missing = [src for src in FILES.values() if not (NODE_MODULES / src).is_file()]
    if missing:
        raise SystemExit(f"npm ci did not produce: {', '.join(missing)}")
    for entry in VENDOR_DIR.iterdir():
        if entry.name not in {".lock", ".stamp"}:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for dest, src in FILES.items():
        target = VENDOR_DIR / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE_MODULES / src, target)


@contextlib.contextmanager
def locked():
    """Hold an exclusive lock so parallel test workers do not install at the same time."""
    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    with open(VENDOR_DIR / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(force: bool = False) -> bool:
    """Install and copy the assets unless they are current.

    Parameters
    ----------
    force : bool
        Reinstall and copy even when the stamp matches.

    Returns
    -------
    bool
        True when files were (re)installed, False when they were already current.
    """
    with locked():
        if not force and is_current():
            os.utime(STAMP)
            return False
        STAMP.unlink(missing_ok=True)
        npm_ci()
        copy_files()
        STAMP.write_text(fingerprint() + "\n")
        return True


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="reinstall even when current")
    parser.add_argument("--check", action="store_true", help="only report whether current")
    args = parser.parse_args(argv)
    if args.check:
        current = is_current()
        print(f"{VENDOR_DIR}: {'current' if current else 'stale or missing'}")
        return 0 if current else 1
    changed = build(force=args.force)
    print(f"{VENDOR_DIR}: {'installed' if changed else 'already current'} ({len(FILES)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
