"""`limes sharing explain` and `limes sharing partners` on a stored object."""

from __future__ import annotations

from pathlib import Path

from share_support import ago, alert_payload, put_alerts
from typer.testing import CliRunner

from db_support import open_database
from limes.cli import app


def test_explain_says_why_the_quadrilateral_is_refused_and_the_coalition_served(
    tmp_path: Path,
) -> None:
    for db in open_database("sqlite", tmp_path, "cli.db"):
        put_alerts(db, [alert_payload(7, ago(60), sector="Peshmerga")], ago(30))
        key = f"alert:{alert_payload(7, ago(0))['alert_id']}"
        url = ["--database", db.url, "--scenario", "iraq-syria"]
        refused = CliRunner().invoke(app, ["sharing", "explain", "quadrilateral", key, *url])
        assert refused.exit_code == 0, refused.output
        assert "withheld" in refused.output
        assert "sector 'Peshmerga' not among" in refused.output
        served = CliRunner().invoke(app, ["sharing", "explain", "coalition", key, *url])
        assert "released under rule 'border picture'" in served.output
        assert '"sensors"' in served.output
        missing = CliRunner().invoke(app, ["sharing", "explain", "coalition", "alert:x", *url])
        assert missing.exit_code == 2 and "no shared object 'alert:x'" in missing.output
        nobody = CliRunner().invoke(app, ["sharing", "explain", "nobody", key, *url])
        assert nobody.exit_code == 2 and "no partner 'nobody'" in nobody.output


def test_partners_lists_every_rule() -> None:
    got = CliRunner().invoke(app, ["sharing", "partners", "iraq-syria"])
    assert got.exit_code == 0
    for partner in ("quadrilateral", "sdf", "pmf", "coalition", "joc"):
        assert partner in got.output
