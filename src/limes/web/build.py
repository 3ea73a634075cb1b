"""Build the map's front end (web/ at the repository root) into `limes/web/static/`.

`python -m limes.web.build` runs `npm ci` and the build (type check, then bundle) only when the
sources changed since the last build: a hash of every source file, the package files and the
lock file is kept next to the bundle as `.build-stamp`. The built bundle is part of the
package, so a machine without node installs and runs limes without building anything.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from limes.errors import WebError

STATIC = Path(__file__).parent / "static"
STAMP = STATIC / ".build-stamp"
#: What a build depends on, relative to web/.
INPUTS = ("package.json", "package-lock.json", "tsconfig.json", "build.mjs", "src")
OUTPUTS = ("index.html", "app.js", "app.css", "images/layers.png", "images/layers-2x.png")


class BuildError(WebError):
    """The front end could not be built; the message says what to do."""


def find_web_dir() -> Path | None:
    """The web/ source folder of a source checkout (None in an installed package)."""
    root = Path(__file__).resolve().parents[3]
    web = root / "web"
    return web if (web / "package.json").is_file() else None


def source_hash(web: Path) -> str:
    """SHA-256 over the names and bytes of every build input, in a stable order."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for name in INPUTS:
        path = web / name
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            files.append(path)
    for f in files:
        digest.update(f.relative_to(web).as_posix().encode() + b"\0")
        digest.update(f.read_bytes() + b"\0")
    return digest.hexdigest()


def is_current(web: Path, static: Path = STATIC) -> bool:
    """Whether the built bundle matches the sources (stamp equal, outputs present)."""
    stamp = static / ".build-stamp"
    if not stamp.is_file() or not all((static / o).is_file() for o in OUTPUTS):
        return False
    return stamp.read_text().strip() == source_hash(web)


def _run(cmd: list[str], cwd: Path) -> None:
    try:
        subprocess.run(cmd, cwd=cwd, check=True)
    except FileNotFoundError:
        raise BuildError(
            f"{cmd[0]} is not installed: install node and npm (Debian: apt-get install nodejs npm)"
        ) from None
    except subprocess.CalledProcessError as exc:
        raise BuildError(f"`{' '.join(cmd)}` failed in {cwd} (exit {exc.returncode})") from None


def build(web: Path, *, force: bool = False, static: Path = STATIC) -> bool:
    """Build when the sources changed (or `force`); returns whether a build ran."""
    if not force and is_current(web, static):
        return False
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError(
            "the map's sources changed but npm is not installed: install node and npm "
            "(Debian: apt-get install nodejs npm) and run `python -m limes.web.build`"
        )
    # npm ci installs exactly the lock file (and nothing from a CDN at run time, ever).
    _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], web)
    _run([npm, "run", "--silent", "build"], web)
    static.mkdir(parents=True, exist_ok=True)
    (static / ".build-stamp").write_text(source_hash(web) + "\n")
    return True


def main(argv: list[str] | None = None) -> int:
    """Command line: build if needed; `--force` always; `--check` only says if it is current."""
    parser = argparse.ArgumentParser(prog="python -m limes.web.build", description=__doc__)
    parser.add_argument("--force", action="store_true", help="build even when current")
    parser.add_argument("--check", action="store_true", help="exit 1 when a build is needed")
    args = parser.parse_args(argv)
    web = find_web_dir()
    if web is None:
        print("no web/ sources here (installed package): the built map is used as shipped")
        return 0
    if args.check:
        current = is_current(web)
        print("map bundle is current" if current else "map bundle is out of date")
        return 0 if current else 1
    try:
        ran = build(web, force=args.force)
    except BuildError as exc:
        print(f"limes.web.build: {exc}", file=sys.stderr)
        return 1
    print("map built into " + str(STATIC) if ran else "map bundle is current")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
