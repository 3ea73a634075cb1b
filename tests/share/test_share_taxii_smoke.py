"""TAXII answers through the app (TestClient): collections, objects, 404 alike."""

from __future__ import annotations

from share_support import ShareApi, ago, alert_payload, put_alerts

from limes.api.routes.taxii import MEDIA, collection_id

ROOT = "/taxii2/limes"


def test_a_partner_lists_only_its_own_collections(share_api: ShareApi) -> None:
    got = share_api.client.get(f"{ROOT}/collections/", headers=share_api.headers("coalition"))
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/taxii+json")
    ids = {c["id"] for c in got.json()["collections"]}
    assert ids == {collection_id("coalition"), collection_id("coalition", inbox=True)}


def test_a_person_token_is_refused_on_taxii(share_api: ShareApi) -> None:
    got = share_api.client.get(f"{ROOT}/collections/", headers=share_api.headers("admin"))
    assert got.status_code == 403
    assert set(got.json()) == {"title", "description", "http_status"}


def test_objects_of_the_partners_collection(share_api: ShareApi) -> None:
    put_alerts(share_api.db, [alert_payload(1, ago(7200)), alert_payload(2, ago(10))], ago(5))
    url = f"{ROOT}/collections/{collection_id('quadrilateral')}/objects/"
    got = share_api.client.get(url, headers=share_api.headers("quadrilateral") | {"Accept": MEDIA})
    assert got.status_code == 200
    types = [o["type"] for o in got.json()["objects"]]
    assert "marking-definition" in types
    # no IS reports in Jazeera: the alerts are about nothing the quadrilateral may hear of
    assert "sighting" not in types
    got = share_api.client.get(
        f"{ROOT}/collections/{collection_id('coalition')}/objects/?match[type]=sighting",
        headers=share_api.headers("coalition"),
    )
    assert [o["type"] for o in got.json()["objects"]] == ["sighting", "sighting"]


def test_another_partners_collection_is_404_like_a_missing_one(share_api: ShareApi) -> None:
    theirs = share_api.client.get(
        f"{ROOT}/collections/{collection_id('joc')}/objects/", headers=share_api.headers("pmf")
    )
    missing = share_api.client.get(
        f"{ROOT}/collections/00000000-0000-4000-8000-000000000000/objects/",
        headers=share_api.headers("pmf"),
    )
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
