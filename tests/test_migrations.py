"""The migrations build the same schema as the models, on SQLite and PostgreSQL."""
import ast
import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from config import TestConfig
from crm import create_app
from crm.extensions import db

HERE = os.path.dirname(__file__)
# Kept by raw DDL beside the models (crm.contacts.search_index, crm.conversations.search_index).
SEARCH_INDEXES = ("contacts_fts", "ix_contacts_search_trgm", "messages_fts",
                  "ix_messages_body_words")


@pytest.fixture
def empty_database_url(app, tmp_path, request):
    if request.config.getoption("--db") == "postgres":
        base = app.config["SQLALCHEMY_DATABASE_URI"]
        name = "rapport_migration_check"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        yield base.rsplit("/", 1)[0] + "/" + name
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"


def _app_on(url: str):
    return create_app(type("C", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))


def _insert(conn, table: str, **values) -> int:
    return conn.execute(db.metadata.tables[table].insert().values(**values)).inserted_primary_key[0]


def test_no_migration_imports_the_application():
    """Migrations are frozen history: each carries its own DDL, so changing or deleting an
    application module changes no migration that already ran."""
    versions = Path(HERE).parent / "migrations" / "versions"
    imported = {}
    for path in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.split(".")[0] in {"crm", "config", "wsgi"}:
                    imported.setdefault(path.name, []).append(name)
    assert len(list(versions.glob("*.py"))) > 10
    assert imported == {}


def test_upgrade_matches_models_and_downgrades(empty_database_url):
    fresh = _app_on(empty_database_url)
    with fresh.app_context():
        upgrade()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [d for d in compare_metadata(ctx, db.metadata)
                    if not any(name in str(d) for name in SEARCH_INDEXES)]
            assert diff == []
            names = inspect(conn).get_table_names()
            if conn.dialect.name == "sqlite":
                assert {"contacts_fts", "messages_fts"} <= set(names)
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_only_the_search_index_keeps_triggers(empty_database_url):
    """Derived numbers are kept by the services: after every migration the only triggers
    left are the SQLite search index's (contacts_fts, messages_fts)."""
    fresh = _app_on(empty_database_url)
    with fresh.app_context():
        upgrade()
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                names = set(conn.scalars(text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'")))
                assert names == {f"{table}_fts_{op}" for table in ("contacts", "messages")
                                 for op in ("ai", "ad", "au")}
            else:
                assert conn.scalars(text(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).all() == []
        downgrade(revision="base")
        db.engine.dispose()


def test_0025_seeds_the_ready_made_pipelines_once(empty_database_url):
    """A new workspace gets the ready-made pipelines and lost reasons from the migrations (no
    page creates them on a GET); one that already has a pipeline keeps what it has."""
    from crm.pipeline.defaults import DEFAULT_LOST_REASONS, DEFAULT_PIPELINES

    fresh = _app_on(empty_database_url)
    with fresh.app_context():
        upgrade()
        with db.engine.connect() as conn:
            pipelines = conn.execute(text("SELECT id, name, kind, follow_up_days FROM pipelines "
                                          "ORDER BY position")).all()
            assert [(p.name, p.kind, p.follow_up_days) for p in pipelines] == [
                (name, kind, 3) for name, kind, _ in DEFAULT_PIPELINES]
            for p, (_, _, stages) in zip(pipelines, DEFAULT_PIPELINES):
                assert conn.execute(text("SELECT name, outcome FROM stages WHERE pipeline_id = "
                                         ":p ORDER BY position"), {"p": p.id}).all() == stages
            assert conn.execute(text("SELECT name FROM lost_reasons ORDER BY position")
                                ).scalars().all() == DEFAULT_LOST_REASONS
        downgrade(revision="0024")
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM stages"))
            conn.execute(text("DELETE FROM pipelines"))
            _insert(conn, "pipelines", name="Ours")
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM pipelines")).scalars().all() == ["Ours"]
            assert conn.execute(text("SELECT count(*) FROM lost_reasons")).scalar() == 8
        downgrade(revision="base")
        db.engine.dispose()


def test_0007_fills_each_deals_contact_owner_and_keeps_it(empty_database_url):
    """Deals that exist before migration 0007 get their contact's owner, and from then on
    (until 0018 hands the copy to the services) the triggers keep it."""
    fresh = _app_on(empty_database_url)
    tables = db.metadata.tables
    with fresh.app_context():
        upgrade(revision="0006")
        with db.engine.begin() as conn:
            rep = _insert(conn, "users", email="r@example.com", name="R", password_hash="x")
            pipeline = _insert(conn, "pipelines", name="Sales")
            stage = _insert(conn, "stages", pipeline_id=pipeline, name="New")
            contacts = [_insert(conn, "contacts", name=f"P{owner}", owner_id=owner)
                        for owner in (rep, None)]
            deals = [_insert(conn, "deals", contact_id=c, pipeline_id=pipeline, stage_id=stage,
                             owner_id=rep, title="D") for c in contacts]
        upgrade(revision="0017")
        kept = text("SELECT contact_owner_id FROM deals WHERE id = :id ORDER BY id")
        with db.engine.begin() as conn:
            assert [conn.scalar(kept, {"id": d}) for d in deals] == [rep, None]
            conn.execute(tables["contacts"].update().where(tables["contacts"].c.id == contacts[1])
                         .values(owner_id=rep))
            assert [conn.scalar(kept, {"id": d}) for d in deals] == [rep, rep]
        downgrade(revision="base")
        db.engine.dispose()


def test_0031_counts_what_the_triggers_left_uncounted(empty_database_url):
    """Response times whose days were still marked dirty (0008), and messages whose hours
    were, are counted once 0031 has dropped the triggers; the counts equal a recount."""
    from datetime import datetime

    from crm.contacts import dm_counts

    fresh = _app_on(empty_database_url)
    tables = db.metadata.tables
    with fresh.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as conn:
            rep = _insert(conn, "users", email="r@example.com", name="R", password_hash="x")
            contact = _insert(conn, "contacts", name="P", owner_id=rep)
            conv = _insert(conn, "conversations", contact_id=contact, platform="instagram",
                           state="closed", message_count=0)
            conn.execute(tables["response_times"].insert(), [
                dict(conversation_id=conv, burst_started_at=datetime(2026, 11, 2, 9),
                     answered_at=datetime(2026, 11, 2, 10), response_seconds=3600,
                     responder_id=rep),
                dict(conversation_id=conv, burst_started_at=datetime(2026, 11, 3, 9),
                     answered_at=None, response_seconds=None, responder_id=None)])
            conn.exec_driver_sql(
                "INSERT INTO messages (conversation_id, direction, sent_at, body, created_at) "
                "VALUES (%d, 'in', '2026-11-02 09:00:00', 'hi', '2026-11-02 09:00:00')" % conv)
            assert conn.scalar(text("SELECT count(*) FROM response_dirty_days")) == 2
            assert conn.scalar(text("SELECT count(*) FROM dm_dirty_hours")) == 1
        upgrade()
        counted = dm_counts.stored_responses()
        assert counted[("2026-11-02", -1, "", rep, dm_counts.bucket_of(3600))] == (1, 1)
        assert counted[("2026-11-03", rep, "instagram", 0, -2)] == (1, 0)
        assert counted == dm_counts.recounted_responses()
        assert dm_counts.stored_hours() == {
            ("2026-11-02 09", rep, "instagram", "in", 0, 0): (1, 0)}
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


@pytest.mark.parametrize("with_key", [True, False])
def test_0017_encrypts_stored_two_factor_keys_or_turns_two_factor_off(empty_database_url,
                                                                      monkeypatch, with_key):
    """Keys stored in the clear before 0017 are encrypted in place with the key in the
    environment; without one, two-factor is turned off for those users (they enrol again)."""
    from datetime import datetime

    from cryptography.fernet import Fernet

    key = TestConfig.CHANNELS_ENCRYPTION_KEY
    if with_key:
        monkeypatch.setenv("CHANNELS_ENCRYPTION_KEY", key)
    else:
        monkeypatch.delenv("CHANNELS_ENCRYPTION_KEY", raising=False)
    fresh = _app_on(empty_database_url)
    with fresh.app_context():
        upgrade(revision="0016")
        with db.engine.begin() as conn:
            user = _insert(conn, "users", email="r@example.com", name="R", password_hash="x",
                           totp_enabled_at=datetime(2026, 12, 1))
            conn.execute(text("UPDATE users SET totp_secret = 'JBSWY3DPEHPK3PXP'"))
            _insert(conn, "recovery_codes", user_id=user, code_hash="h" * 64)
        upgrade()
        with db.engine.begin() as conn:
            secret, enabled = conn.execute(
                text("SELECT totp_key, totp_enabled_at FROM users")).one()
            codes = conn.scalar(text("SELECT count(*) FROM recovery_codes"))
        if with_key:
            assert Fernet(key).decrypt(secret.encode()) == b"JBSWY3DPEHPK3PXP"
            assert enabled is not None and codes == 1
        else:
            assert (secret, enabled, codes) == (None, None, 0)
        downgrade(revision="0016")
        if with_key:                                          # back in the clear
            with db.engine.begin() as conn:
                assert conn.scalar(text("SELECT totp_secret FROM users")) == "JBSWY3DPEHPK3PXP"
        downgrade(revision="base")
        db.engine.dispose()


def test_0021_puts_past_events_on_their_contacts_timeline(empty_database_url):
    """Events written before 0021 get the contact they are about: the contact's own, and its
    tasks', deals' and DMs' — but not a hand-logged DM's or a note's "create" (the message or
    note itself is on the timeline)."""
    fresh = _app_on(empty_database_url)
    with fresh.app_context():
        upgrade(revision="0020")
        with db.engine.begin() as conn:
            user = _insert(conn, "users", email="r@example.com", name="R", password_hash="x")
            contact = _insert(conn, "contacts", name="Maya")
            pipeline = _insert(conn, "pipelines", name="Sales")
            stage = _insert(conn, "stages", pipeline_id=pipeline, name="New")
            deal = _insert(conn, "deals", contact_id=contact, pipeline_id=pipeline,
                           stage_id=stage, owner_id=user, title="D")
            task = _insert(conn, "tasks", title="T", due_at=text("CURRENT_TIMESTAMP"),
                           contact_id=contact)
            note = _insert(conn, "notes", contact_id=contact, body="N")
            conv = _insert(conn, "conversations", contact_id=contact, platform="instagram")
            message = _insert(conn, "messages", conversation_id=conv, direction="in",
                              sent_at=text("CURRENT_TIMESTAMP"), body="hi")
            events = {(entity_type, action): _insert(
                conn, "audit_events", action=action, entity_type=entity_type,
                entity_id=entity_id, summary="", changes={}, at=text("CURRENT_TIMESTAMP"))
                for entity_type, action, entity_id in (
                    ("contact", "update", contact), ("deal", "move", deal),
                    ("task", "snooze", task), ("note", "create", note),
                    ("message", "update", message), ("message", "create", message),
                    ("user", "sign_in", user))}
        upgrade()
        with db.engine.begin() as conn:
            kept = dict(conn.execute(text("SELECT id, contact_id FROM audit_events")).all())
        assert {key: kept[i] for key, i in events.items()} == {
            ("contact", "update"): contact, ("deal", "move"): contact,
            ("task", "snooze"): contact, ("note", "create"): None,
            ("message", "update"): contact, ("message", "create"): None,
            ("user", "sign_in"): None}
        downgrade(revision="base")
        db.engine.dispose()


def test_0034_keeps_each_phones_last_nine_digits(empty_database_url):
    """Phones typed before 0034, however they were typed, get their last nine digits; a
    phone with fewer, or none, gets none."""
    fresh = _app_on(empty_database_url)
    with fresh.app_context():
        upgrade(revision="0033")
        with db.engine.begin() as conn:
            typed = {_insert(conn, "contacts", name=f"P{i}", phone=phone): tail
                     for i, (phone, tail) in enumerate((
                         ("+44 7700 900-002", "700900002"), ("(631) 555-1234", "315551234"),
                         ("555 1234", None), (None, None)))}
        upgrade()
        with db.engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT id, phone_tail FROM contacts")).all())
        assert stored == typed
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def test_0035_gives_each_conversation_its_contacts_owner(empty_database_url):
    """Conversations made before 0035 get their contact's owner; an unassigned contact's get
    none."""
    fresh = _app_on(empty_database_url)
    with fresh.app_context():
        upgrade(revision="0034")
        with db.engine.begin() as conn:
            rep = _insert(conn, "users", email="r@example.com", name="R", password_hash="x")
            owned = _insert(conn, "contacts", name="Owned", owner_id=rep)
            nobodys = _insert(conn, "contacts", name="Nobody's")
            convs = {_insert(conn, "conversations", contact_id=contact, platform=platform):
                     owner for contact, owner in ((owned, rep), (nobodys, None))
                     for platform in ("instagram", "x")}
        upgrade()
        with db.engine.connect() as conn:
            stored = dict(conn.execute(text(
                "SELECT id, contact_owner_id FROM conversations")).all())
        assert stored == convs
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()
