"""Serve an app with gunicorn (sync workers, loopback only) for the length of a benchmark."""
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from bench.dataset import scratch_cache_dir

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, *, env: dict | None = None, workers: int = 2, ready_path: str = "/"):
    """Yield the base URL of `app` (e.g. "wsgi:app") served on 127.0.0.1 by `workers`
    sync workers; stop it (and only it) afterwards."""
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
           "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120", app]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(proc, base + ready_path)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(proc, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def app_env(database_url: str) -> dict:
    """The app's environment: the benchmark database and a throwaway secret key."""
    return {"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(32),
            # Figures remembered by an earlier run on an earlier copy of the data are not
            # this run's: a cache of its own, shared by its processes as in production.
            "CACHE_DIR": scratch_cache_dir(),
            "RAPPORT_CONFIG": "config.Config", "PYTHONPATH": str(ROOT),
            # wrk sends thousands of requests a second with one API token: the per-token
            # limit (a guard, not part of a page's cost) is lifted, still counted.
            "API_RATE_LIMIT": "100000000 per minute"}
