"""The figure cache as production runs it without Redis: diskcache's SQLite file, which
the web and the job workers share. What another process commits — a worker taking in a
live DM, an import — shows on the web's next load: the remembered needs-reply badge, and
the version the pages polling for new DMs compare."""
import os
import subprocess
import sys
from pathlib import Path

import diskcache
import pytest

from crm import DISK_CACHE
from crm.channels import live
from crm.conversations.services import needs_reply_count
from crm.extensions import cache as extension
from tests import factories

ROOT = Path(__file__).resolve().parent.parent

# Another process, as a job worker is: the app built from the environment (config.Config),
# one inbound DM logged through the ingestion service and committed.
ANOTHER_PROCESS = """
import sys
from crm import create_app
from crm.accounts.models import User
from crm.contacts.models import Contact
from crm.conversations import services
from crm.extensions import db

app = create_app("config.Config")
assert app.config["CACHE_TYPE"] == "crm.core.disk_cache.DiskCache", app.config["CACHE_TYPE"]
with app.app_context():
    user = db.session.get(User, int(sys.argv[1]))
    contact = db.session.get(Contact, int(sys.argv[2]))
    services.log_message(user, contact, platform="instagram", direction="in",
                         body="Are you free for a call this week?")
    db.session.commit()
"""


@pytest.fixture
def shared_files(app, tmp_path):
    """This app's figure cache in a CACHE_DIR, as config.Config sets it up when REDIS_URL is
    not set, and remembering (on in production, off in most tests)."""
    folder = tmp_path / "cache"
    extension.init_app(app, config={"CACHE_TYPE": DISK_CACHE, "CACHE_DIR": str(folder)})
    app.config["REPORTS_CACHE"] = True
    yield folder
    app.config.pop("REPORTS_CACHE")
    extension.init_app(app)


def test_a_dm_another_process_commits_shows_on_the_webs_next_load(app, db, rep, shared_files):
    contact = factories.ContactFactory(owner_id=rep.id, name="Noor Haddad")
    db.session.commit()
    polled = live.dm_version()
    assert needs_reply_count(rep) == 0          # remembered from here on
    assert needs_reply_count(rep) == 0

    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "CACHE_DIR": str(shared_files), "SECRET_KEY": "another-process",
           "CHANNELS_ENCRYPTION_KEY": app.config["CHANNELS_ENCRYPTION_KEY"],
           "JOBS_BACKEND": "immediate", "PYTHONPATH": str(ROOT)}
    for name in ("RAPPORT_CONFIG", "REDIS_URL"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", ANOTHER_PROCESS, str(rep.id), str(contact.id)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]

    db.session.rollback()
    assert needs_reply_count(rep) == 1
    assert live.dm_version() != polled


def test_the_default_configuration_shares_the_cache_through_files(tmp_path):
    from config import Config
    from crm import create_app

    class Production(Config):
        SECRET_KEY = "x" * 32
        REDIS_URL = None
        CACHE_TYPE = DISK_CACHE
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'rapport.sqlite3'}"

    assert Config.CACHE_TYPE == ("RedisCache" if Config.REDIS_URL else DISK_CACHE)
    app = create_app(Production)
    folder = Path(app.config["CACHE_DIR"])
    assert folder.parent == Path(app.instance_path) / "cache"
    # A folder per database: another database's figures are never read for this one.
    Production.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    assert Path(create_app(Production).config["CACHE_DIR"]).parent == folder.parent
    assert create_app(Production).config["CACHE_DIR"] != str(folder)


def test_a_figure_keeps_one_entry_however_often_what_it_reads_changes(app, db, rep,
                                                                      shared_files):
    from crm.conversations import services

    contact = factories.ContactFactory(owner_id=rep.id)
    db.session.commit()

    def log_and_count(n):
        services.log_message(rep, contact, platform="instagram", direction="in",
                             body=f"Message {n}")
        db.session.commit()
        return needs_reply_count(rep)

    def entries():
        with diskcache.Cache(str(shared_files)) as stored:
            return sorted(stored)

    assert log_and_count(1) == 1
    first = entries()
    for n in range(2, 6):
        log_and_count(n)
    # The badge's entry was replaced each time, the tables' generations renewed in place.
    assert entries() == first


def test_a_logged_dm_renews_the_dm_tables_generation_once(app, db, rep, shared_files,
                                                          monkeypatch):
    """A DM writes a message, its conversation, the counts per hour and day: tables that
    share one generation, so the commit writes one entry for them (and one for the
    contact's latest outbound DM), not one per table."""
    from crm.conversations import services

    contact = factories.ContactFactory(owner_id=rep.id, consent_status="opted_in")
    db.session.commit()
    renewed = []
    set_many = extension.set_many
    monkeypatch.setattr(extension, "set_many",
                        lambda mapping, **kw: renewed.append(sorted(mapping)) or
                        set_many(mapping, **kw))
    services.log_message(rep, contact, platform="instagram", direction="out",
                         body="Sending the brief now.")
    db.session.commit()
    assert renewed == [["gen:contacts.last_outbound_at", "gen:dms"]]
