"""The front-end build: the committed bundle matches the sources, and the hash stamp says when
a rebuild is due."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from limes.web.build import OUTPUTS, STATIC, find_web_dir, is_current, main, source_hash


def test_the_committed_bundle_is_built_from_the_committed_sources() -> None:
    web = find_web_dir()
    if web is None:
        pytest.skip("installed package: no web/ sources")
    assert is_current(web), "run `python -m limes.web.build` and commit src/limes/web/static"
    assert main(["--check"]) == 0


def test_any_source_change_calls_for_a_build(tmp_path: Path) -> None:
    web = find_web_dir()
    if web is None:
        pytest.skip("installed package: no web/ sources")
    copy = tmp_path / "web"
    for name in ("package.json", "package-lock.json", "tsconfig.json", "build.mjs"):
        shutil.copy(web / name, copy / name) if copy.exists() else (
            copy.mkdir(), shutil.copy(web / name, copy / name))  # fmt: skip
    shutil.copytree(web / "src", copy / "src")
    static = tmp_path / "static"
    static.mkdir()
    for name in OUTPUTS:
        (static / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(STATIC / name, static / name)
    (static / ".build-stamp").write_text(source_hash(copy) + "\n")
    assert source_hash(copy) == source_hash(web)
    assert is_current(copy, static)
    (copy / "src" / "tracks.ts").write_text((copy / "src" / "tracks.ts").read_text() + "\n")
    assert not is_current(copy, static)
    (static / ".build-stamp").write_text(source_hash(copy) + "\n")
    assert is_current(copy, static)
    (copy / "src" / "extra.ts").write_text("export {};\n")  # a new file counts too
    assert not is_current(copy, static)
    (static / ".build-stamp").write_text(source_hash(copy) + "\n")
    (static / "app.js").unlink()  # a missing output is never current
    assert not is_current(copy, static)
