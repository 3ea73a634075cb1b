"""`limes federation nats-config` and `status` against real nats-servers they configure."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from federation_support import NATS_SERVER, _wait_port, free_port
from typer.testing import CliRunner

from limes.cli import app

pytestmark = pytest.mark.federation
runner = CliRunner()


def test_the_written_configurations_run_and_status_reads_the_link(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("hub", "leaf", "nineveh", "joc")}
    deployment = {
        "hub": {"client_url": f"nats://127.0.0.1:{ports['hub']}",
                "leaf_url": f"nats-leaf://127.0.0.1:{ports['leaf']}"},
        "sites": [{"name": n, "sectors": "all", "nats_url": f"nats://127.0.0.1:{ports[n]}"}
                  for n in ("nineveh", "joc")],
        "links": [{"from": "nineveh", "to": "joc"}],
    }  # fmt: skip
    path = tmp_path / "deployment.yaml"
    path.write_text(yaml.safe_dump(deployment))
    result = runner.invoke(app, ["federation", "nats-config", str(path), "-o", str(tmp_path / "n")])
    assert result.exit_code == 0, result.output
    servers = []
    try:
        for name in ("hub", "nineveh", "joc"):
            conf = tmp_path / "n" / f"{name}.conf"
            servers.append(subprocess.Popen([NATS_SERVER, "-c", str(conf)],
                                            stderr=subprocess.DEVNULL))  # fmt: skip
            _wait_port(ports[name])
        # No streams yet: the link has never been heard from, and the CLI says so.
        result = runner.invoke(app, ["federation", "status", str(path), "--site", "joc"])
        assert result.exit_code == 0, result.output
        assert "nineveh" in result.output and "never heard" in result.output
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=15)


def test_status_of_an_unknown_site_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deployment.yaml"
    path.write_text(yaml.safe_dump({"sites": [{"name": "joc", "sectors": "all",
                                               "nats_url": "nats://127.0.0.1:1"}]}))  # fmt: skip
    result = runner.invoke(app, ["federation", "status", str(path), "--site", "anbar"])
    assert result.exit_code == 2
    assert "no site 'anbar'" in result.output and "Traceback" not in result.output


def test_a_bad_deployment_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "deployment.yaml"
    path.write_text(yaml.safe_dump({"sites": [{"name": "joc", "sectors": "all"}]}))
    result = runner.invoke(app, ["federation", "status", str(path), "--site", "joc"])
    assert result.exit_code == 2
    assert "sites.0.nats_url" in result.output
