"""`make bench-webhooks`: a burst of signed Meta webhook events against 2 gunicorn workers.

    .venv/bin/python -m bench.webhooks_bench                      # SQLite, 10,000 events
    BENCH_DATABASE_URL=postgresql://… .venv/bin/python -m bench.webhooks_bench
    .venv/bin/python -m bench.webhooks_bench --events 2000        # quicker

The events are generated first (and signed, as Meta signs them): new DMs on an Instagram
account and a WhatsApp number from 1,000 people, 10 % retries of earlier events (the same
bytes again), 10 % echoes of messages the business sent from the app, and WhatsApp statuses
of those (sent, delivered, read) posted out of order. They are posted by 4 client threads
on keep-alive connections; each answer's time is measured at the client. Meanwhile the job
worker (`flask jobs worker`) ingests them. At the end the database must hold exactly the
expected messages (none lost, none twice) with each status at its furthest point, and
every event applied.

Targets (issue 19): ≥ 300 requests/s acknowledged, p95 ≤ 20 ms, everything ingested within
60 s of the first request.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import serve

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-app-secret-0123456789"
IG_ACCOUNT, WA_WABA, WA_PHONE = "17841400000000077", "102000000000077", "109000000000077"
STATUS_ORDER = {"sent": 1, "delivered": 2, "read": 3}

SETUP = """
import json, sys
from crm import create_app
from crm.extensions import db
from crm.channels import services
app = create_app()
with app.app_context():
    db.drop_all()
    db.create_all()
    keys = {}
    for kind, account, phone in (("instagram", %(ig)r, None), ("whatsapp", %(waba)r, %(phone)r)):
        c = services.add_channel(None, kind=kind, name="Bench " + kind, app_secret=%(secret)r,
                                 verify_token="bench", access_token="bench-token",
                                 account_id=account, phone_number_id=phone)
        keys[kind] = c.key
    db.session.commit()
    print("KEYS " + json.dumps(keys))
"""

CHECK = """
import json
from sqlalchemy import func, select
from crm import create_app
from crm.extensions import db
from crm.channels import spool
from crm.channels.models import ChannelEvent
from crm.conversations.models import Message
app = create_app()
with app.app_context():
    events = dict(db.session.execute(select(ChannelEvent.status, func.count())
                                     .group_by(ChannelEvent.status)).all())
    if spool.enabled() and spool.waiting():     # SQLite: not yet moved from the spool
        events["spooled"] = spool.waiting()
    out = {"events": events}
    if %(full)r:
        rows = db.session.execute(select(Message.external_id, Message.direction,
                                         Message.delivery_status)).all()
        out["messages"] = [list(r) for r in rows]
    print("CHECK " + json.dumps(out))
"""


def _ms(at: float) -> int:
    return int(at * 1000)


def generate(n: int, seed: int = 19) -> tuple[list, dict]:
    """(requests, expected): requests are (channel kind, body bytes); expected maps every
    message id to (direction, final status or None)."""
    rng = random.Random(seed)
    now = time.time() - 3600
    people_ig = [str(1300000000000000 + i) for i in range(600)]
    people_wa = [str(447700900000 + i) for i in range(400)]
    requests, expected, echoes = [], {}, []
    statuses = []     # (earliest index, body) waiting to be posted
    for i in range(n):
        at = now + i * 0.01
        roll = rng.random()
        due = [s for s in statuses if s[0] <= i]
        if due and roll < 0.5:
            item = due[rng.randrange(len(due))]
            statuses.remove(item)
            requests.append(("whatsapp", item[1]))
            continue
        if roll < 0.10 and requests:
            requests.append(requests[rng.randrange(len(requests))])     # Meta retries
            continue
        if roll < 0.20:
            kind = rng.choice(("instagram", "whatsapp"))
            person = rng.choice(people_ig if kind == "instagram" else people_wa)
            mid = f"{'wamid.' if kind == 'whatsapp' else 'm_'}echo{i:06d}"
            body = _event(kind, person, mid, f"Reply {i} from the app ✓", at, echo=True)
            expected[mid] = ["out", None]
            requests.append((kind, body))
            if kind == "whatsapp":
                # Its statuses, posted later and in any order (read may come first).
                final = rng.choice(("sent", "delivered", "read"))
                steps = [s for s in STATUS_ORDER if STATUS_ORDER[s] <= STATUS_ORDER[final]]
                rng.shuffle(steps)
                expected[mid][1] = final
                for step in steps:
                    statuses.append((i + rng.randrange(20, 400),
                                     _status(person, mid, step, at + 1)))
            continue
        kind = "instagram" if roll < 0.6 else "whatsapp"
        person = rng.choice(people_ig if kind == "instagram" else people_wa)
        mid = f"{'wamid.' if kind == 'whatsapp' else 'm_'}in{i:06d}"
        text = rng.choice(("Hi! Are you open to a collab? 😍", "Prix ? \\u00e9t\\u00e9 2026",
                           "Sounds good — send the brief", "Can we talk tomorrow?"))
        requests.append((kind, _event(kind, person, mid, text, at)))
        expected[mid] = ["in", None]
    for _, body in statuses:      # whatever is left goes at the end
        requests.append(("whatsapp", body))
    return requests, expected


def _event(kind: str, person: str, mid: str, text: str, at: float, echo=False) -> bytes:
    if kind == "whatsapp":
        meta = {"display_phone_number": "15550007777", "phone_number_id": WA_PHONE}
        if echo:
            value = {"messaging_product": "whatsapp", "metadata": meta, "message_echoes": [
                {"from": "15550007777", "to": person, "id": mid, "timestamp": str(int(at)),
                 "type": "text", "text": {"body": text}}]}
            field = "smb_message_echoes"
        else:
            value = {"messaging_product": "whatsapp", "metadata": meta,
                     "contacts": [{"profile": {"name": f"Person {person[-4:]}"}, "wa_id": person}],
                     "messages": [{"from": person, "id": mid, "timestamp": str(int(at)),
                                   "type": "text", "text": {"body": text}}]}
            field = "messages"
        payload = {"object": "whatsapp_business_account",
                   "entry": [{"id": WA_WABA, "changes": [{"field": field, "value": value}]}]}
    else:
        message = {"mid": mid, "text": text}
        sender, recipient = (IG_ACCOUNT, person) if echo else (person, IG_ACCOUNT)
        if echo:
            message["is_echo"] = True
        payload = {"object": "instagram", "entry": [{"id": IG_ACCOUNT, "time": _ms(at),
                   "messaging": [{"sender": {"id": sender}, "recipient": {"id": recipient},
                                  "timestamp": _ms(at), "message": message}]}]}
    # Escaped unicode stays escaped in the bytes, as Meta sends it.
    return json.dumps(payload).replace("\\\\u", "\\u").encode()


def _status(person: str, mid: str, status: str, at: float) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": WA_WABA, "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
            "display_phone_number": "15550007777", "phone_number_id": WA_PHONE},
            "statuses": [{"id": mid, "status": status, "timestamp": str(int(at)),
                          "recipient_id": person}]}}]}]}).encode()


def post_all(base: str, keys: dict, requests: list, threads: int) -> tuple[list, int, float]:
    """Post every request once, in order, from `threads` keep-alive connections."""
    host = urlsplit(base)
    signed = [(f"/webhooks/meta/{keys[kind]}", body,
               "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest())
              for kind, body in requests]
    latencies, errors, lock = [], [0], threading.Lock()
    cursor = iter(range(len(signed)))

    def run():
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        mine = []
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                break
            path, body, signature = signed[i]
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers={
                "Content-Type": "application/json", "X-Hub-Signature-256": signature})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies, errors[0], time.perf_counter() - started


def _python(code: str, env: dict) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout


def _tagged(output: str, tag: str) -> dict:
    line = next(line for line in output.splitlines() if line.startswith(tag + " "))
    return json.loads(line[len(tag) + 1:])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--job-processes", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=60.0)
    parser.add_argument("--no-worker", action="store_true",
                        help="only acknowledge (measures the endpoint alone; events stay pending)")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="rapport-webhooks-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    database = "postgresql" if url.startswith("postgres") else "sqlite"
    env = {**os.environ, **serve.app_env(url),
           "CHANNELS_ENCRYPTION_KEY": "bm90LWEtcmVhbC1rZXktb25seS1mb3ItYmVuY2gwMDA=",
           "META_GRAPH_URL": "http://127.0.0.1:9/unused"}
    if database == "postgresql" and os.environ.get("BENCH_REDIS_URL"):
        env.update(JOBS_BACKEND="redis", REDIS_URL=os.environ["BENCH_REDIS_URL"],
                   JOBS_QUEUE_NAME=f"bench-webhooks-{os.getpid()}")
    else:
        env.update(JOBS_BACKEND="sqlite", JOBS_SQLITE_PATH=str(folder / "jobs.sqlite3"))
    keys = _tagged(_python(SETUP % {"ig": IG_ACCOUNT, "waba": WA_WABA, "phone": WA_PHONE,
                                    "secret": SECRET}, env), "KEYS")
    requests, expected = generate(args.events)
    print(f"{len(requests):,} events generated ({len(expected):,} distinct messages); "
          f"{database}, {args.workers} gunicorn workers, {args.threads} client threads",
          flush=True)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker",
                               "-w", str(args.job_processes)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=open(folder / "worker.log", "w")
                              ) if not args.no_worker else subprocess.Popen(["true"])
    try:
        with serve.gunicorn("wsgi:app", env=env, workers=args.workers,
                            ready_path="/healthz") as base:
            began = time.perf_counter()
            latencies, errors, took = post_all(base, keys, requests, args.threads)
            print(f"posted in {took:.1f} s", flush=True)
            while True:
                state = _tagged(_python(CHECK % {"full": False}, env), "CHECK")["events"]
                waiting = state.get("pending", 0) + state.get("spooled", 0)
                if not waiting or args.no_worker or \
                        time.perf_counter() - began > args.deadline + 30:
                    break
                time.sleep(0.5)
            ingested = time.perf_counter() - began
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    check = _tagged(_python(CHECK % {"full": True}, env), "CHECK")
    stored = {mid: [direction, status] for mid, direction, status in check["messages"]}
    missing = sorted(set(expected) - set(stored))
    extra = len(check["messages"]) - len(stored) + len(set(stored) - set(expected))
    wrong = sorted(mid for mid, (direction, status) in expected.items()
                   if mid in stored and (stored[mid][0] != direction or (
                       status is not None and stored[mid][1] != status)))
    latencies.sort()
    result = {
        "database": database, "events": len(requests), "messages_expected": len(expected),
        "messages_stored": len(check["messages"]), "missing": len(missing),
        "twice_or_unexpected": extra, "wrong_direction_or_status": len(wrong),
        "events_by_status": check["events"], "non_200": errors,
        "requests_per_second": round(len(requests) / took, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
        "mean_ms": round(statistics.mean(latencies) * 1000, 2),
        "ingested_within_s": round(ingested, 1),
    }
    result["meets_targets"] = bool(
        result["requests_per_second"] >= 300 and result["p95_ms"] <= 20
        and result["ingested_within_s"] <= args.deadline and not missing and not extra
        and not wrong and not errors and not check["events"].get("pending")
        and not check["events"].get("failed"))
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"webhooks-{database}.json").write_text(json.dumps(result, indent=2) + "\n")
    if missing[:5] or wrong[:5]:
        print("missing:", missing[:5], "wrong:", wrong[:5])
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
