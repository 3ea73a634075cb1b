"""Released objects as STIX 2.1 (built with `stix2`), marked with TLP 2.0.

- an **alert** is a `sighting` of the attack pattern its rule names (one shared
  `attack-pattern` per rule), seen where a `location` says (`where_sighted_refs`; the location's
  `precision` is the coarsening in metres);
- an **incident** is a `grouping` (suspicious activity) of its location and the sightings of
  the alerts this partner may also see;
- a **sector status** is a `note` on the sector's `location` (its impact and threat levels);
- an **intelligence report** is a `report` (its text, `confidence` from the Admiralty
  credibility on STIX's own scale, the full grade in `labels`) with a `note` giving the grade
  in words, and a `location` when it names a place.

Every object carries `created_by_ref` (the originator's `identity`) and `object_marking_refs`
(its TLP 2.0 marking-definition, by the official ids of the OASIS TLP 2.0 extension; `stix2`
has no TLP 2.0 constants, so the definitions are written here). Ids are UUIDv5 of the object's
key, so every version of one object keeps its id and `modified` orders its versions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import stix2
from stix2.confidence.scales import admiralty_credibility_to_value

from limes.scenario.sharing import Credibility, ObjectKind, Reliability, Sharing, Tlp
from limes.share.guard import Release
from limes.share.shareable import Shareable

#: Namespace of limes STIX ids: uuid5(namespace, "<type>:<key>").
STIX_NAMESPACE = uuid.UUID("2b7f1f0e-5b1e-5c7b-9d4e-6c696d657333")
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_BY_ID = {v: k for k, v in TLP_IDS.items()}
CREDIBILITY_WORDS: dict[Credibility, str] = {
    Credibility.CONFIRMED: "1 - Confirmed by other sources",
    Credibility.PROBABLY_TRUE: "2 - Probably True",
    Credibility.POSSIBLY_TRUE: "3 - Possibly True",
    Credibility.DOUBTFUL: "4 - Doubtful",
    Credibility.IMPROBABLE: "5 - Improbable",
    Credibility.CANNOT_BE_JUDGED: "6 - Truth cannot be judged",
}
RELIABILITY_WORDS: dict[Reliability, str] = {
    Reliability.A: "completely reliable",
    Reliability.B: "usually reliable",
    Reliability.C: "fairly reliable",
    Reliability.D: "not usually reliable",
    Reliability.E: "unreliable",
    Reliability.F: "reliability cannot be judged",
}
TLP_CREATED = "2022-10-01T00:00:00.000Z"


def stix_uid(key: str) -> str:
    """The UUID part of every STIX id of one limes object (its renderings differ by type).

    STIX asks for version-4 UUIDs on domain objects; the bits of the key's UUIDv5 are kept and
    marked as version 4, so the id is as unguessable as a random one yet the same every time.
    """
    name = uuid.uuid5(STIX_NAMESPACE, key)
    return str(uuid.UUID(bytes=name.bytes, version=4))


def stix_id(stix_type: str, key: str) -> str:
    """The STIX id of one limes object's rendering as `stix_type`."""
    return f"{stix_type}--{stix_uid(key)}"


def tlp_marking(tlp: Tlp) -> dict[str, Any]:
    """The TLP 2.0 marking-definition object (the OASIS extension's, by its official id)."""
    name = f"TLP:{tlp.value.upper()}"
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_IDS[tlp],
        "created": TLP_CREATED,
        "name": name,
        "extensions": {
            TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.value}
        },
    }


def confidence(credibility: Credibility) -> int | None:
    """STIX `confidence` from the Admiralty credibility (STIX 2.1 Appendix A scale)."""
    try:
        return int(admiralty_credibility_to_value(CREDIBILITY_WORDS[credibility]))
    except ValueError:  # 6: truth cannot be judged — no confidence is stated
        return None


def identity_id(party: str) -> str:
    """The STIX identity id of the home installation or a partner."""
    return stix_id("identity", f"party:{party}")


def identities(sharing: Sharing, created: datetime) -> list[dict[str, Any]]:
    """An `identity` for the home installation and each partner."""
    parties = [(sharing.home, f"limes {sharing.home}", "")] + [
        (p.id, p.name, p.description) for p in sharing.partners
    ]
    out = []
    for party, name, description in parties:
        kwargs: dict[str, Any] = {"description": description} if description else {}
        out.append(
            _dict(
                stix2.v21.Identity(
                    id=identity_id(party),
                    name=name,
                    identity_class="organization",
                    created=created,
                    modified=created,
                    **kwargs,
                )
            )
        )
    return out


def attack_patterns(rules: Sequence[str], created: datetime, home: str) -> list[dict[str, Any]]:
    """One `attack-pattern` per alert rule: what a sighting is a sighting of."""
    return [
        _dict(
            stix2.v21.AttackPattern(
                id=stix_id("attack-pattern", f"rule:{rule}"),
                name=f"border {rule.replace('_', ' ')}",
                created=created,
                modified=created,
                created_by_ref=identity_id(home),
            )
        )
        for rule in rules
    ]


def render(rel: Release, modified: datetime) -> list[dict[str, Any]]:
    """The STIX objects of one released version (primary object last)."""
    obj = rel.object
    common = {
        "created": obj.time,
        "modified": max(modified, obj.time),
        "created_by_ref": identity_id(obj.originator),
        "object_marking_refs": [TLP_IDS[obj.tlp]],
    }
    out: list[dict[str, Any]] = []
    location = _location(obj, rel.precision_m, common)
    if location is not None:
        out.append(location)
    if obj.kind is ObjectKind.ALERT:
        out.append(_sighting(obj, location, common))
    elif obj.kind is ObjectKind.INCIDENT:
        out.append(_grouping(obj, location, common))
    elif obj.kind is ObjectKind.SECTOR_STATUS:
        out.append(_sector_note(obj, location, common))
    else:
        out.extend(_report(obj, location, common))
    return out


def _dict(obj: Any) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(obj.serialize())
    return found


def _location(
    obj: Shareable, precision_m: float | None, common: dict[str, Any]
) -> dict[str, Any] | None:
    point = obj.position
    if point is None and obj.area:
        lons = [p[0] for p in obj.area]
        lats = [p[1] for p in obj.area]
        point = (sum(lons) / len(lons), sum(lats) / len(lats))
    if point is None:
        if obj.kind is not ObjectKind.SECTOR_STATUS:
            return None
        return _dict(
            stix2.v21.Location(
                id=stix_id("location", obj.key),
                name=f"sector {obj.sector}",
                region="western-asia",
                **common,
            )
        )
    kwargs: dict[str, Any] = {"precision": float(precision_m)} if precision_m else {}
    return _dict(
        stix2.v21.Location(
            id=stix_id("location", obj.key),
            longitude=point[0],
            latitude=point[1],
            name=str(obj.fields.get("place") or f"sector {obj.sector}"),
            **kwargs,
            **common,
        )
    )


def _sighting(
    obj: Shareable, location: dict[str, Any] | None, common: dict[str, Any]
) -> dict[str, Any]:
    f = obj.fields
    group = f.get("group_size")
    kwargs: dict[str, Any] = {"count": int(group)} if group else {}
    if location is not None:
        kwargs["where_sighted_refs"] = [location["id"]]
    description = (
        f"{f.get('rule', 'alert')} in sector {obj.sector}, severity {f.get('severity')}: "
        f"{f.get('detail', '')}"
    )
    return _dict(
        stix2.v21.Sighting(
            id=stix_id("sighting", obj.key),
            sighting_of_ref=stix_id("attack-pattern", f"rule:{f.get('rule', 'alert')}"),
            first_seen=obj.time,
            last_seen=obj.time,
            description=description,
            labels=[f"severity:{f.get('severity')}", *sorted(f"topic:{t}" for t in obj.topics)],
            **kwargs,
            **common,
        )
    )


def _grouping(
    obj: Shareable, location: dict[str, Any] | None, common: dict[str, Any]
) -> dict[str, Any]:
    f = obj.fields
    refs = [location["id"]] if location is not None else []
    refs += [stix_id("sighting", r.key) for r in obj.refs if r.kind is ObjectKind.ALERT]
    if not refs:
        refs = [common["created_by_ref"]]
    state = f"{f.get('state')}" + (f", {f['outcome']}" if f.get("outcome") else "")
    return _dict(
        stix2.v21.Grouping(
            id=stix_id("grouping", obj.key),
            context="suspicious-activity",
            name=f"incident {obj.key.split(':', 1)[1]} in sector {obj.sector}",
            description=f"{state}; severity {f.get('severity')}",
            object_refs=refs,
            **common,
        )
    )


def _sector_note(
    obj: Shareable, location: dict[str, Any] | None, common: dict[str, Any]
) -> dict[str, Any]:
    f = obj.fields
    refs = [location["id"]] if location is not None else [common["created_by_ref"]]
    return _dict(
        stix2.v21.Note(
            id=stix_id("note", obj.key),
            abstract=f"sector {obj.sector} status",
            content=f"impact level {f.get('level')}; threat level {f.get('threat')}",
            object_refs=refs,
            **common,
        )
    )


def _report(
    obj: Shareable, location: dict[str, Any] | None, common: dict[str, Any]
) -> list[dict[str, Any]]:
    f = obj.fields
    reliability = Reliability(f["reliability"])
    credibility = Credibility(int(f["credibility"]))
    refs = [location["id"]] if location is not None else []
    refs += [stix_id("sighting", r.key) for r in obj.refs if r.kind is ObjectKind.ALERT]
    refs += [stix_id("report", r.key) for r in obj.refs if r.kind is ObjectKind.INTEL_REPORT]
    if not refs:
        refs = [common["created_by_ref"]]
    kwargs: dict[str, Any] = {}
    score = confidence(credibility)
    if score is not None:
        kwargs["confidence"] = score
    text = f.get("text")
    if text:
        kwargs["description"] = text
    grade = f"{reliability.value}{int(credibility)}"
    labels = [f"admiralty:{grade}", *sorted(f"topic:{t}" for t in obj.topics)]
    report = _dict(
        stix2.v21.Report(
            id=stix_id("report", obj.key),
            name=str(f.get("title") or f.get("event_type") or "intelligence report"),
            published=datetime.fromisoformat(str(f.get("reported") or obj.time.isoformat())),
            report_types=["threat-report"],
            object_refs=refs,
            labels=labels,
            **kwargs,
            **common,
        )
    )
    source = f" (source: {f['source']})" if f.get("source") else ""
    note = _dict(
        stix2.v21.Note(
            id=stix_id("note", obj.key),
            abstract=f"Admiralty grade {grade}",
            content=f"source {RELIABILITY_WORDS[reliability]}, information "
            f"{CREDIBILITY_WORDS[credibility].split(' - ')[1].lower()}{source}",
            object_refs=[report["id"]],
            **common,
        )
    )
    return [report, note]
