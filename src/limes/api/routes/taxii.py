"""TAXII 2.1 inside `limes serve`: each partner reads its own collection, and shares into an inbox.

- `GET /taxii2/` discovery, `GET /taxii2/limes/` the API root;
- `GET …/collections/`: the caller's collections only — its own out collection (what the
  release guard gives it) and, when its policy has `inbox: true`, its inbox;
- `GET …/collections/{id}/objects/` with `added_after`, `limit`, `next`, `match[id]`,
  `match[type]`, `match[version]` (`last` default, or `all`); `…/objects/{object_id}/`,
  `…/objects/{object_id}/versions/`, `…/manifest/`;
- `POST …/collections/{inbox}/objects/`: a bundle of reports (and the locations they refer to)
  filed as draft intelligence reports, originator the partner, graded with the partner's
  reliability and the credibility its `confidence` states; answered with a status
  (`GET …/status/{id}/`) kept in the database.

Every object served comes from `share.release` and is audited. A collection or object the
partner may not see answers exactly as one that does not exist (404, same body). Pages are
cut on the availability order of `share.feed`; `next` encodes the last position served, so a
client can page on after a restart of the server; `more` is never true without `next`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response

from limes.api.auth import Permission, bearer_token, check, principal_of
from limes.api.errors import ApiError, responses
from limes.api.services import Services
from limes.errors import WebError
from limes.ops.alert import Rule
from limes.scenario.sharing import Tlp
from limes.share.audit import Channel, record_releases
from limes.share.context import ShareContext
from limes.share.feed import Cursor, FeedItem, key_of_uid
from limes.share.guard import PartnerPolicy, UnknownPartner
from limes.share.inbox import accept_bundle, inbox_status
from limes.share.stix import attack_patterns, identities, tlp_marking

MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
ROOT = "/taxii2"
API_ROOT = "limes"
MAX_PAGE = 1000
DEFAULT_PAGE = 100
#: When the objects every collection starts with (markings, identities, patterns) count as added.
STATIC_ADDED = datetime(2022, 10, 1, tzinfo=UTC)
NAMESPACE = uuid.UUID("5d3c1b2a-7e6f-5a4b-8c9d-6c696d657334")

router = APIRouter(include_in_schema=False)


class TaxiiError(WebError):
    """A TAXII error answer: `{"title", "description", "http_status"}`."""

    def __init__(self, status: int, title: str, description: str = "") -> None:
        super().__init__(title)
        self.status, self.title, self.description = status, title, description


def install(app: FastAPI) -> None:
    """Mount the TAXII routes and their error answers on the app."""
    # Text no store can keep is refused before any route, with the API's error body (422).
    app.include_router(router, prefix=ROOT, responses=responses(422))

    @app.exception_handler(TaxiiError)
    async def _taxii_error(_request: Request, exc: TaxiiError) -> Any:
        return _json(
            {"title": exc.title, "description": exc.description, "http_status": str(exc.status)},
            exc.status,
        )


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status, headers=dict(headers or {}),
        media_type=MEDIA,
    )  # fmt: skip


NOT_FOUND = TaxiiError(404, "not found", "no such collection, object or status")


# -- who asks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    partner: PartnerPolicy
    share: ShareContext
    services: Services


def _caller(request: Request) -> Caller:
    services: Services = request.app.state.services
    try:
        principal = principal_of(services, bearer_token(request.headers.get("authorization")))
        check(principal, Permission.SHARE)
    except ApiError as error:
        raise TaxiiError(error.status, error.error, error.detail) from None
    share: ShareContext | None = getattr(request.app.state, "share", None)
    if share is None or len(principal.speaks_for) != 1:
        raise NOT_FOUND
    try:
        partner = share.partner(next(iter(principal.speaks_for)))
    except UnknownPartner:
        raise NOT_FOUND from None
    _accepts(request)
    return Caller(partner, share, services)


def _accepts(request: Request) -> None:
    accept = request.headers.get("accept", "*/*").replace(" ", "").lower()
    if not any(a in accept for a in ("application/taxii+json", "*/*", "application/*")):
        raise TaxiiError(406, "not acceptable", f"this server answers {MEDIA}")


def collection_id(partner: str, inbox: bool = False) -> str:
    """The id of a partner's out collection or inbox (stable across restarts)."""
    return str(uuid.uuid5(NAMESPACE, f"{partner}:{'inbox' if inbox else 'out'}"))


def _collection(caller: Caller, cid: str) -> bool:
    """Whether `cid` is the caller's inbox (True) or out collection (False); else 404."""
    pid = caller.partner.id
    if cid == collection_id(pid):
        return False
    if caller.partner.partner.inbox and cid == collection_id(pid, inbox=True):
        return True
    raise NOT_FOUND


def _collections(caller: Caller) -> list[dict[str, Any]]:
    p = caller.partner.partner
    out = [
        {"id": collection_id(p.id), "title": f"limes for {p.name}",
         "description": "what the release guard gives this partner", "can_read": True,
         "can_write": False, "media_types": [STIX_MEDIA]}
    ]  # fmt: skip
    if p.inbox:
        out.append(
            {"id": collection_id(p.id, inbox=True), "title": f"inbox from {p.name}",
             "description": "reports this partner shares into limes", "can_read": False,
             "can_write": True, "media_types": [STIX_MEDIA]}
        )  # fmt: skip
    return out


# -- discovery ----------------------------------------------------------------------------------


@router.get("/")
def discovery(request: Request) -> Response:
    _caller(request)
    base = str(request.base_url).rstrip("/")
    root = f"{base}{ROOT}/{API_ROOT}/"
    return _json(
        {"title": "limes", "description": "border watch: alerts, incidents, intelligence",
         "default": root, "api_roots": [root]}
    )  # fmt: skip


@router.get(f"/{API_ROOT}/")
def api_root(request: Request) -> Response:
    _caller(request)
    return _json({"title": "limes", "versions": [MEDIA], "max_content_length": 10 * 1024 * 1024})


@router.get(f"/{API_ROOT}/collections/")
def collections(request: Request) -> Response:
    return _json({"collections": _collections(_caller(request))})


@router.get(f"/{API_ROOT}/collections/{{cid}}/")
def collection(request: Request, cid: str) -> Response:
    caller = _caller(request)
    _collection(caller, cid)
    return _json(next(c for c in _collections(caller) if c["id"] == cid))


# -- paging -------------------------------------------------------------------------------------


def _encode(cursor: Cursor) -> str:
    raw = f"{cursor.available.isoformat()}|{cursor.seq}|{cursor.sub}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        when, seq, sub = raw.split("|")
        available = datetime.fromisoformat(when)
        if available.tzinfo is None:
            raise ValueError("naive")
        return Cursor(available, int(seq), int(sub))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise TaxiiError(400, "bad next", "next is not a token this server gave") from None


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse_time(value: str, name: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TaxiiError(400, f"bad {name}", f"{name} must be an RFC 3339 timestamp") from None
    if when.tzinfo is None:
        raise TaxiiError(400, f"bad {name}", f"{name} needs a zone (Z)")
    return when


@dataclass(frozen=True)
class Entry:
    """One STIX object in a partner's view, with where it stands in the order."""

    cursor: Cursor
    added: datetime
    modified: str
    obj: dict[str, Any]


def _statics(caller: Caller) -> list[dict[str, Any]]:
    share = caller.share
    return [
        *(tlp_marking(t) for t in Tlp),
        *identities(share.sharing, STATIC_ADDED),
        *attack_patterns([r.value for r in Rule], STATIC_ADDED, share.sharing.home),
    ]


@dataclass(frozen=True)
class Filters:
    added_after: datetime | None = None
    ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    all_versions: bool = False

    def keep(self, obj: Mapping[str, Any]) -> bool:
        return (self.ids is None or obj["id"] in self.ids) and (
            self.types is None or obj["type"] in self.types
        )


def _filters(request: Request) -> Filters:
    q = request.query_params
    after = q.get("added_after")
    version = q.get("match[version]", "last")
    if version not in ("last", "all"):
        raise TaxiiError(400, "bad match[version]", "this server offers last (default) and all")
    ids = q.get("match[id]")
    types = q.get("match[type]")
    spec = q.get("match[spec_version]")
    if spec is not None and "2.1" not in spec.split(","):
        raise TaxiiError(400, "bad match[spec_version]", "this server serves STIX 2.1")
    return Filters(
        added_after=_parse_time(after, "added_after") if after else None,
        ids=frozenset(ids.split(",")) if ids else None,
        types=frozenset(types.split(",")) if types else None,
        all_versions=version == "all",
    )


def _limit(value: int | None) -> int:
    if value is None:
        return DEFAULT_PAGE
    if value < 1:
        raise TaxiiError(400, "bad limit", "limit must be a positive integer")
    return min(value, MAX_PAGE)


def page(
    caller: Caller, filters: Filters, after: Cursor | None, limit: int
) -> tuple[list[Entry], Cursor | None, bool, list[FeedItem]]:
    """Up to `limit` entries after `after`; the cursor of the last position looked at, whether
    more may follow, and the feed items whose objects were served (for the audit)."""
    share = caller.share
    now = share.clock()
    share.catch_up(now)
    entries: list[Entry] = []
    last: Cursor | None = after
    if filters.added_after is not None:
        floor = Cursor(filters.added_after, 2**62, 2**30)
        if last is None or floor.key() > last.key():
            last = floor
    if last is None or (last.available <= STATIC_ADDED and last.seq <= 0):
        for i, obj in enumerate(_statics(caller)):
            c = Cursor(STATIC_ADDED, 0, i)
            if last is not None and c.key() <= last.key():
                continue
            if len(entries) >= limit:
                return entries, entries[-1].cursor, True, []
            last = c
            if filters.keep(obj):
                entries.append(Entry(c, STATIC_ADDED, obj.get("modified", obj["created"]), obj))
    feed_after = last if last is not None and last.seq > 0 else None
    if feed_after is None and last is not None and last.available > STATIC_ADDED:
        feed_after = last
    served: list[FeedItem] = []
    while True:
        want = limit - len(entries)
        items, more = share.feed.released(
            caller.partner, now=now, after=feed_after, limit=max(want, 1),
            settle_s=share.settle_s, latest_only=not filters.all_versions,
        )  # fmt: skip
        for item in items:
            objects = share.render(item)
            used = False
            for j, obj in enumerate(objects):
                c = Cursor(item.available, item.seq, j)
                if feed_after is not None and c.key() <= feed_after.key():
                    continue
                if len(entries) >= limit:
                    if used:
                        served.append(item)
                    return entries, entries[-1].cursor, True, served
                last = c
                if filters.keep(obj):
                    entries.append(Entry(c, item.available, obj["modified"], obj))
                    used = True
            if used:
                served.append(item)
            # The whole row is consumed: the next read starts after it, not inside it.
            last = Cursor(item.available, item.seq, -1)
        if not more or not items:
            return entries, last, more, served
        feed_after = last


def _page_headers(entries: Sequence[Entry]) -> dict[str, str]:
    if not entries:
        return {}
    return {
        "X-TAXII-Date-Added-First": _timestamp(entries[0].added),
        "X-TAXII-Date-Added-Last": _timestamp(entries[-1].added),
    }


def _audit(caller: Caller, served: Sequence[FeedItem]) -> None:
    if served:
        record_releases(
            caller.share.db, [i.release for i in served], Channel.TAXII, caller.share.clock()
        )


def _read_page(
    request: Request, cid: str, limit: int | None, next: str | None
) -> tuple[Caller, list[Entry], str | None, list[FeedItem]]:
    """One page of a readable collection: the caller, the page's entries, the `next` token
    (None on the last page) and the feed items served."""
    caller = _caller(request)
    if _collection(caller, cid):
        raise TaxiiError(403, "forbidden", "the inbox can be written, not read")
    entries, last, more, served = page(
        caller, _filters(request), _decode(next) if next else None, _limit(limit)
    )
    # Never `more` without `next`: a client would ask for the first page forever.
    token = _encode(last) if more and last is not None else None
    return caller, entries, token, served


def _envelope(objects: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"more": token is not None, "objects": objects}
    if token is not None:
        body["next"] = token
    return body


@router.get(f"/{API_ROOT}/collections/{{cid}}/objects/")
def get_objects(
    request: Request,
    cid: str,
    limit: Annotated[int | None, Query()] = None,
    next: Annotated[str | None, Query()] = None,
) -> Response:
    caller, entries, token, served = _read_page(request, cid, limit, next)
    _audit(caller, served)
    return _json(_envelope([e.obj for e in entries], token), headers=_page_headers(entries))


@router.get(f"/{API_ROOT}/collections/{{cid}}/manifest/")
def get_manifest(
    request: Request,
    cid: str,
    limit: Annotated[int | None, Query()] = None,
    next: Annotated[str | None, Query()] = None,
) -> Response:
    _, entries, token, _ = _read_page(request, cid, limit, next)
    manifest = [
        {"id": e.obj["id"], "date_added": _timestamp(e.added), "version": e.modified,
         "media_type": STIX_MEDIA}
        for e in entries
    ]  # fmt: skip
    return _json(_envelope(manifest, token), headers=_page_headers(entries))


def _versions_of(caller: Caller, object_id: str) -> list[tuple[FeedItem, dict[str, Any]]]:
    """Every released version of one STIX object, oldest first (404 when none)."""
    _type, _, uid = object_id.partition("--")
    share = caller.share
    now = share.clock()
    share.catch_up(now)
    key = key_of_uid(share.db, uid)
    if key is None:
        raise NOT_FOUND
    out = []
    for item in share.feed.versions(caller.partner, key, now=now, settle_s=share.settle_s):
        for obj in share.render(item):
            if obj["id"] == object_id:
                out.append((item, obj))
    if not out:
        raise NOT_FOUND
    return out


def _static(caller: Caller, object_id: str) -> dict[str, Any] | None:
    return next((o for o in _statics(caller) if o["id"] == object_id), None)


@router.get(f"/{API_ROOT}/collections/{{cid}}/objects/{{object_id}}/")
def get_object(request: Request, cid: str, object_id: str) -> Response:
    caller = _caller(request)
    if _collection(caller, cid):
        raise TaxiiError(403, "forbidden", "the inbox can be written, not read")
    static = _static(caller, object_id)
    if static is not None:
        return _json({"more": False, "objects": [static]})
    found = _versions_of(caller, object_id)
    if request.query_params.get("match[version]") != "all":
        found = found[-1:]
    _audit(caller, [item for item, _ in found])
    return _json({"more": False, "objects": [obj for _, obj in found]})


@router.get(f"/{API_ROOT}/collections/{{cid}}/objects/{{object_id}}/versions/")
def get_versions(request: Request, cid: str, object_id: str) -> Response:
    caller = _caller(request)
    if _collection(caller, cid):
        raise TaxiiError(403, "forbidden", "the inbox can be written, not read")
    static = _static(caller, object_id)
    if static is not None:
        return _json({"more": False, "versions": [static.get("modified", static["created"])]})
    found = _versions_of(caller, object_id)
    return _json({"more": False, "versions": [obj["modified"] for _, obj in found]})


# -- inbox --------------------------------------------------------------------------------------


@router.post(f"/{API_ROOT}/collections/{{cid}}/objects/")
async def add_objects(request: Request, cid: str) -> Response:
    caller = _caller(request)
    if not _collection(caller, cid):
        raise TaxiiError(403, "forbidden", "this collection can be read, not written")
    kind = request.headers.get("content-type", "").replace(" ", "").lower()
    if not kind.startswith("application/taxii+json"):
        raise TaxiiError(415, "unsupported media type", f"send {MEDIA}")
    try:
        envelope = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise TaxiiError(400, "not JSON", "the body is not a JSON envelope") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise TaxiiError(400, "no objects", 'send an envelope {"objects": [...]}')
    status = accept_bundle(
        caller.share, caller.partner, envelope["objects"], actor=f"partner:{caller.partner.id}"
    )
    return _json(status, 202)


@router.get(f"/{API_ROOT}/status/{{status_id}}/")
def get_status(request: Request, status_id: str) -> Response:
    caller = _caller(request)
    found = inbox_status(caller.share.db, status_id, caller.partner.id)
    if found is None:
        raise NOT_FOUND
    return _json(found)
