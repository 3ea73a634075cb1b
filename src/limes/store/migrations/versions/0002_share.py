"""Sharing: intelligence reports, the shared-object feed, the release audit, TAXII inbox status

Revision ID: 0002_share
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_share"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "intel_reports",
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sector", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("originator", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("record", _json(), nullable=False),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_intel_reports")),
    )
    op.create_index(
        op.f("ix_intel_reports_sector_time"), "intel_reports", ["sector", "time"], unique=False
    )
    op.create_index(op.f("ix_intel_reports_status"), "intel_reports", ["status"], unique=False)

    op.create_table(
        "shared_objects",
        sa.Column("seq", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stored", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sector", sa.String(length=100), nullable=True),
        sa.Column("originator", sa.String(length=64), nullable=False),
        sa.Column("change_id", sa.BigInteger(), nullable=True),
        sa.Column("record", _json(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_shared_objects")),
        sa.UniqueConstraint("change_id", name=op.f("uq_shared_objects_change_id")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_shared_objects_key_version")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_shared_objects_stored"), "shared_objects", ["stored"], unique=False)
    op.create_index(op.f("ix_shared_objects_uid"), "shared_objects", ["uid"], unique=False)

    op.create_table(
        "share_releases",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_releases")),
    )
    op.create_index(
        op.f("ix_share_releases_partner_time"), "share_releases", ["partner", "time"], unique=False
    )
    op.create_index(op.f("ix_share_releases_key"), "share_releases", ["key"], unique=False)

    op.create_table(
        "share_inbox_status",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("successes", _json(), nullable=False),
        sa.Column("failures", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_inbox_status")),
    )
    op.create_index(
        op.f("ix_share_inbox_status_partner"), "share_inbox_status", ["partner"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_share_inbox_status_partner"), table_name="share_inbox_status")
    op.drop_table("share_inbox_status")
    op.drop_index(op.f("ix_share_releases_key"), table_name="share_releases")
    op.drop_index(op.f("ix_share_releases_partner_time"), table_name="share_releases")
    op.drop_table("share_releases")
    op.drop_index(op.f("ix_shared_objects_uid"), table_name="shared_objects")
    op.drop_index(op.f("ix_shared_objects_stored"), table_name="shared_objects")
    op.drop_table("shared_objects")
    op.drop_index(op.f("ix_intel_reports_status"), table_name="intel_reports")
    op.drop_index(op.f("ix_intel_reports_sector_time"), table_name="intel_reports")
    op.drop_table("intel_reports")
