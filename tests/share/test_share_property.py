"""Over random policies, objects and partners: every channel gives exactly the guard's projection.

The reference is `release(partner, obj)` itself, applied object by object; the channels are
TAXII (objects, single object, versions, manifest) and the CoT stream's feed and events. What a
partner receives equals the projection (positions, withheld fields, references), nothing more;
no reference points at an object the partner cannot see; and a withheld object answers exactly
as a missing one (404, same body) while counts include only what is released.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree as SafeET
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db_support import open_database
from limes.api.app import create_app
from limes.api.routes.taxii import collection_id
from limes.api.settings import Settings
from limes.scenario.load import load_scenario
from limes.scenario.sharing import WITHHELD_FIELDS, ObjectKind, Sharing, Tlp, Withheld
from limes.share import partner_policy, release
from limes.share.context import ShareContext
from limes.share.cot_out import CotOutServer, cot_event
from limes.share.shareable import Shareable
from limes.share.stix import stix_id
from limes.store.users import Role, create_user

SCENARIO = load_scenario("iraq-syria")
SECTORS = [s.name for s in SCENARIO.spec.sectors]
PARTNERS = ["p0", "p1", "p2", "p3"]
HOME = "home"
STORED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = STORED + timedelta(seconds=300)  # some delays have run out, some have not
PRIMARY = {
    ObjectKind.ALERT: "sighting",
    ObjectKind.INCIDENT: "grouping",
    ObjectKind.SECTOR_STATUS: "note",
    ObjectKind.INTEL_REPORT: "report",
}
SHARED_KINDS = list(PRIMARY)
pytestmark = pytest.mark.slow


def rules() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "name": st.sampled_from(["a", "b", "c"]),
            "kinds": st.lists(st.sampled_from([k.value for k in SHARED_KINDS]), unique=True),
            "sectors": st.one_of(
                st.just(["*"]), st.lists(st.sampled_from(SECTORS), unique=True, max_size=3)
            ),
            "topics": st.one_of(st.none(), st.lists(st.sampled_from(["IS", "smugglers"]))),
            "originators": st.one_of(
                st.none(), st.lists(st.sampled_from([HOME, *PARTNERS]), unique=True)
            ),
            "precision_m": st.sampled_from([None, 500.0, 5000.0]),
            "delay_s": st.sampled_from([0.0, 0.0, 600.0]),
            "withhold": st.lists(st.sampled_from([w.value for w in Withheld]), unique=True),
            "tlp_ceiling": st.sampled_from([t.value for t in Tlp]),
        }
    )


@st.composite
def policies(draw: st.DrawFn) -> Sharing:
    partners = []
    for i, pid in enumerate(PARTNERS):
        via = draw(st.sampled_from([None, *PARTNERS[:i]])) if i else None
        partners.append(
            {
                "id": pid,
                "name": pid.upper(),
                "via": via,
                "consents_to": draw(st.lists(st.sampled_from(PARTNERS), unique=True)),
                "rules": draw(st.lists(rules(), max_size=2)),
            }
        )
    return Sharing.model_validate({"home": HOME, "partners": partners})


@st.composite
def objects(draw: st.DrawFn) -> list[Shareable]:
    out: list[Shareable] = []
    for n in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(SHARED_KINDS))
        lon = draw(st.floats(40.0, 42.0))
        lat = draw(st.floats(33.5, 37.0))
        fields: dict[str, Any] = {
            "rule": "crossed", "severity": "high", "state": "new", "level": "high",
            "threat": "high", "title": f"t{n}", "text": "words", "source": "informant",
            "reliability": draw(st.sampled_from("ABCDEF")), "credibility": draw(st.integers(1, 6)),
            "reported": STORED.isoformat(), "sensors": ["tw-1"],
            "sensor_positions": {"tw-1": [lon + 0.01, lat]}, "unit_id": "u1",
            "unit_position": [lon - 0.01, lat],
        }  # fmt: skip
        rel = draw(
            st.one_of(st.none(), st.frozensets(st.sampled_from(["*", *PARTNERS]), max_size=3))
        )
        refs = tuple(
            r for r in draw(st.lists(st.sampled_from(out), unique_by=id, max_size=2)) if out
        ) if out and kind in (ObjectKind.INCIDENT, ObjectKind.INTEL_REPORT) else ()  # fmt: skip
        out.append(
            Shareable(
                kind=kind,
                key=f"{kind.value}:{n}",
                version=1,
                time=STORED - timedelta(seconds=draw(st.sampled_from([0, 120, 3600]))),
                originator=draw(st.sampled_from([HOME, HOME, *PARTNERS])),
                sector=draw(st.sampled_from(SECTORS)),
                tlp=draw(st.sampled_from(list(Tlp))),
                releasable_to=rel,
                topics=draw(st.frozensets(st.sampled_from(["IS", "smugglers"]))),
                position=None if kind is ObjectKind.SECTOR_STATUS else (lon, lat),
                fields=fields,
                refs=refs,
            )
        )
    return out


def _client(db: Any, sharing: Sharing) -> tuple[TestClient, dict[str, str], ShareContext]:
    tokens = {}
    with db.session() as s:
        for pid in PARTNERS:
            _, tokens[pid] = create_user(
                s, f"{pid}-t", Role.PARTNER, speaks_for=[pid], actor="t", now=STORED
            )
    app = create_app(Settings(migrate=False), db=db, scenario_obj=SCENARIO)
    share = ShareContext(db, sharing, SCENARIO, settle_s=0.0, clock=lambda: NOW)
    app.state.share = share
    return TestClient(app), tokens, share


def _ids_in(obj: dict[str, Any]) -> set[str]:
    refs = set(obj.get("object_refs", ())) | set(obj.get("where_sighted_refs", ()))
    refs |= {obj[k] for k in ("sighting_of_ref", "created_by_ref") if k in obj}
    return refs | set(obj.get("object_marking_refs", ()))


@settings(
    max_examples=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
@given(policies(), objects())
def test_every_channel_gives_exactly_the_guards_projection(
    sharing: Sharing, objs: list[Shareable]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for db in open_database("sqlite", Path(tmp), "p.db"):
            client, tokens, share = _client(db, sharing)
            share.feed.append(objs, STORED)
            stored = [replace(o, time=min(o.time, STORED)) for o in objs]
            for pid in PARTNERS:
                _check_partner(client, tokens[pid], share, sharing, pid, stored)
            client.close()


def _check_partner(
    client: TestClient,
    token: str,
    share: ShareContext,
    sharing: Sharing,
    pid: str,
    objs: list[Shareable],
) -> None:
    policy = partner_policy(sharing, pid)
    expected = {o.key: release(policy, o, now=NOW) for o in objs}
    released = {k: r for k, r in expected.items() if r is not None}
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/taxii2/limes/collections/{collection_id(pid)}"

    got = client.get(f"{base}/objects/?limit=1000", headers=headers).json()
    assert got["more"] is False
    served = {o["id"]: o for o in got["objects"]}
    primaries = {
        i for i, o in served.items() if o["type"] in ("sighting", "grouping", "report")
        or (o["type"] == "note" and "abstract" in o and o["abstract"].startswith("sector"))
    }  # fmt: skip
    want = {stix_id(PRIMARY[r.object.kind], k) for k, r in released.items()}
    assert primaries == want  # nothing more, nothing less

    for key, rel in released.items():
        obj = served[stix_id(PRIMARY[rel.object.kind], key)]
        p = rel.object
        if p.position is not None:  # the projection's (coarsened) place
            loc = served[stix_id("location", key)]
            assert (loc["longitude"], loc["latitude"]) == p.position
            assert loc.get("precision") == rel.precision_m
        withheld_text = "text" not in p.fields
        if p.kind is ObjectKind.INTEL_REPORT:
            assert ("description" in obj) != withheld_text
        refs = {r.key for r in p.refs}
        if p.kind is ObjectKind.INCIDENT or p.kind is ObjectKind.INTEL_REPORT:
            listed = set(obj["object_refs"])
            for ref in objs:
                if ref.key in {r.key for r in _original(objs, key).refs}:
                    sid = stix_id(PRIMARY[ref.kind], ref.key)
                    if ref.kind in (ObjectKind.ALERT, ObjectKind.INTEL_REPORT):
                        assert (sid in listed) == (ref.key in refs)
        assert refs <= set(released)  # a reference only to what the partner may see

    known = set(served)
    for obj in served.values():  # no dangling reference anywhere
        assert _ids_in(obj) <= known, obj["id"]

    manifest = client.get(f"{base}/manifest/?limit=1000", headers=headers).json()
    assert len(manifest["objects"]) == len(got["objects"])

    missing = client.get(f"{base}/objects/report--00000000-0000-4000-8000-000000000000/",
                         headers=headers)  # fmt: skip
    assert missing.status_code == 404
    for o in objs:
        sid = stix_id(PRIMARY[o.kind], o.key)
        one = client.get(f"{base}/objects/{sid}/", headers=headers)
        versions = client.get(f"{base}/objects/{sid}/versions/", headers=headers)
        if o.key in released:
            assert one.status_code == versions.status_code == 200
            assert [x["id"] for x in one.json()["objects"]] == [sid]
        else:
            assert one.status_code == versions.status_code == 404
            assert one.json() == versions.json() == missing.json()

    # CoT: the stream's feed read and its events carry the same projection
    server = CotOutServer(share, context=None, backlog_s=10 * 86400)  # type: ignore[arg-type]
    items, more = server._next(policy, None)
    assert not more
    assert {i.release.object.key for i in items} == set(released)
    for item in items:
        rel = released[item.release.object.key]
        assert item.release.object == rel.object
        if rel.object.position is None:
            continue
        event = SafeET.fromstring(cot_event(rel.object, rel.precision_m, NOW, 60))
        point = event.find("point")
        assert point is not None
        # CoT writes degrees to 7 decimals (about a centimetre)
        lon, lat = rel.object.position
        assert float(point.get("lon")) == pytest.approx(lon, abs=1e-7)
        assert float(point.get("lat")) == pytest.approx(lat, abs=1e-7)
        remarks = event.find("detail/remarks").text or ""
        for w, keys in WITHHELD_FIELDS.items():
            if w.value in {x for x in item.release.withheld}:
                assert not any(f"{k}=" in remarks for k in keys)


def _original(objs: list[Shareable], key: str) -> Shareable:
    return next(o for o in objs if o.key == key)
