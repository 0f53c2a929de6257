"""Imports on the queue: a page only queues, the limits, the job's own row, the clean-up."""
import os
import time
from datetime import timedelta

from sqlalchemy import select

from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.imports import cleanup, storage
from crm.imports.models import ImportRun
from crm.jobs import queue
from crm.jobs.models import Job
from tests.test_imports_support import (import_storage,  # noqa: F401 (fixture)
                                        DATA, counts, import_dm, upload_csv, upload_dm)


def busy(user, status="running", filename="big.zip"):
    run = ImportRun(kind="dm", status=status, filename=filename, created_by_id=user.id)
    db.session.add(run)
    db.session.commit()
    return run


def test_each_step_is_a_job_on_the_run(auth, rep):
    rid = import_dm(auth.login(rep), DATA / "instagram_legacy")
    rows = db.session.scalars(select(Job).order_by(Job.id)).all()
    assert [(j.task, j.status, j.subject, j.user_id) for j in rows] == [
        ("imports.read_dm", "done", f"import-run:{rid}", rep.id),
        ("imports.write_dm", "done", f"import-run:{rid}", rep.id)]
    assert rows[1].label == "DM import: instagram_legacy.zip"


def test_a_page_only_queues_while_no_worker_runs(app, auth, rep, monkeypatch, tmp_path, hx):
    """With a real queue, the upload answers at once; the run waits for a worker."""
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "sqlite")
    monkeypatch.setitem(app.config, "JOBS_SQLITE_PATH", str(tmp_path / "jobs.sqlite3"))
    queue.configure(app)
    try:
        client = auth.login(rep)
        resp = upload_dm(client, DATA / "instagram_legacy")
        assert resp.status_code == 302
        run = db.session.scalars(select(ImportRun)).one()
        job = db.session.scalars(select(Job)).one()
        assert run.status == "analysing" and job.status == "queued"
        assert queue.huey.pending_count() == 1             # sent to the queue after the commit
        frag = client.get(f"/imports/{run.id}/progress", headers=hx).get_data(as_text=True)
        assert "Waiting for a worker" in frag and "<html" not in frag
        # A worker (here: this process) takes it.
        task = queue.huey.dequeue()
        queue.huey.execute(task)
        db.session.expire_all()
        assert db.session.get(ImportRun, run.id).status == "previewed"
    finally:
        monkeypatch.undo()
        queue.configure(app)


def test_imports_per_user_are_limited(app, auth, rep, other_rep, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORTS_RUNNING_PER_USER", 1)
    busy(rep)
    client = auth.login(rep)
    page = upload_dm(client, DATA / "instagram_legacy").get_data(as_text=True)
    assert "You already have 1 import being read or written (at most 1 at a time)" in page
    assert db.session.scalars(select(ImportRun)).all()[1:] == []      # nothing kept
    # Someone else is not held up by rep's imports.
    assert upload_dm(auth.login(other_rep), DATA / "instagram_legacy").status_code == 302


def test_imports_in_all_are_limited(app, auth, rep, other_rep, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORTS_RUNNING_IN_ALL", 2)
    busy(rep)
    busy(other_rep, status="analysing")
    client = auth.login(rep)
    page = upload_csv(client, "Name\nAnn\n")
    rid = db.session.scalars(select(ImportRun.id).where(ImportRun.kind == "csv")).one()
    resp = client.post(f"/imports/{rid}/mapping", data={"col-0": "name"}, follow_redirects=True)
    assert "2 imports are being read or written right now" in resp.get_data(as_text=True)
    assert db.session.get(ImportRun, rid).status == "previewed"
    assert db.session.scalars(select(Job)).all() == []
    assert page.status_code == 302


def test_clean_up_deletes_what_is_old_and_keeps_the_rest(app, rep, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "IMPORT_ABANDONED_HOURS", 2)
    old, new = utcnow() - timedelta(hours=3), utcnow()

    def run(status, created, finished=None):
        r = ImportRun(kind="dm", status=status, filename="x.zip", created_by_id=rep.id,
                      created_at=created, finished_at=finished)
        db.session.add(r)
        db.session.flush()
        folder = storage.run_folder(r.id) / "upload"
        folder.mkdir(parents=True)
        r.stored_path = str(folder / "x.zip")
        return r
    stale_preview, fresh_preview = run("previewed", old), run("previewed", new)
    failed_old, failed_new = run("failed", old, old), run("failed", old, new)
    running = run("running", old)
    db.session.commit()
    orphan = storage.root() / "99999"
    orphan.mkdir()
    os.utime(orphan, (time.time() - 4 * 3600,) * 2)
    tmp_old = tmp_path / "rapport-export-old"
    tmp_old.mkdir()
    os.utime(tmp_old, (time.time() - 30 * 3600,) * 2)
    monkeypatch.setattr(cleanup.tempfile, "gettempdir", lambda: str(tmp_path))
    (tmp_path / "rapport-export-new").mkdir()

    assert cleanup.clean_up() == {"previews cancelled": 1, "uploads deleted": 1,
                                  "folders deleted": 1, "temporary folders deleted": 1}
    db.session.commit()
    assert db.session.get(ImportRun, stale_preview.id).status == "cancelled"
    assert not storage.run_folder(stale_preview.id).exists()
    assert not storage.run_folder(failed_old.id).exists()
    for kept in (fresh_preview, failed_new, running):
        assert storage.run_folder(kept.id).exists()
    assert not orphan.exists() and not tmp_old.exists()
    assert (tmp_path / "rapport-export-new").exists()
    assert counts()["messages"] == 0
