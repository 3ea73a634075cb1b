"""Users, tokens and the audit log (admin; the audit log also for commanders)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from limes.api.auth import Permission, require
from limes.api.errors import responses
from limes.api.models import AuditOut, IssuedToken, Page, TokenOut, UserIn, UserOut
from limes.api.paging import Cursor, Limit, int_cursor, page
from limes.api.routes.common import now, services
from limes.api.services import Services
from limes.store.audit import audit_entries
from limes.store.users import (
    Principal,
    create_user,
    issue_token,
    list_users,
    revoke_token,
    user_tokens,
)

router = APIRouter(tags=["users"])
Svc = Annotated[Services, Depends(services)]
Admin = Annotated[Principal, Depends(require(Permission.ADMIN))]
UserName = Annotated[str, Path(max_length=64)]


@router.get("/users", response_model=list[UserOut], responses=responses(401, 403))
def get_users(_: Admin, svc: Svc) -> list[UserOut]:
    """Every user with its tokens (ids and dates only: secrets are never stored)."""
    with svc.db.reader() as session:
        return [
            UserOut(
                id=u.id,
                name=u.name,
                role=u.role,
                speaks_for=u.speaks_for,
                created=u.created,
                tokens=[TokenOut.model_validate(t) for t in user_tokens(session, u.id)],
            )
            for u in list_users(session)
        ]


@router.post(
    "/users", response_model=IssuedToken, status_code=201, responses=responses(401, 403, 409, 422)
)
def add_user(body: UserIn, who: Admin, svc: Svc) -> IssuedToken:
    """Add a user; the answer carries its first token, shown this once."""
    with svc.db.session() as session:
        user, token = create_user(
            session, body.name, body.role, speaks_for=body.speaks_for, actor=who.name, now=now()
        )
        token_id = user_tokens(session, user.id)[-1].id
    return IssuedToken(user=body.name, token_id=token_id, token=token)


@router.post(
    "/users/{name}/tokens",
    response_model=IssuedToken,
    status_code=201,
    responses=responses(401, 403, 404),
)
def add_token(name: UserName, who: Admin, svc: Svc) -> IssuedToken:
    """Issue another token for a user (e.g. to rotate: issue, deploy, revoke the old one)."""
    with svc.db.session() as session:
        row, token = issue_token(session, name, actor=who.name, now=now())
    return IssuedToken(user=name, token_id=row.id, token=token)


@router.delete(
    "/tokens/{token_id}", response_model=TokenOut, responses=responses(401, 403, 404, 422)
)
def delete_token(token_id: Annotated[int, Path(ge=1, le=2**62)], who: Admin, svc: Svc) -> TokenOut:
    """Revoke a token at once (its next request answers 401)."""
    with svc.db.session() as session:
        row = revoke_token(session, token_id, actor=who.name, now=now())
        return TokenOut.model_validate(row)


@router.get("/audit", response_model=Page[AuditOut], responses=responses(401, 403, 422))
def get_audit(
    _: Annotated[Principal, Depends(require(Permission.COMMAND))],
    svc: Svc,
    entity: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=128)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[AuditOut]:
    """Who did what: every change a person made, newest first, with before and after."""
    with svc.db.reader() as session:
        rows = audit_entries(
            session,
            entity=entity,
            entity_id=entity_id,
            actor=actor,
            before_id=int_cursor(cursor),
            limit=limit + 1,
        )
        items, nxt = page(rows, limit, lambda r: r.id)
        return Page[AuditOut](items=[AuditOut.model_validate(r) for r in items], next_cursor=nxt)
