"""The job queue in its test mode (immediate): rows, failures, the sweep, the admin page."""
import logging

import pytest
from sqlalchemy import select

from crm import jobs
from crm.extensions import db
from crm.jobs import lease, sweep
from crm.jobs.models import Job
from crm.jobs.registry import on_failure, on_retry

seen = []


@jobs.job("tests.count", label="Counting")
def count_to(job, n):
    job.progress_done = job.progress_total = n
    db.session.commit()
    seen.append(n)


@jobs.job("tests.refuse", label="Refusing")
def refuse(job):
    raise jobs.JobFailed("Row 3: the email is not an email.")


@jobs.job("tests.crash", label="Crashing", failure="Crashing stopped on our side.")
def crash(job):
    raise RuntimeError("secret path /srv/app and SQL SELECT * FROM users")


marked = []
on_failure("tests.crash")(lambda job, message: marked.append((job.id, message)))


@on_retry("tests.refuse")
def refuse_retry(job):
    from crm.core.errors import ValidationFailed
    raise ValidationFailed("The uploaded file was deleted; upload it again.")


@pytest.fixture(autouse=True)
def _clear():
    seen.clear()
    marked.clear()


def test_a_job_runs_when_its_transaction_commits(db, admin):
    job = jobs.enqueue("tests.count", 3, user=admin, subject="count:3")
    assert seen == []          # not before the commit
    db.session.commit()
    assert seen == [3]
    job = db.session.get(Job, job.id)
    assert (job.status, job.attempts, job.progress_done, job.user_id) == ("done", 1, 3, admin.id)
    assert job.worker and job.started_at and job.finished_at


def test_a_rolled_back_job_never_runs(db):
    job_id = jobs.enqueue("tests.count", 4).id
    db.session.rollback()
    db.session.commit()
    assert seen == [] and db.session.get(Job, job_id) is None


def test_unknown_job_is_refused(db):
    with pytest.raises(LookupError):
        jobs.enqueue("tests.nothing")


def test_a_refusal_shows_its_own_message(db):
    job_id = jobs.enqueue("tests.refuse").id
    db.session.commit()
    job = db.session.get(Job, job_id)
    assert job.status == "failed" and job.error == "Row 3: the email is not an email."


def test_an_error_shows_no_internals_and_is_logged(db, caplog):
    job_id = jobs.enqueue("tests.crash").id
    with caplog.at_level(logging.ERROR, logger="crm.jobs.runner"):
        db.session.commit()
    job = db.session.get(Job, job_id)
    assert job.status == "failed" and job.error == "Crashing stopped on our side."
    assert "/srv/app" not in job.error
    assert "secret path /srv/app" in caplog.text and "Traceback" in caplog.text
    assert marked == [(job_id, "Crashing stopped on our side.")]


def test_a_job_that_is_not_queued_is_not_run_again(db):
    job_id = jobs.enqueue("tests.count", 5).id
    db.session.commit()
    jobs.queue.send(job_id)        # the same message delivered twice
    assert seen == [5]


def test_a_job_whose_lease_is_held_elsewhere_waits(db):
    job = jobs.enqueue("tests.count", 6, subject="count:6")
    held = lease.lease("count:6")
    assert held.acquire()
    try:
        db.session.commit()
        assert seen == [] and db.session.get(Job, job.id).status == "queued"
        assert not lease.lease("count:6").acquire()
    finally:
        held.release()
    assert lease.lease("count:6").acquire() is True


def _running(attempts, subject=None):
    job = Job(task="tests.crash", label="Crashing", status="running", attempts=attempts,
              subject=subject)
    db.session.add(job)
    db.session.commit()
    return job.id


def test_sweep_runs_again_a_job_whose_worker_died(db, app):
    job_id = _running(attempts=1)
    done = sweep.sweep()
    assert done["requeued"] == [job_id]
    # Sent again, it ran (and crashed again, at once, in the test mode).
    assert db.session.get(Job, job_id).attempts == 2


def test_sweep_fails_a_job_on_its_last_attempt_with_a_clear_message(db):
    job_id = _running(attempts=2)
    assert sweep.sweep()["failed"] == [job_id]
    job = db.session.get(Job, job_id)
    assert job.status == "failed" and "stopped before it finished" in job.error
    assert "Nothing from it was written" in job.error
    assert marked and marked[0][0] == job_id


def test_sweep_leaves_a_job_whose_worker_holds_its_lease(db):
    job_id = _running(attempts=1, subject="busy:1")
    held = lease.lease("busy:1")
    assert held.acquire()
    try:
        assert sweep.sweep() == {"requeued": [], "failed": [], "resent": []}
    finally:
        held.release()
    assert db.session.get(Job, job_id).status == "running"


def test_admin_page_lists_jobs_and_retries_a_failed_one(db, client, auth, admin, hx):
    done_id = jobs.enqueue("tests.count", 7, user=admin).id
    failed_id = jobs.enqueue("tests.crash").id
    db.session.commit()
    auth.login(admin)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert f'id="job-{done_id}"' in page and f'id="job-{failed_id}"' in page
    assert "Crashing stopped on our side." in page and "secret path" not in page
    fragment = client.get("/admin/jobs", headers={**hx, "HX-Target": "job-lists"})
    assert b"<html" not in fragment.data and b'id="job-lists"' in fragment.data
    r = client.post(f"/admin/jobs/{failed_id}/retry", follow_redirects=True)
    assert b"is queued again" in r.data
    job = db.session.get(Job, failed_id)
    assert job.status == "failed" and job.attempts == 1    # it ran again, and failed again
    r = client.post(f"/admin/jobs/{done_id}/retry", follow_redirects=True)
    assert b"Only a failed job can be retried." in r.data


def test_retry_can_be_refused_by_the_job(db, client, auth, admin):
    job_id = jobs.enqueue("tests.refuse").id
    db.session.commit()
    auth.login(admin)
    r = client.post(f"/admin/jobs/{job_id}/retry", follow_redirects=True)
    assert "upload it again".encode() in r.data
    assert db.session.get(Job, job_id).status == "failed"


def test_jobs_page_is_for_admins_only(db, client, auth, manager):
    job_id = jobs.enqueue("tests.crash").id
    db.session.commit()
    auth.login(manager)
    assert client.get("/admin/jobs").status_code == 404
    assert client.post(f"/admin/jobs/{job_id}/retry").status_code == 404


def test_finished_jobs_are_forgotten_after_some_days(db, app):
    from datetime import timedelta

    from crm.core.timeutil import utcnow
    from crm.jobs.sweep import forget_finished

    old = utcnow() - timedelta(days=app.config["JOBS_KEEP_DAYS"] + 1)
    db.session.add_all([Job(task="tests.count", status="done", finished_at=old),
                        Job(task="tests.count", status="failed", finished_at=old),
                        Job(task="tests.count", status="done", finished_at=utcnow()),
                        Job(task="tests.count", status="queued")])
    db.session.commit()
    assert forget_finished() == 2
    db.session.commit()
    assert sorted(j.status for j in db.session.scalars(select(Job))) == ["done", "queued"]
