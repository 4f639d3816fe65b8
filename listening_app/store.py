"""Storage for listening studies: SQLAlchemy models, engines and versioned migrations.

SQLite (WAL journal, ``synchronous=FULL``) is the default, at ``results/listening/studies.db``;
PostgreSQL is used when the URL says so (``postgresql://...``, driven by psycopg 3), e.g. for
several app replicas. The URL comes from ``--db``, else ``$MUSEBENCH_LISTENING_DB``.

The schema is versioned: :data:`MIGRATIONS` is an ordered list of functions, each applied once
in its own transaction and recorded in the ``schema_version`` table. Migrations take a lock
(``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL) so that replicas starting at
once do not race. Stimuli are stored in the database as WAV bytes under opaque random ids, so
that every replica serves the same audio and no file name can reveal a condition.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Callable, Iterator

from sqlalchemy import (Column, Connection, DateTime, Float, ForeignKey, Integer, LargeBinary, MetaData,
                        String, Table, Text, UniqueConstraint, create_engine, event, select, text)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from musebench.errors import ConfigError
from musebench.paths import results_home

SCHEMA_VERSION = 3
_PG_LOCK_KEY = 0x6D757365  # "muse": advisory lock taken while migrating


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Study(Base):
    __tablename__ = "studies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)        # server side only
    public_id: Mapped[str] = mapped_column(String(64), unique=True)    # what a rater's URL carries
    title: Mapped[str] = mapped_column(String(200))                    # rater-facing, checked for names
    family: Mapped[str] = mapped_column(String(32))
    config_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Condition(Base):
    __tablename__ = "conditions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    name: Mapped[str] = mapped_column(String(200))                     # model name: never sent to raters
    kind: Mapped[str] = mapped_column(String(16))                      # system | reference | anchor
    run_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    info_json: Mapped[str] = mapped_column(Text, default="{}")


class Stimulus(Base):
    __tablename__ = "stimuli"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)      # opaque random id
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    condition_id: Mapped[int | None] = mapped_column(ForeignKey("conditions.id"), nullable=True)
    item: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))                      # test | source | gold | trap | training
    audio: Mapped[bytes] = mapped_column(LargeBinary)                  # WAV bytes, 16-bit PCM
    sha256: Mapped[str] = mapped_column(String(64))
    sample_rate: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    loudness_lufs: Mapped[float | None] = mapped_column(Float, nullable=True)  # before normalisation
    gain_db: Mapped[float] = mapped_column(Float)
    peak_dbfs: Mapped[float] = mapped_column(Float)                    # true peak after the gain
    info_json: Mapped[str] = mapped_column(Text, default="{}")


class Trial(Base):
    __tablename__ = "trials"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)      # opaque random id
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    stimulus_id: Mapped[str] = mapped_column(ForeignKey("stimuli.id"))
    source_id: Mapped[str | None] = mapped_column(ForeignKey("stimuli.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))                      # test | gold | trap | training
    questions: Mapped[str] = mapped_column(String(200))                # comma-separated question keys
    expected_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    caption: Mapped[str | None] = mapped_column(Text, nullable=True)   # training text shown to raters
    position: Mapped[int] = mapped_column(Integer, default=0)
    assigned_count: Mapped[int] = mapped_column(Integer, default=0)
    other_id: Mapped[str | None] = mapped_column(ForeignKey("stimuli.id"), nullable=True)  # A/B: clip B (v3)
    page: Mapped[str | None] = mapped_column(String(64), nullable=True)  # MUSHRA: trials rated on one page (v3)


class Rater(Base):
    __tablename__ = "raters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)        # unguessable resume token
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    stage: Mapped[str] = mapped_column(String(16))
    assignment_json: Mapped[str] = mapped_column(Text)
    headphone_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    completion_code: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("rater_id", "trial_id", "question", name="uq_rating"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id"))
    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), index=True)
    question: Mapped[str] = mapped_column(String(32))
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    response_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    listen_fraction: Mapped[float | None] = mapped_column(Float, nullable=True)  # added by migration 2


class View(Base):
    """When the server first showed a rater a trial (or the headphone check): the listening clock."""

    __tablename__ = "views"
    __table_args__ = (UniqueConstraint("rater_id", "what", name="uq_view"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id"))
    what: Mapped[str] = mapped_column(String(64))                      # a trial id, or "headphones"
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AudioGrant(Base):
    """An opaque per-rater name under which one stimulus is served over HTTP (``/audio/<name>``)."""

    __tablename__ = "audio_grants"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)   # HMAC of (rater, stimulus): unguessable
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id"))
    stimulus_id: Mapped[str] = mapped_column(ForeignKey("stimuli.id"))


class SignIn(Base):
    """Admin sign-in attempts, shared by every session and replica (backoff and lockout)."""

    __tablename__ = "admin_signins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ok: Mapped[int] = mapped_column(Integer)


# --------------------------------------------------------------------------- migrations
def _m1_initial(conn: Connection) -> None:
    """Version 1: the tables as first released (frozen here; never edit a released migration)."""
    md = MetaData()
    tz = DateTime(timezone=True)
    Table("studies", md, Column("id", Integer, primary_key=True), Column("name", String(200), unique=True, nullable=False),
          Column("public_id", String(64), unique=True, nullable=False), Column("title", String(200), nullable=False),
          Column("family", String(32), nullable=False), Column("config_json", Text, nullable=False),
          Column("status", String(16), nullable=False), Column("created_at", tz, nullable=False))
    Table("conditions", md, Column("id", Integer, primary_key=True),
          Column("study_id", Integer, ForeignKey("studies.id"), nullable=False),
          Column("name", String(200), nullable=False), Column("kind", String(16), nullable=False),
          Column("run_dir", Text), Column("info_json", Text, nullable=False))
    Table("stimuli", md, Column("id", String(64), primary_key=True),
          Column("study_id", Integer, ForeignKey("studies.id"), nullable=False),
          Column("condition_id", Integer, ForeignKey("conditions.id")), Column("item", String(300), nullable=False),
          Column("role", String(16), nullable=False), Column("audio", LargeBinary, nullable=False),
          Column("sha256", String(64), nullable=False), Column("sample_rate", Integer, nullable=False),
          Column("duration_s", Float, nullable=False), Column("loudness_lufs", Float),
          Column("gain_db", Float, nullable=False), Column("peak_dbfs", Float, nullable=False),
          Column("info_json", Text, nullable=False))
    Table("trials", md, Column("id", String(64), primary_key=True),
          Column("study_id", Integer, ForeignKey("studies.id"), nullable=False),
          Column("stimulus_id", String(64), ForeignKey("stimuli.id"), nullable=False),
          Column("source_id", String(64), ForeignKey("stimuli.id")), Column("kind", String(16), nullable=False),
          Column("questions", String(200), nullable=False), Column("expected_json", Text), Column("caption", Text),
          Column("position", Integer, nullable=False), Column("assigned_count", Integer, nullable=False))
    Table("raters", md, Column("id", Integer, primary_key=True),
          Column("study_id", Integer, ForeignKey("studies.id"), nullable=False),
          Column("token", String(64), unique=True, nullable=False), Column("external_id", String(200)),
          Column("stage", String(16), nullable=False), Column("assignment_json", Text, nullable=False),
          Column("headphone_json", Text), Column("completion_code", String(64), nullable=False),
          Column("created_at", tz, nullable=False), Column("finished_at", tz))
    Table("ratings", md, Column("id", Integer, primary_key=True),
          Column("rater_id", Integer, ForeignKey("raters.id"), nullable=False),
          Column("trial_id", String(64), ForeignKey("trials.id"), nullable=False),
          Column("question", String(32), nullable=False), Column("value", Integer, nullable=False),
          Column("created_at", tz, nullable=False), Column("response_ms", Integer),
          UniqueConstraint("rater_id", "trial_id", "question", name="uq_rating"))
    md.create_all(conn)


def _m2_listen_fraction(conn: Connection) -> None:
    """Version 2: how much of the clip the rater had played when rating; an index for per-trial reads."""
    conn.execute(text("ALTER TABLE ratings ADD COLUMN listen_fraction FLOAT"))
    conn.execute(text("CREATE INDEX ix_ratings_trial_id ON ratings (trial_id)"))


def _m3_protocols_and_checks(conn: Connection) -> None:
    """Version 3: A/B and MUSHRA trials, server-side listening clock, HTTP audio grants, sign-in log."""
    conn.execute(text("ALTER TABLE trials ADD COLUMN other_id VARCHAR(64) REFERENCES stimuli (id)"))
    conn.execute(text("ALTER TABLE trials ADD COLUMN page VARCHAR(64)"))
    md = MetaData()
    Table("raters", md, Column("id", Integer, primary_key=True))
    Table("stimuli", md, Column("id", String(64), primary_key=True))
    tz = DateTime(timezone=True)
    Table("views", md, Column("id", Integer, primary_key=True),
          Column("rater_id", Integer, ForeignKey("raters.id"), nullable=False),
          Column("what", String(64), nullable=False), Column("shown_at", tz, nullable=False),
          UniqueConstraint("rater_id", "what", name="uq_view"))
    Table("audio_grants", md, Column("name", String(64), primary_key=True),
          Column("rater_id", Integer, ForeignKey("raters.id"), nullable=False),
          Column("stimulus_id", String(64), ForeignKey("stimuli.id"), nullable=False))
    Table("admin_signins", md, Column("id", Integer, primary_key=True), Column("at", tz, nullable=False),
          Column("ok", Integer, nullable=False))
    for name in ("views", "audio_grants", "admin_signins"):
        md.tables[name].create(conn)
    conn.execute(text("CREATE INDEX ix_raters_study_external ON raters (study_id, external_id)"))


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "initial tables", _m1_initial),
    (2, "ratings.listen_fraction and index on ratings.trial_id", _m2_listen_fraction),
    (3, "trials.other_id/page; views, audio_grants, admin_signins; index on raters (study_id, external_id)",
     _m3_protocols_and_checks),
]
assert [v for v, _, _ in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))

_schema_version = Table("schema_version", MetaData(), Column("version", Integer, primary_key=True),
                        Column("description", Text, nullable=False),
                        Column("applied_at", DateTime(timezone=True), nullable=False))


# --------------------------------------------------------------------------- engines
def default_url() -> str:
    """``$MUSEBENCH_LISTENING_DB``, else SQLite at ``<results>/listening/studies.db``."""
    env = os.environ.get("MUSEBENCH_LISTENING_DB")
    if env:
        return env
    return f"sqlite:///{(results_home() / 'listening' / 'studies.db').resolve()}"


def _normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    """A database of listening studies.

    Parameters
    ----------
    url : str or None
        SQLAlchemy URL: ``sqlite:///path.db`` or ``postgresql://user@host:port/db``.
        None uses :func:`default_url`.
    migrate : bool
        Bring the schema up to :data:`SCHEMA_VERSION` on open (default True).
    pool_size : int
        Connections kept open (PostgreSQL); SQLite writes are serialised by the database anyway.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True, pool_size: int = 10):
        url = _normalise_url(url or default_url())
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            db = parsed.database
            if not db or db == ":memory:":
                raise ConfigError(f"{url}: the listening store needs a file (in-memory SQLite is one per connection)")
            Path(db).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False},
                                        pool_size=pool_size, max_overflow=60, pool_timeout=60)
            _configure_sqlite(self.engine)
        elif self.dialect == "postgresql":
            self.engine = create_engine(url, pool_size=pool_size, max_overflow=40, pool_timeout=60,
                                        pool_pre_ping=True)
        else:
            raise ConfigError(f"{parsed.render_as_string(hide_password=True)}: unsupported database "
                              f"{self.dialect!r} (use sqlite:/// or postgresql://)")
        self.url = parsed.render_as_string(hide_password=True)
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else nullcontext()
        self.cache: dict[str, dict] = {"trials": {}, "raters": {}}  # immutable rows, read once
        if migrate:
            self.migrate()

    # -- transactions
    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: ``BEGIN IMMEDIATE`` on SQLite, a plain transaction on PostgreSQL.

        On SQLite, writers of this process also queue on a lock first: SQLite has one writer at
        a time anyway, and a lock hands it over in order instead of SQLite's sleep-and-retry busy
        handler, which gives long tail latencies under load. Other processes still wait on the
        database lock (``busy_timeout``).
        """
        with self._write_lock, self.engine.connect() as conn:
            conn.execution_options(musebench_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on SQLite WAL)."""
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    # -- schema
    def schema_version(self) -> int:
        with self.read() as conn:
            if not self.engine.dialect.has_table(conn, "schema_version"):
                return 0
            return int(conn.execute(select(_schema_version.c.version).order_by(
                _schema_version.c.version.desc()).limit(1)).scalar() or 0)

    def migrate(self, *, target: int = SCHEMA_VERSION) -> list[int]:
        """Apply pending migrations up to ``target``; return the versions applied."""
        applied: list[int] = []
        with self.write() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            _schema_version.create(conn, checkfirst=True)
            current = int(conn.execute(select(_schema_version.c.version).order_by(
                _schema_version.c.version.desc()).limit(1)).scalar() or 0)
            if current > SCHEMA_VERSION:
                raise ConfigError(f"{self.url}: database schema version {current} is newer than this "
                                  f"MuseBench understands ({SCHEMA_VERSION}); upgrade MuseBench")
            for version, description, fn in MIGRATIONS:
                if current < version <= target:
                    fn(conn)
                    conn.execute(_schema_version.insert().values(version=version, description=description,
                                                                 applied_at=utcnow()))
                    applied.append(version)
        return applied

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised through every test
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover
        immediate = conn.get_execution_options().get("musebench_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
