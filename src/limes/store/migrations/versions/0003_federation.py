"""Federation: objects received from other sites, and how far each destination is forwarded

Revision ID: 0003_federation
Revises: 0002_share
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_federation"
down_revision: str | None = "0002_share"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "federated_objects",
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("received", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("origin", "kind", "object_id", name=op.f("pk_federated_objects")),
    )
    op.create_index(
        op.f("ix_federated_objects_origin_kind"), "federated_objects", ["origin", "kind"]
    )
    op.create_table(
        "federation_cursors",
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("available", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("destination", name=op.f("pk_federation_cursors")),
    )


def downgrade() -> None:
    op.drop_table("federation_cursors")
    op.drop_index(op.f("ix_federated_objects_origin_kind"), table_name="federated_objects")
    op.drop_table("federated_objects")
