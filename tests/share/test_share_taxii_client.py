"""TAXII 2.1 against a client nobody here wrote: `taxii2-client` over HTTP to a live server."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests
from share_support import ShareApi, ago, alert_payload, live, put_alerts
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from limes.api.routes.taxii import collection_id
from limes.scenario.sharing import Tlp
from limes.share.report_store import list_reports
from limes.share.stix import TLP_IDS, stix_id

pytestmark = pytest.mark.slow


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def _alerts(first: int, n: int) -> list[dict[str, object]]:
    base = ago(3600)
    return [alert_payload(i, base + timedelta(milliseconds=i)) for i in range(first, first + n)]


def test_taxii2_client_pages_through_10000_objects_with_added_after(share_api: ShareApi) -> None:
    auth = Bearer(share_api.tokens["coalition"])
    put_alerts(share_api.db, _alerts(1, 4000), ago(60))
    with live(share_api.app) as url:
        server = Server(f"{url}/taxii2/", auth=auth)
        assert [r.url for r in server.api_roots] == [f"{url}/taxii2/limes/"]
        root: ApiRoot = server.default
        titles = {c.id: c for c in root.collections}
        assert set(titles) == {collection_id("coalition"), collection_id("coalition", True)}
        out: Collection = titles[collection_id("coalition")]
        assert out.can_read and not out.can_write
        # the first 4000 are fed by this first request; remember when
        first = out.get_objects(limit=1)
        assert first["more"] is True
        mark = datetime.now(UTC)
        put_alerts(share_api.db, _alerts(4001, 6000), ago(30))
        ids: list[str] = []
        pages = as_pages(out.get_objects, per_request=500, added_after=mark.isoformat())
        for n, envelope in enumerate(pages):
            assert n < 100, "the server kept saying more"
            ids += [o["id"] for o in envelope.get("objects", []) if o["type"] == "sighting"]
        want = {stix_id("sighting", f"alert:{uuid.UUID(int=i)}") for i in range(4001, 10001)}
        assert Counter(ids).most_common(1)[0][1] == 1  # no duplicates
        assert set(ids) == want  # none missing, none before the mark
        # and from the start: all 10,000, each once
        everything: list[str] = []
        for envelope in as_pages(out.get_objects, per_request=1000):
            everything += [o["id"] for o in envelope.get("objects", []) if o["type"] == "sighting"]
        assert len(everything) == len(set(everything)) == 10_000


def test_paging_resumes_after_a_restart(share_api: ShareApi) -> None:
    put_alerts(share_api.db, _alerts(1, 300), ago(60))
    auth = Bearer(share_api.tokens["coalition"])
    with live(share_api.app) as url:
        out = Collection(f"{url}/taxii2/limes/collections/{collection_id('coalition')}/", auth=auth)
        page1 = out.get_objects(limit=100, type="sighting")
        token = page1["next"]
    from limes.api.app import create_app
    from limes.api.settings import Settings

    again = create_app(Settings(migrate=False, share_settle_s=0.0), db=share_api.db,
                       scenario_obj=share_api.share.scenario)  # fmt: skip
    with live(again) as url:
        out = Collection(f"{url}/taxii2/limes/collections/{collection_id('coalition')}/", auth=auth)
        rest = [
            o["id"] for o in out.get_objects(limit=1000, next=token, type="sighting")["objects"]
        ]
    first = [o["id"] for o in page1["objects"]]
    assert {i.split("--")[0] for i in first + rest} == {"sighting"}
    assert len(first) == 100 and len(rest) == 200
    assert not set(first) & set(rest)


def test_served_objects_validate_with_stix2_validator(share_api: ShareApi) -> None:
    put_alerts(share_api.db, _alerts(1, 20), ago(60))
    share_api.client.post(
        "/api/intel/reports", headers=share_api.headers("analyst"),
        json={"text": "IS cell of six gathering near the line", "time": ago(600).isoformat(),
              "lon": 41.2, "lat": 35.6, "sector": "Jazeera", "source": "patrol 4",
              "reliability": "B", "credibility": 2, "tlp": "green", "releasable_to": ["*"],
              "actors": ["IS"], "threat": "high"},
    )  # fmt: skip
    auth = Bearer(share_api.tokens["coalition"])
    with live(share_api.app) as url:
        out = Collection(f"{url}/taxii2/limes/collections/{collection_id('coalition')}/", auth=auth)
        objects = [o for e in as_pages(out.get_objects, per_request=100) for o in e["objects"]]
    kinds = Counter(o["type"] for o in objects)
    assert kinds["sighting"] == 20 and kinds["report"] == 1 and kinds["note"] == 1
    options = ValidationOptions(version="2.1")
    for obj in objects:
        result = validate_instance(obj, options)
        assert result.is_valid, (obj["id"], [str(e) for e in result.errors])
        assert not result.warnings, (obj["id"], [str(w) for w in result.warnings])


def test_a_partner_posts_a_bundle_and_polls_its_status(share_api: ShareApi) -> None:
    auth = Bearer(share_api.tokens["coalition"])
    location = {
        "type": "location", "spec_version": "2.1", "id": f"location--{uuid.uuid4()}",
        "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
        "latitude": 34.45, "longitude": 40.92, "name": "Abu Kamal",
    }  # fmt: skip
    report = {
        "type": "report", "spec_version": "2.1", "id": f"report--{uuid.uuid4()}",
        "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
        "name": "IS fighters massing", "description": "IS fighters five or six km from the line",
        "published": "2026-03-01T00:00:00Z", "report_types": ["threat-report"],
        "object_refs": [location["id"]], "confidence": 70, "labels": ["topic:IS"],
        "object_marking_refs": [TLP_IDS[Tlp.GREEN]],
    }  # fmt: skip
    junk = {"type": "indicator", "id": f"indicator--{uuid.uuid4()}"}
    with live(share_api.app) as url:
        inbox = Collection(
            f"{url}/taxii2/limes/collections/{collection_id('coalition', inbox=True)}/", auth=auth
        )
        assert inbox.can_write and not inbox.can_read
        status = inbox.add_objects({"objects": [location, report, junk]}, wait_for_completion=True)
        assert status.status == "complete"
        assert status.success_count == 2 and status.failure_count == 1
        assert status.failures[0]["id"] == junk["id"]
        status.refresh()
        assert status.total_count == 3
    drafts = list_reports(share_api.db)
    assert len(drafts) == 1
    filed, _version = drafts[0]
    assert filed.originator == "coalition" and filed.reliability.value == "B"
    assert int(filed.credibility) == 2 and filed.tlp is Tlp.GREEN
    assert filed.sector == "Anbar (al-Qaim)" and filed.status.value == "draft"
