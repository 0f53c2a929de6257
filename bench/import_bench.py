"""Import benchmarks: 1,000,000 DMs through the job queue, 100,000 contacts from CSV.

    .venv/bin/python bench/import_bench.py                # both, full size
    .venv/bin/python bench/import_bench.py --messages 100000 --rows 10000   # quick
    .venv/bin/python bench/import_bench.py --csv-only [--profile DIR]       # CSV part only

Each run uses a fresh SQLite database in a temporary folder. The DM export is generated
by bench/gen_dm_export.py (current Instagram layout, Meta's escaping, ~2% reaction lines
that are not messages), then imported with the real command, timed from outside, and
imported a second time (everything is a duplicate). The command only queues the import and
waits: a job worker (`flask jobs worker`, the embedded SQLite queue) started beforehand runs
it, as `make run` does. Peak memory is the largest max RSS among the processes.
The CSV part times the same steps the Imports page runs: check every row, then import.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SETUP = """
from crm import create_app
from crm.extensions import db
from crm.accounts.models import User
app = create_app()
with app.app_context():
    db.create_all()
    u = User(email="admin@bench.test", name="Bench Admin", role="admin")
    u.set_password("bench password 1")
    db.session.add(u)
    db.session.commit()
"""
CSV_RUN = """
import sys, time, json, os, cProfile
from crm import create_app
from crm.extensions import db
from crm.accounts.models import User
from crm.imports.contacts_csv import services as csv_service
app = create_app()
with app.app_context():
    actor = db.session.query(User).first()
    profile = os.environ.get("CSV_BENCH_PROFILE")  # a folder: check.prof and import.prof
    prof = cProfile.Profile() if profile else None
    t0, c0 = time.perf_counter(), time.process_time()
    if prof: prof.enable()
    with open(sys.argv[1], "rb") as fh:
        run = csv_service.start_upload(actor, [("contacts.csv", fh)])
    run.options = {**run.options, "mapping": csv_service.guess_mapping(run.options["headers"])}
    csv_service.save_mapping(actor, run, run.options["mapping"])
    db.session.commit()
    csv_service.check(run.id)
    if prof: prof.disable(); prof.dump_stats(os.path.join(profile, "check.prof"))
    t1, c1 = time.perf_counter(), time.process_time()
    prof = cProfile.Profile() if profile else None
    if prof: prof.enable()
    run = db.session.get(type(run), run.id)
    csv_service.confirm(actor, run, valid_only=True)
    db.session.commit()
    csv_service.run_import(run.id)
    if prof: prof.disable(); prof.dump_stats(os.path.join(profile, "import.prof"))
    t2, c2 = time.perf_counter(), time.process_time()
    run = db.session.get(type(run), run.id)
    print(json.dumps({"check_s": t1 - t0, "import_s": t2 - t1, "check_cpu_s": c1 - c0,
                      "import_cpu_s": c2 - c1, "counts": run.counts, "status": run.status}))
"""


def env_for(db_path: Path, tmp: Path) -> dict:
    return {**os.environ, "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{db_path}",
            "IMPORT_STORAGE_DIR": str(tmp / "uploads"), "PYTHONPATH": str(ROOT),
            "JOBS_BACKEND": "sqlite", "JOBS_SQLITE_PATH": str(tmp / "jobs.sqlite3"),
            "JOBS_LOCK_DIR": str(tmp / "locks"), "JOBS_QUEUE_NAME": "bench"}


def timed(cmd, env) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{done.stdout}\n{done.stderr}")
    return elapsed, done


def peak_child_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def bench_dms(tmp: Path, messages: int, threads: int) -> dict:
    export = tmp / "instagram-export"
    # About 2% of the generated entries are reactions the parser drops: ask for a few more.
    entries = int(messages / 0.98) + 500
    gen_s, gen = timed([PY, "bench/gen_dm_export.py", "--messages", str(entries),
                        "--threads", str(threads), str(export)], os.environ)
    expected = json.loads(gen.stdout)["messages"]
    db_path = tmp / "dm.sqlite3"
    env = env_for(db_path, tmp)
    timed([PY, "-c", SETUP], env)
    flask = [str(Path(PY).parent / "flask"), "--app", "wsgi", "import-dms", str(export), "--json"]
    worker = subprocess.Popen([str(Path(PY).parent / "flask"), "--app", "wsgi", "jobs",
                               "worker", "--processes", "1"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=open(tmp / "worker.log", "wb"))
    try:
        first_s, first = timed(flask, env)
        again_s, again = timed(flask, env)
    finally:
        worker.send_signal(signal.SIGINT)     # graceful: the worker has nothing left to do
        worker.wait(60)
    peak = peak_child_mb()
    one, two = json.loads(first.stdout), json.loads(again.stdout)
    assert one["messages_added"] == expected, (one, expected)
    assert two["messages_added"] == 0 and two["duplicates_skipped"] == expected, two
    return {"messages": expected, "threads": threads, "generate_s": round(gen_s, 1),
            "import_s": round(first_s, 1), "msgs_per_s": int(expected / first_s),
            "reimport_s": round(again_s, 1), "peak_rss_mb": round(peak),
            "db_mb": round(db_path.stat().st_size / 1e6), "phases_s": one.get("seconds", {}),
            "reimport_phases_s": two.get("seconds", {})}


FIRST = ["Maya", "Jordan", "Renée", "Sam", "Priya", "Lena", "Marco", "Jonas", "Zoë", "Kai"]
LAST = ["Lindqvist", "Lee", "Dubois", "Okafor", "Shah", "Fischer", "Bellini", "Berg", "Núñez"]


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(5)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "Email", "Phone", "Company", "Instagram", "TikTok", "Tags",
                    "Consent", "Kind", "Notes"])
        for i in range(rows):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            consent = rng.choices(["", "opted_in", "opted_out"], [90, 8, 2])[0]
            w.writerow([name, f"person{i}@example.com", f"+44 7700 {i:06d}",
                        rng.choice(["", "Glow Theory", "Northwind", "Acme"]), f"creator_{i}",
                        f"tt.creator{i}" if i % 3 == 0 else "",
                        rng.choice(["", "beauty", "beauty, vip", "fitness"]), consent,
                        rng.choice(["influencer", "lead", "contact"]),
                        "Met at the spring show.\nFollow up in May." if i % 10 == 0 else ""])


def bench_csv(tmp: Path, rows: int) -> dict:
    path = tmp / "contacts.csv"
    write_csv(path, rows)
    db_path = tmp / "csv.sqlite3"
    env = env_for(db_path, tmp)
    timed([PY, "-c", SETUP], env)
    total_s, done = timed([PY, "-c", CSV_RUN, str(path)], env)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["status"] == "done" and out["counts"]["contacts_created"] == rows, out
    return {"rows": rows, "check_s": round(out["check_s"], 1),
            "import_s": round(out["import_s"], 1),
            "check_plus_import_s": round(out["check_s"] + out["import_s"], 1),
            "check_cpu_s": round(out["check_cpu_s"], 1),
            "import_cpu_s": round(out["import_cpu_s"], 1),
            "rows_per_s": int(rows / (out["check_s"] + out["import_s"])),
            "process_s": round(total_s, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=5000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-dms", action="store_true")
    parser.add_argument("--skip-csv", action="store_true")
    parser.add_argument("--csv-only", action="store_true", help="only the contacts CSV part")
    parser.add_argument("--profile", metavar="DIR",
                        help="write cProfile stats of the CSV check and import to DIR")
    args = parser.parse_args(argv)
    if args.csv_only:
        args.skip_dms = True
    if args.profile:
        os.environ["CSV_BENCH_PROFILE"] = str(Path(args.profile).resolve())
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    print(f"cores: {os.cpu_count()}, load average before: {load:.2f}")
    with tempfile.TemporaryDirectory(prefix="rapport-import-bench-") as tmp:
        tmp = Path(tmp)
        if not args.skip_dms:
            r = bench_dms(tmp, args.messages, args.threads)
            print(f"DM import: {r['messages']:,} messages in {r['threads']:,} threads: "
                  f"{r['import_s']} s ({r['msgs_per_s']:,}/s); re-import (all duplicates) "
                  f"{r['reimport_s']} s; peak RSS {r['peak_rss_mb']} MB; database "
                  f"{r['db_mb']} MB  [target: < 60 s]")
            print("  phases: " + ", ".join(f"{k} {v} s" for k, v in r["phases_s"].items()))
            print("  " + json.dumps(r))
        if not args.skip_csv:
            r = bench_csv(tmp, args.rows)
            print(f"CSV import: {r['rows']:,} rows: check {r['check_s']} s + import "
                  f"{r['import_s']} s = {r['check_plus_import_s']} s ({r['rows_per_s']:,} rows/s)"
                  f"  [target: < 20 s]; CPU {r['check_cpu_s']} + {r['import_cpu_s']} s")
            print("  " + json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
