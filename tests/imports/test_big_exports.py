"""Bounded memory: a 1 GB message_1.json read by the real command and a real job worker."""
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
