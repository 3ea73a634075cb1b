"""Map fixtures: the assessment folder, a running server per test, one headless Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import CHROMIUM, CHROMIUM_ARGS, Server, _assessment, map_scenario, start_server


@pytest.fixture(scope="session")
def assessment_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _assessment(map_scenario(), tmp_path_factory.mktemp("assess") / "map-test")


@pytest.fixture
def server(tmp_path: Path, assessment_dir: Path) -> Iterator[Server]:
    yield from start_server(tmp_path, [assessment_dir])


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
