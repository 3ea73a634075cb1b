"""The iraq-syria sharing section, read through the one release guard."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from share_records import HOME, T0, alert, report

from limes.scenario.load import load_scenario
from limes.scenario.sharing import Sharing
from limes.share import explain, partner_policy, release
from limes.share.coarsen import M_PER_DEG

LATER = T0 + timedelta(days=1)


@pytest.fixture(scope="module")
def sharing() -> Sharing:
    return load_scenario("iraq-syria").spec.sharing


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * M_PER_DEG * math.cos(math.radians(b[1]))
    return math.hypot(dx, (a[1] - b[1]) * M_PER_DEG)


def test_quadrilateral_gets_is_alerts_coarsened_to_5_km_and_an_hour_late(sharing: Sharing) -> None:
    quad = partner_policy(sharing, "quadrilateral")
    a = alert()
    assert release(quad, a, now=T0 + timedelta(minutes=59)) is None
    got = release(quad, a, now=T0 + timedelta(hours=1))
    assert got is not None
    assert got.object.position != a.position
    assert a.position is not None and got.object.position is not None
    assert _metres(got.object.position, a.position) <= 5000 * math.sqrt(2) / 2 + 1
    # a second alert 100 m away lands in the same 5 km cell: nothing finer is learnt
    near = alert(2, position=(a.position[0] + 0.0005, a.position[1] + 0.0005))
    got2 = release(quad, near, now=LATER)
    assert got2 is not None and got2.object.position == got.object.position
    assert "sensors" not in got.object.fields and "unit_position" not in got.object.fields


def test_quadrilateral_gets_no_alert_without_the_is_topic_nor_outside_its_sectors(
    sharing: Sharing,
) -> None:
    quad = partner_policy(sharing, "quadrilateral")
    assert release(quad, alert(topics=frozenset({"smugglers"})), now=LATER) is None
    assert release(quad, alert(sector="Peshmerga"), now=LATER) is None


def test_quadrilateral_never_gets_coalition_reports(sharing: Sharing) -> None:
    quad = partner_policy(sharing, "quadrilateral")
    ours = report(1)
    theirs = report(2, originator="coalition")
    assert release(quad, ours, now=LATER) is not None
    assert release(quad, theirs, now=LATER) is None
    why = explain(quad, theirs, now=LATER).reasons
    assert any("coalition" in r and "consented" in r for r in why)


def test_sdf_receives_only_what_the_coalition_relays(sharing: Sharing) -> None:
    sdf = partner_policy(sharing, "sdf")
    coalition = partner_policy(sharing, "coalition")
    a = alert(sector="Nineveh")
    got = release(sdf, a, now=LATER)
    assert got is not None and got.rule == "border picture/facing sectors"
    # a report the coalition may not receive (releasable to the JOC only) never reaches the SDF
    joc_only = report(3, sector="Nineveh", releasable_to=frozenset({"joc", "sdf"}))
    assert release(coalition, joc_only, now=LATER) is None
    assert release(sdf, joc_only, now=LATER) is None
    # the coalition's own report goes on to the SDF: it consented
    assert release(sdf, report(4, sector="Nineveh", originator="coalition"), now=LATER)
    # the Peshmerga's does not: it consented to the JOC and Nineveh only
    assert release(sdf, report(5, sector="Nineveh", originator="peshmerga"), now=LATER) is None


def test_pmf_receives_no_sensor_or_unit_positions(sharing: Sharing) -> None:
    pmf = partner_policy(sharing, "pmf")
    got = release(pmf, alert(sector="Nineveh"), now=LATER)
    assert got is not None
    for key in ("sensors", "sensor_positions", "unit_id", "unit_position"):
        assert key not in got.object.fields
    assert got.object.fields["rule"] == "crossed"


def test_a_partner_without_rules_and_an_unknown_originator_get_nothing() -> None:
    sharing = Sharing.model_validate(
        {"home": HOME, "partners": [{"id": "a", "name": "A"}, {"id": "b", "name": "B",
         "rules": [{"name": "all", "kinds": ["alert"], "sectors": ["*"], "tlp_ceiling": "red"}]}]}
    )  # fmt: skip
    assert release(partner_policy(sharing, "a"), alert(), now=LATER) is None
    b = partner_policy(sharing, "b")
    assert release(b, alert(), now=LATER) is not None
    assert release(b, alert(originator="stranger"), now=LATER) is None
    assert release(b, alert(originator="a"), now=LATER) is None  # a never consented


def test_an_empty_rule_shares_nothing() -> None:
    sharing = Sharing.model_validate(
        {"home": HOME, "partners": [{"id": "a", "name": "A", "rules": [{"name": "empty"}]}]}
    )
    assert release(partner_policy(sharing, "a"), alert(), now=LATER) is None


def test_references_to_withheld_objects_are_dropped(sharing: Sharing) -> None:
    coalition = partner_policy(sharing, "coalition")
    shared = alert(1)
    hidden = alert(2, tlp=sharing.marking.__class__("red"))
    r = report(9, refs=(shared, hidden))
    got = release(coalition, r, now=LATER)
    assert got is not None
    assert [ref.key for ref in got.object.refs] == ["alert:1"]
