"""Real worker processes (`flask jobs worker`) on the embedded queue and on Redis.

Redis is used at TEST_REDIS_URL (default redis://127.0.0.1:6379/6): when it does not answer,
its tests are skipped, except in CI (CI=true), where `.ci/run` starts it and they must run.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.conversations.models import Message
from crm.extensions import db
from crm.imports.dm_exports.jobs import enqueue_cli_import
from crm.imports.models import ImportRun
from crm.jobs import queue, runner
from crm.jobs.models import Job
from tests.test_imports_support import FIXTURES, import_storage  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/6")


def redis_or_skip() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis does not answer at {REDIS_URL} (.ci/run starts it)")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


class Workers:
    """Start and kill `flask jobs worker` processes sharing the test's database and queue."""

    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir, self.procs = env, log_dir, []

    def start(self, processes: int = 1) -> subprocess.Popen:
        log = open(self.log_dir / f"worker-{len(self.procs)}.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker",
             "--processes", str(processes)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill(self, proc, sig=signal.SIGKILL) -> None:
        """The whole worker (its consumer and job processes) at once, like a machine dying."""
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(30)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc, signal.SIGTERM)
            # Nothing of the test's workers outlives it (a job process its consumer left
            # behind would go on polling beside the next tests and benchmarks), as a
            # supervisor stopping a service's whole group makes sure.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))


def wait_until(check, seconds: float, what: str, workers: Workers):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()
        db.session.expire_all()
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"not within {seconds} s: {what}\n--- worker log ---\n{workers.log()[-6000:]}")


@pytest.fixture(params=["sqlite", "redis"])
def workers(request, app, tmp_path, monkeypatch):
    backend = request.param
    settings = {"JOBS_BACKEND": backend, "JOBS_LEASE_SECONDS": "3",
                "JOBS_QUEUE_NAME": f"rapport-test-{os.getpid()}-{time.time_ns()}",
                "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite3"),
                "JOBS_LOCK_DIR": str(tmp_path / "locks")}
    if backend == "redis":
        settings["REDIS_URL"] = redis_or_skip()
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, float(value) if key == "JOBS_LEASE_SECONDS"
                            else value)
    queue.configure(app)
    env = {**os.environ, **settings, "SECRET_KEY": "worker-test",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "IMPORT_STORAGE_DIR": app.config["IMPORT_STORAGE_DIR"], "PYTHONPATH": str(ROOT)}
    env.pop("RAPPORT_CONFIG", None)
    (tmp_path / "logs").mkdir()
    running = Workers(env, tmp_path / "logs")
    try:
        yield running
    finally:
        running.stop_all()
        if backend == "redis":
            for flush in ("flush_queue", "flush_schedule", "flush_results"):
                getattr(queue.storage(), flush)()
        monkeypatch.undo()
        queue.configure(app)


def messages() -> int:
    return db.session.scalar(select(func.count()).select_from(Message))


def test_a_worker_runs_an_import_from_the_queue(workers, admin):
    job_id = enqueue_cli_import(str(FIXTURES / "instagram"), me="Alex Rivera")
    assert db.session.get(Job, job_id).status == "queued" and messages() == 0   # only queued
    workers.start()
    job = wait_until(lambda: (j := db.session.get(Job, job_id)).status in ("done", "failed")
                     and j, 60, "the job finished", workers)
    assert job.status == "done", job.error
    assert job.result["messages_added"] == 8 == messages()
    assert job.attempts == 1 and job.worker


def big_export(tmp_path: Path, count: int, threads: int = 40) -> tuple[Path, int]:
    out = tmp_path / "export"
    done = subprocess.run([sys.executable, "bench/gen_dm_export.py", "--messages", str(count),
                           "--threads", str(threads), str(out)], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return out, json.loads(done.stdout)["messages"]


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_runs_again(
        workers, admin, tmp_path):
    export, expected = big_export(tmp_path, 120_000)
    job_id = enqueue_cli_import(str(export), me="Alex Rivera", workers=0)
    procs = [workers.start(), workers.start()]          # two workers (two machines, say)

    def writing():
        live = runner.progress_of(job_id)
        return live and live["phase"] == "messages" and 0 < live["done"] < live["total"]
    wait_until(writing, 120, "the import was writing messages", workers)
    job = db.session.get(Job, job_id)
    pid = int(job.worker.rsplit(":", 1)[1])
    busy = next(p for p in procs if os.getpgid(pid) == p.pid)
    workers.kill(busy)                                    # SIGKILL, mid-import
    killed_at = time.monotonic()
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == "running" and job.attempts == 1
    assert messages() == 0                                # nothing half-written

    # The other worker notices (the lease is gone) and runs it again, within a minute.
    wait_until(lambda: db.session.get(Job, job_id).attempts == 2, 60,
               "the job was started again", workers)
    assert time.monotonic() - killed_at < 60
    job = wait_until(lambda: (j := db.session.get(Job, job_id)).status in ("done", "failed")
                     and j, 180, "the job finished on the other worker", workers)
    assert job.status == "done", job.error
    assert job.attempts == 2 and int(job.worker.rsplit(":", 1)[1]) != pid
    assert messages() == expected == job.result["messages_added"]     # written once
    runs = db.session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
    assert [r.status for r in runs] == ["failed", "done"]             # never "running"
    assert "Nothing from this try was written" in runs[0].problems[0]


def test_a_job_over_its_memory_ceiling_fails_with_a_clear_message(workers, admin, tmp_path):
    # The ceiling is the worker's, whatever the queue; this import needs memory of its own
    # (beyond what the process already holds) on SQLite, whose bulk path grows its page cache.
    if workers.env["JOBS_BACKEND"] != "sqlite" or db.engine.dialect.name != "sqlite":
        pytest.skip("the ceiling is checked once: SQLite queue, SQLite database")
    export, _ = big_export(tmp_path, 60_000, threads=1)
    workers.env["IMPORT_MEMORY_MB"] = "40"
    job_id = enqueue_cli_import(str(export), me="Alex Rivera", workers=0)
    proc = workers.start()
    job = wait_until(lambda: (j := db.session.get(Job, job_id)).status in ("done", "failed")
                     and j, 60, "the job finished", workers)
    assert job.status == "failed"
    assert "more memory than the 40 MB one job may use" in job.error
    assert messages() == 0
    assert proc.poll() is None            # the worker itself carries on


def test_a_killed_job_process_does_not_take_its_worker_down(workers, admin, tmp_path):
    if workers.env["JOBS_BACKEND"] != "sqlite":
        pytest.skip("the same consumer code on either queue: checked once")
    export, expected = big_export(tmp_path, 60_000)
    job_id = enqueue_cli_import(str(export), me="Alex Rivera", workers=0)
    proc = workers.start()

    def writing():
        live = runner.progress_of(job_id)
        return live and live["phase"] == "messages" and 0 < live["done"] < live["total"]
    wait_until(writing, 120, "the import was writing messages", workers)
    pid = int(db.session.get(Job, job_id).worker.rsplit(":", 1)[1])
    assert pid != proc.pid
    os.kill(pid, signal.SIGKILL)                 # only the process running the job
    killed_at = time.monotonic()
    wait_until(lambda: db.session.get(Job, job_id).attempts == 2, 60,
               "the job was started again", workers)
    assert time.monotonic() - killed_at < 60
    job = wait_until(lambda: (j := db.session.get(Job, job_id)).status in ("done", "failed")
                     and j, 180, "the job finished", workers)
    assert job.status == "done" and messages() == expected
    assert proc.poll() is None                   # the worker itself never stopped


def test_the_worker_and_its_job_processes_run_below_the_webs_cpu_priority(workers):
    """On a machine serving both, pages and webhooks answer first (`--nice`, 10 unless
    told otherwise): the consumer and the processes running its jobs all start lower."""
    proc = workers.start(processes=2)
    wanted = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 30
    # Until the consumer has started (its signal handlers set), so that stopping it at the
    # test's end stops the processes it started too.
    while time.monotonic() < deadline and (len(children.read_text().split()) < 2
                                           or "consumer started" not in workers.log()):
        time.sleep(0.1)
    started = [int(pid) for pid in children.read_text().split()]
    assert len(started) >= 2, workers.log()
    assert os.getpriority(os.PRIO_PROCESS, proc.pid) == wanted
    assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in started} == {wanted}
