"""The review database: tables (SQLAlchemy 2 ORM), engines, and the schema's migrations (Alembic).

SQLite by default (a file under the data directory, created on first use),
PostgreSQL by URL (``postgresql://user@host/db``, through psycopg 3). The
schema is created and upgraded by the migrations in ``migrations/``, never
by ``create_all``, so a database made by an older govpost is brought up to
date the same way a new one is made.

Decisions are an append-only audit trail: the ORM offers no way to change
one, and the database itself refuses an UPDATE or DELETE of the
``decisions`` table (a trigger, in SQLite and in PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

#: The roles a user may have; an admin may do all a reviewer does and manage users.
ROLES = ("reviewer", "admin")
#: What a reviewer may decide about a case.
DECISIONS = ("agree", "disagree", "escalate")
#: The status a case takes after each decision; a new case is open.
STATUS_AFTER = {"agree": "agreed", "disagree": "disagreed", "escalate": "escalated"}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A date and time stored in UTC and read back with its zone (SQLite keeps none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LoginSession(Base):
    """A signed-in browser: the cookie holds a random token, the table only its hash."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class Setting(Base):
    """Server settings that must survive a restart and be shared by processes (the signing key)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RuleSet(Base):
    """A compiled rule set cases were checked with, kept whole so that labels re-check with it."""

    __tablename__ = "rule_sets"

    hash: Mapped[str] = mapped_column(String(80), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Case(Base):
    """A checked post in the review queue: imported from results, or saved from the check page."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("post_key", "rule_set_hash", name="uq_cases_post_rule_set"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_set_hash: Mapped[str] = mapped_column(ForeignKey("rule_sets.hash"))
    post_key: Mapped[str] = mapped_column(String(255))
    post: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(32), index=True)
    rank: Mapped[int] = mapped_column(Integer, index=True)
    account: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    platform: Mapped[str | None] = mapped_column(String(32), nullable=True)
    posted_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    month: Mapped[str | None] = mapped_column(String(7), nullable=True, index=True)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    findings: Mapped[list[CaseFinding]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                       order_by="CaseFinding.id")
    decisions: Mapped[list[Decision]] = relationship(back_populates="case", order_by="Decision.id")
    rule_set: Mapped[RuleSet] = relationship()


class CaseFinding(Base):
    """One applying clause of a case, for filtering the queue by clause and topic."""

    __tablename__ = "case_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    clause: Mapped[str] = mapped_column(String(200), index=True)
    number: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str] = mapped_column(String(200), index=True)
    outcome: Mapped[str] = mapped_column(String(32))

    case: Mapped[Case] = relationship(back_populates="findings")


class Decision(Base):
    """One reviewer's decision on a case: an audit record, never changed once written."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    right_outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    labels: Mapped[list[str]] = mapped_column(JSON)
    outcome_with_labels: Mapped[str | None] = mapped_column(String(32), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    rule_set_hash: Mapped[str] = mapped_column(String(80))
    case_version: Mapped[int] = mapped_column(Integer)

    case: Mapped[Case] = relationship(back_populates="decisions")


# ---------------------------------------------------------------------------
# Engines and migrations
# ---------------------------------------------------------------------------


class StoreError(Exception):
    """A database that cannot be opened or migrated: the reason, for the user."""


def data_dir() -> Path:
    """Where the default database lives: ``$GOVPOST_DATA_DIR``, else ``$XDG_DATA_HOME/govpost``, else
    ``~/.local/share/govpost``."""
    explicit = os.environ.get("GOVPOST_DATA_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "govpost"


def default_url() -> str:
    return f"sqlite:///{data_dir() / 'govpost.sqlite3'}"


def normalise_url(url: str) -> str:
    """A database URL as SQLAlchemy needs it: ``postgresql://`` goes through psycopg 3."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:  # a bare path is an SQLite file
        return f"sqlite:///{url}"
    return url


def open_engine(url: str | None = None) -> Engine:
    """An engine for the URL (default: the SQLite file in the data directory, created with its folder).

    Raises:
        StoreError: the URL is not a supported database, or its folder cannot be made.
    """
    url = normalise_url(url or default_url())
    if not url.startswith(("sqlite:", "postgresql+psycopg:")):
        raise StoreError(f"`{url.split(':', 1)[0]}` is not a supported database: use a SQLite file or postgresql://…")
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        folder = Path(url[len("sqlite:///"):]).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data directory `{folder}`: {exc.strerror or exc}") from None
    try:
        if url.startswith("sqlite:"):
            engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # an unparsable URL, a missing driver
        raise StoreError(f"cannot open the database: {exc}") from None
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")  # readers do not wait for a writer
    cursor.close()


def migrate(engine: Engine) -> None:
    """Create the schema, or bring it up to date: ``alembic upgrade head`` over the bundled migrations.

    Raises:
        StoreError: the database cannot be reached or migrated.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as exc:
        raise StoreError(f"cannot prepare the database: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Store:
    """A migrated database and its session factory."""

    def __init__(self, url: str | None = None):
        self.url = normalise_url(url or default_url())
        self.engine = open_engine(self.url)
        migrate(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    def setting(self, key: str, make: Any) -> str:
        """A stored setting, made by ``make()`` and stored the first time (by whichever process is first)."""
        with self.session() as s:
            row = s.get(Setting, key)
            if row is not None:
                return row.value
            s.add(Setting(key=key, value=make()))
            try:
                s.commit()
            except Exception:  # another process stored it first
                s.rollback()
            return s.scalars(select(Setting.value).where(Setting.key == key)).one()

    @property
    def display_url(self) -> str:
        """The URL without a password, to print."""
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()
