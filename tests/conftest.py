"""Suite-wide wiring: tests marked for a service skip when it is absent, except under CI=true."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _available(marker: str) -> tuple[bool, str]:
    if marker == "postgres":
        return _port_open("127.0.0.1", 5432), "PostgreSQL is not listening on 127.0.0.1:5432"
    if marker == "mqtt":
        return _port_open("127.0.0.1", 1883), "Mosquitto is not listening on 127.0.0.1:1883"
    if marker == "gdal":
        return shutil.which("gdal_viewshed") is not None, "gdal_viewshed (gdal-bin) not installed"
    if marker == "federation":
        return shutil.which("nats-server") is not None or os.path.exists(
            "/usr/sbin/nats-server"
        ), "nats-server is not installed"
    if marker == "browser":
        return shutil.which("chromium") is not None, "chromium is not installed"
    return True, ""


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("postgres", "mqtt", "gdal", "browser", "federation"):
        if item.get_closest_marker(marker) is None:
            continue
        ok, why = _available(marker)
        if ok:
            continue
        if IN_CI:
            pytest.fail(f"{why} (required under CI=true)", pytrace=False)
        pytest.skip(why)
