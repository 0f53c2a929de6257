"""Bounded memory: a 1 GB message_1.json read, and a 200 MB single thread imported, by the
real command and a real job worker."""
import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench.import_bench import SETUP, env_for
from tests.imports.big_export import write_message_file

ROOT = Path(__file__).resolve().parents[2]
LIMIT_MB = 400


@pytest.mark.slow
def test_a_1gb_message_file_is_read_within_400mb(tmp_path, request):
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("reads the export only; run once, on SQLite")
    thread = tmp_path / "export/your_facebook_activity/messages/inbox/samokafor_1022334455"
    expected = write_message_file(thread / "message_1.json", 1024 ** 3)
    assert (thread / "message_1.json").stat().st_size > 1024 ** 3
    env = env_for(tmp_path / "big.sqlite3", tmp_path)
    subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, check=True)
    flask = Path(sys.executable).parent / "flask"
    # The command queues the import and waits: a worker beside it runs it, as `make run` does.
    worker = subprocess.Popen([str(flask), "--app", "wsgi", "jobs", "worker", "--processes", "1"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=open(tmp_path / "worker.log", "wb"))
    try:
        done = subprocess.run([str(flask), "--app", "wsgi", "import-dms",
                               str(tmp_path / "export"), "--me", "Alex Rivera", "--dry-run",
                               "--json"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(60)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    # Every message read and compared (the call notices are not messages), nothing written.
    assert summary["messages_added"] == expected and summary["dry_run"] is True
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"1 GB message_1.json: {expected:,} messages, peak RSS {peak_mb:.0f} MB, "
          f"phases {summary['seconds']}")
    assert peak_mb < LIMIT_MB


CHECK = """
import json
import tracemalloc
from sqlalchemy import func, select
from crm import create_app
from crm.extensions import db
from crm.conversations.models import Conversation, Message, ResponseTime
from crm.conversations.reply_state import rebuild_reply_state

def kept():
    conv = db.session.execute(select(
        Conversation.id, Conversation.state, Conversation.message_count,
        Conversation.last_message_at, Conversation.last_inbound_at,
        Conversation.last_outbound_at, Conversation.waiting_since)).one()
    messages = db.session.execute(select(
        func.count(), func.count(Message.replied_at),
        func.sum(func.julianday(Message.replied_at) * Message.id),
        func.max(Message.replied_at))).one()
    bursts = db.session.execute(select(
        func.count(), func.count(ResponseTime.answered_at),
        func.sum(ResponseTime.response_seconds),
        func.sum(func.julianday(ResponseTime.burst_started_at) * (1 + ResponseTime.responder_id)),
        func.max(ResponseTime.burst_started_at))).one()
    return [str(v) for v in (*conv, *messages, *bursts)]

app = create_app()
with app.app_context():
    imported = kept()
    tracemalloc.start()
    rebuild_reply_state([int(imported[0])])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    db.session.commit()
    print(json.dumps({"imported": imported, "rebuilt": kept(), "rebuild_peak": peak}))
"""


@pytest.mark.slow
def test_a_200mb_single_thread_imports_within_400mb(tmp_path, request):
    """One huge conversation, written for real: its reply state is folded batch by batch
    while it is read, and rebuilt a page at a time, never held whole."""
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("a real import into a SQLite file of its own; run once, on SQLite")
    thread = tmp_path / "export/your_facebook_activity/messages/inbox/samokafor_1022334455"
    expected = write_message_file(thread / "message_1.json", 200 * 1024 ** 2)
    env = env_for(tmp_path / "big.sqlite3", tmp_path)
    subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, check=True)
    flask = Path(sys.executable).parent / "flask"
    worker = subprocess.Popen([str(flask), "--app", "wsgi", "jobs", "worker", "--processes", "1"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=open(tmp_path / "worker.log", "wb"))
    try:
        done = subprocess.run([str(flask), "--app", "wsgi", "import-dms",
                               str(tmp_path / "export"), "--me", "Alex Rivera", "--json"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(60)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    import_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert (summary["messages_added"], summary["duplicates_skipped"], summary["threads"],
            summary["contacts_created"], summary["problems"]) == (expected, 0, 1, 1, []), summary
    # The rebuild (what a correction or deletion in such a thread runs) pages through it and
    # finds what the import stored, holding a page at a time (what Python allocates; SQLite's
    # own cache and memory map are bounded by their settings).
    check = subprocess.run([sys.executable, "-c", CHECK], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=900)
    assert check.returncode == 0, check.stderr[-2000:]
    kept = json.loads(check.stdout.strip().splitlines()[-1])
    assert kept["imported"] == kept["rebuilt"]
    assert kept["rebuild_peak"] < 16 * 1024 ** 2, kept["rebuild_peak"]
    assert int(kept["imported"][2]) == expected and int(kept["imported"][7]) == expected
    assert int(kept["imported"][8]) > 0 and int(kept["imported"][11]) > 0
    print(f"200 MB single thread: {expected:,} messages, peak RSS {import_mb:.0f} MB; the "
          f"rebuild's Python peak {kept['rebuild_peak'] / 1024 ** 2:.0f} MB; "
          f"phases {summary['seconds']}")
    assert import_mb < LIMIT_MB
