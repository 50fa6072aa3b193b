"""The review queue: users, sessions, settings, rule sets, cases, their findings, and decisions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "rule_sets",
        sa.Column("hash", sa.String(80), primary_key=True),
        sa.Column("policy_id", sa.String(200), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("added_at", _UTC, nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rule_set_hash", sa.String(80), sa.ForeignKey("rule_sets.hash"), nullable=False),
        sa.Column("post_key", sa.String(255), nullable=False),
        sa.Column("post", sa.JSON, nullable=True),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("account", sa.String(255), nullable=True),
        sa.Column("platform", sa.String(32), nullable=True),
        sa.Column("posted_at", sa.String(40), nullable=True),
        sa.Column("month", sa.String(7), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.UniqueConstraint("post_key", "rule_set_hash", name="uq_cases_post_rule_set"),
    )
    for column in ("outcome", "rank", "account", "month", "status"):
        op.create_index(f"ix_cases_{column}", "cases", [column])
    op.create_table(
        "case_findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("clause", sa.String(200), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
    )
    for column in ("case_id", "clause", "topic"):
        op.create_index(f"ix_case_findings_{column}", "case_findings", [column])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("right_outcome", sa.String(32), nullable=True),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("outcome_with_labels", sa.String(32), nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("rule_set_hash", sa.String(80), nullable=False),
        sa.Column("case_version", sa.Integer, nullable=False),
    )
    op.create_index("ix_decisions_case_id", "decisions", ["case_id"])
    # The audit trail is append-only in the database itself, whatever the client.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION govpost_decisions_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'decisions are an append-only audit trail';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
            FOR EACH ROW EXECUTE FUNCTION govpost_decisions_append_only()
        """)
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER decisions_no_{action.lower()} BEFORE {action} ON decisions
                BEGIN SELECT RAISE(ABORT, 'decisions are an append-only audit trail'); END
            """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER decisions_append_only ON decisions")
        op.execute("DROP FUNCTION govpost_decisions_append_only()")
    for table in ("decisions", "case_findings", "cases", "rule_sets", "settings", "sessions", "users"):
        op.drop_table(table)
