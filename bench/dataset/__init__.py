"""The benchmark dataset: a workspace at scale, written through the app's own tables.

    python -m bench.dataset --contacts 100000            # bench/data/<name>.sqlite3
    python -m bench.dataset --contacts 10000 --database-url postgresql://postgres@127.0.0.1/bench

The same seed and sizes give the same data; a database generated before (with the same
schema) is reused, so only the first run pays for generation.
"""
import atexit
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.schema import CreateIndex, CreateTable

from bench.dataset import deals, dms, load, people, tasks
from bench.dataset.world import World

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
GENERATOR_VERSION = 3
BULK_TABLES = ("contacts", "social_handles", "contact_tags", "audit_events", "consent_events",
               "conversations", "messages", "response_times", "deals", "stage_changes", "tasks")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Sizes:
    contacts: int
    messages: int
    deals: int
    open_deals: int
    tasks: int

    @classmethod
    def scaled(cls, contacts: int, messages: int | None = None, deals: int | None = None,
               tasks: int | None = None) -> "Sizes":
        """The issue's proportions: 100,000 contacts → 1,000,000 messages, 20,000 deals
        (10,000 open), 50,000 tasks, one conversation per contact on average."""
        deals = contacts // 5 if deals is None else deals
        return cls(contacts=contacts, messages=messages or contacts * 10, deals=deals,
                   open_deals=deals // 2, tasks=contacts // 2 if tasks is None else tasks)

    @property
    def conversations(self) -> int:
        return self.contacts

    @property
    def slug(self) -> str:
        return f"c{self.contacts}-m{self.messages}-d{self.deals}-t{self.tasks}"


def schema_fingerprint() -> str:
    """Changes whenever a model gains a column or index, so a stale database is not reused."""
    from sqlalchemy.dialects import sqlite

    from crm.extensions import db
    import crm.models  # noqa: F401

    parts = [f"generator {GENERATOR_VERSION}"]
    for t in sorted(db.metadata.sorted_tables, key=lambda t: t.name):
        parts.append(str(CreateTable(t).compile(dialect=sqlite.dialect())))
        parts += sorted(str(CreateIndex(ix).compile(dialect=sqlite.dialect()))
                        for ix in t.indexes)
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:10]


def sqlalchemy_url(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def check_local(url: str) -> None:
    """Benchmarks only ever touch a database on this machine."""
    if url.startswith("sqlite"):
        return
    host = urlsplit(url).hostname or ""
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"Refusing to benchmark against {host or 'a socket'}: "
                         "use a PostgreSQL on 127.0.0.1.")


def scratch_cache_dir() -> str:
    """A figure cache folder of its own (see bench_app), removed when this process exits."""
    folder = tempfile.mkdtemp(prefix="rapport-bench-cache-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def bench_app(url: str, **settings):
    """The app on the given database, configured as in production unless `settings` say
    otherwise (the in-process query counter turns CSRF off: it runs no SQL either way)."""
    from config import Config
    from crm import create_app

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = sqlalchemy_url(url)
        SECRET_KEY = os.environ.get("BENCH_SECRET_KEY", "bench-only-secret")
        # Figures remembered on an earlier copy of the data are not this one's.
        CACHE_DIR = scratch_cache_dir()

    for key, value in settings.items():
        setattr(BenchConfig, key, value)
    return create_app(BenchConfig)


def _log(quiet: bool, started: float, message: str) -> None:
    if not quiet:
        print(f"  [{time.monotonic() - started:6.1f} s] {message}", file=sys.stderr, flush=True)


def generate(url: str, sizes: Sizes, seed: int = 1, quiet: bool = False) -> dict:
    """Write the whole dataset into the (emptied) database at `url`; returns what it made."""
    from crm.core.timeutil import utcnow
    from crm.extensions import db

    check_local(url)
    started = time.monotonic()
    app = bench_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        pipelines, reasons = deals.read_pipelines()
        db.session.remove()
        world = World(rng=random.Random(seed), now=utcnow().replace(microsecond=0))
        with db.engine.begin() as conn:
            with load.fast_load(conn, BULK_TABLES):
                people.add_users(conn, world)
                consent = people.add_contacts(conn, world, sizes.contacts)
                _log(quiet, started, f"{sizes.contacts:,} contacts")
                dms.add_templates(conn, world)
                dms.add_import_runs(conn, world)
                opt_outs = dms.add_conversations(conn, world, sizes.conversations,
                                                 sizes.messages)
                _log(quiet, started, f"{sizes.conversations:,} conversations, "
                                     f"{sizes.messages:,} messages")
                people.add_consent_history(conn, world, consent, opt_outs)
                campaigns = deals.add_campaigns(conn, world)
                deals.add_deals(conn, world, sizes.deals, sizes.open_deals, pipelines, reasons,
                                campaigns)
                task_count = tasks.add_tasks(conn, world, sizes.tasks)
                _log(quiet, started, f"{sizes.deals:,} deals, {task_count:,} tasks; "
                                     "building indexes")
        fill_rollup(world.now)
        _log(quiet, started, "DM rollup")
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            # As autovacuum would soon: visibility maps let index-only scans skip the heap.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        db.engine.dispose()
    _log(quiet, started, "done")
    return {"seed": seed, "sizes": asdict(sizes), "schema": schema_fingerprint(),
            "generated_at": world.now.isoformat(), "seconds": round(time.monotonic() - started, 1),
            "tasks": task_count, "password": people.PASSWORD, **world.special}


def fill_rollup(now) -> None:
    """The dashboard's DM counts per hour and first-response counts per day, as the app's
    services would have kept them (crm.contacts.dm_counts), counted once for the whole load."""
    from crm.contacts import dm_counts
    from crm.extensions import db

    dm_counts.recount()
    db.session.commit()
    db.session.remove()


def _meta_path(db_path: Path) -> Path:
    return db_path.with_suffix(".json")


def ensure(sizes: Sizes, seed: int = 1, database_url: str | None = None,
           quiet: bool = False) -> tuple[str, dict]:
    """(url, what was generated): reuse the database made with this seed, sizes and schema,
    or generate it. SQLite files live in bench/data/ and are written under a temporary name
    first, so an interrupted run is never mistaken for a finished one."""
    schema = schema_fingerprint()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if database_url:
        check_local(database_url)
        key = hashlib.sha1(database_url.encode()).hexdigest()[:8]
        meta_path = DATA_DIR / f"pg-{key}-s{seed}-{sizes.slug}.json"
        meta = _read(meta_path)
        if meta and meta.get("schema") == schema and _counts_match(database_url, sizes):
            _vacuum(database_url)
            return database_url, meta
        for stale in DATA_DIR.glob(f"pg-{key}-*.json"):
            stale.unlink()
        meta = generate(database_url, sizes, seed, quiet)
        meta_path.write_text(json.dumps(meta, indent=2))
        return database_url, meta
    path = DATA_DIR / f"rapport-s{seed}-{sizes.slug}-{schema}.sqlite3"
    meta = _read(_meta_path(path))
    if path.exists() and meta:
        return f"sqlite:///{path}", meta
    for stale in DATA_DIR.glob(f"rapport-s{seed}-{sizes.slug}-*"):
        stale.unlink()   # the same dataset for an older schema
    tmp = path.with_name(path.stem + ".partial.sqlite3")
    for leftover in DATA_DIR.glob(tmp.name + "*"):
        leftover.unlink()
    meta = generate(f"sqlite:///{tmp}", sizes, seed, quiet)
    tmp.rename(path)
    for leftover in DATA_DIR.glob(tmp.name + "*"):
        leftover.unlink()   # the writers' lock file, the webhook spool: the app's, not data
    _meta_path(path).write_text(json.dumps(meta, indent=2))
    return f"sqlite:///{path}", meta


def _vacuum(url: str) -> None:
    """A database reused from an earlier run holds that run's writes: thousands of deals
    moved and contacts edited leave dead rows, and index-only scans fetch from the heap again
    (a rep's contacts filter read 3,782 rows from it). Vacuumed and analyzed, as autovacuum
    would between runs, each run starts from tables in the state the first one found."""
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    finally:
        engine.dispose()


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _counts_match(url: str, sizes: Sizes) -> bool:
    from sqlalchemy import create_engine

    from crm.contacts.models import Contact

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Contact)) == sizes.contacts
    except Exception:
        return False
    finally:
        engine.dispose()
