"""Filed intelligence claims kept for corroboration across ingest batches

Revision ID: 0005_intel_claims
Revises: 0004_snapshot
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_intel_claims"
down_revision: str | None = "0004_snapshot"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "intel_claims",
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("document", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("key", _json(), nullable=False),
        sa.Column("contradicted", sa.Boolean(), nullable=False),
        sa.Column("shingles", _json(), nullable=False),
        sa.Column("filed", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_intel_claims")),
    )
    op.create_index(
        op.f("ix_intel_claims_event_type"), "intel_claims", ["event_type"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_intel_claims_event_type"), table_name="intel_claims")
    op.drop_table("intel_claims")
