"""The migrations build the same schema as the models, on SQLite and PostgreSQL."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from config import TestConfig
from crm import create_app
from crm.extensions import db

HERE = os.path.dirname(__file__)


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


def test_upgrade_matches_models_and_downgrades(empty_database_url):
    fresh = create_app(type("C", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": empty_database_url}))
    with fresh.app_context():
        upgrade()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [d for d in compare_metadata(ctx, db.metadata)
                    if "contacts_fts" not in str(d) and "ix_contacts_search_trgm" not in str(d)]
            assert diff == []
            names = inspect(conn).get_table_names()
            if conn.dialect.name == "sqlite":
                assert "contacts_fts" in names
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_0007_fills_each_deals_contact_owner_and_keeps_it(empty_database_url):
    """Deals that exist before migration 0007 get their contact's owner, and from then on the
    triggers keep it."""
    fresh = create_app(type("C", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": empty_database_url}))
    tables = db.metadata.tables
    with fresh.app_context():
        upgrade(revision="0006")
        with db.engine.begin() as conn:
            rep = conn.execute(tables["users"].insert().values(
                email="r@example.com", name="R", password_hash="x")).inserted_primary_key[0]
            pipeline = conn.execute(tables["pipelines"].insert().values(
                name="Sales")).inserted_primary_key[0]
            stage = conn.execute(tables["stages"].insert().values(
                pipeline_id=pipeline, name="New")).inserted_primary_key[0]
            contacts = [conn.execute(tables["contacts"].insert().values(
                name=f"P{owner}", owner_id=owner)).inserted_primary_key[0]
                for owner in (rep, None)]
            deals = [conn.execute(tables["deals"].insert().values(
                contact_id=c, pipeline_id=pipeline, stage_id=stage, owner_id=rep,
                title="D")).inserted_primary_key[0] for c in contacts]
        upgrade()
        kept = text("SELECT contact_owner_id FROM deals WHERE id = :id ORDER BY id")
        with db.engine.begin() as conn:
            assert [conn.scalar(kept, {"id": d}) for d in deals] == [rep, None]
            conn.execute(tables["contacts"].update().where(tables["contacts"].c.id == contacts[1])
                         .values(owner_id=rep))
            assert [conn.scalar(kept, {"id": d}) for d in deals] == [rep, rep]
        downgrade(revision="base")
        db.engine.dispose()
