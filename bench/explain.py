"""Where one page's time goes, at benchmark size: each SQL statement with its time and
the database's query plan, and optionally the Python profile of the request.

    python -m bench.explain /contacts --as rep
    python -m bench.explain /board --as manager --profile
    python -m bench.explain move_deal --as rep          # a write benchmark from bench/forms.py
    python -m bench.explain "/dashboard?preset=90d" --as manager --repeat 30
    python -m bench.explain /dashboard --as rep --repeat 15 --after log_dm

It runs in-process (Flask test client) on a copy of the generated database; with
BENCH_DATABASE_URL (or --database-url) on that PostgreSQL database itself, whose plans are
EXPLAIN ANALYZE's (writes land in it: the next `make bench` vacuums it first).
"""
import argparse
import cProfile
import gc
import os
import pstats
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy import event

from bench import dataset, forms, queries
from bench.dataset.people import email_of


def working_copy(url: str, fresh: bool = False) -> str:
    """A scratch copy of the generated database (writes land there), made again when the
    source is newer or `fresh` asks for the source's state exactly."""
    source = Path(url[len("sqlite:///"):])
    target = source.with_name("explain.sqlite3")
    if fresh or not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
        for suffix in ("", "-wal", "-shm", ".events"):
            # a stale WAL would be replayed into the copy, stale spooled events moved into it
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        shutil.copyfile(source, target)
    return f"sqlite:///{target}"


@dataclass
class Target:
    """One benchmark page (or write), in-process: `send(n)` makes its n-th request, a write's
    n-th form in the plan's sequence (bench/forms.py)."""
    app: object
    url: str
    plan: object
    send: Callable
    after_change: Callable | None     # the n-th change of --after, as the same user
    touch: Callable                   # change the newest DM (the dashboard has an hour to redo)

    @property
    def engine(self):
        from crm.extensions import db

        with self.app.app_context():
            return db.engine


def prepare(page: str, role: str = "rep", contacts: int = 100_000, seed: int = 1,
            settings: dict | None = None, after: str | None = None,
            fresh: bool = False, database_url: str | None = None) -> Target:
    """The app on a working copy of the generated dataset (or on the PostgreSQL database of
    `database_url`), signed in as the first user of `role`, ready to request `page` (a path,
    or a POST builder of bench/forms.py)."""
    url, meta = dataset.ensure(dataset.Sizes.scaled(contacts), seed, database_url)
    if not database_url:
        url = working_copy(url, fresh)
    app = dataset.bench_app(url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False,
                            **(settings or {}))
    gc.freeze()                      # as wsgi.py does for the served app
    from crm.accounts.models import User
    from crm.extensions import db

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email_of(1, role)))
        plan = forms.BUILDERS[page](user.id, meta.get("big_contact")) \
            if page in forms.BUILDERS else None
        change = forms.BUILDERS[after](user.id, meta.get("big_contact")) if after else None
        from crm.accounts import sessions
        secret = sessions.start(user)
        db.session.commit()
    client = queries.signed_in_client(app, secret)
    path = page.format(**meta)

    def send(n: int):
        if plan:
            target, form = plan.build(forms.COUNT, n)
            return client.post(target, data=form, headers=plan.headers)
        return client.get(path)

    def after_change(n: int):
        target, form = change.build(forms.COUNT, n)
        r = client.post(target, data=form, headers=change.headers)
        assert r.status_code == 200 and change.success_header in r.headers, r.status_code

    def touch():
        with app.app_context():
            db.session.execute(db.text(
                "UPDATE messages SET replied_at = replied_at "
                "WHERE id = (SELECT max(id) FROM messages)"))
            db.session.commit()

    return Target(app, url, plan, send, after_change if change else None, touch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("page", help="a path such as /inbox, or a POST builder: "
                        + ", ".join(forms.BUILDERS))
    parser.add_argument("--as", dest="role", choices=("rep", "manager"), default="rep")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slow", type=float, default=1.0, help="explain statements over N ms")
    parser.add_argument("--profile", action="store_true", help="also profile 20 requests "
                        "(each after its change with --touch or --after)")
    parser.add_argument("--sort", default="cumulative", help="profile order (cumulative, tottime…)")
    parser.add_argument("--rows", type=int, default=40, help="profile rows to print")
    parser.add_argument("--repeat", "--cpu", type=int, default=0, metavar="N",
                        help="also time N more requests: wall and CPU (time.process_time), "
                        "p50 and p95, and how many were not successful")
    parser.add_argument("--touch", action="store_true",
                        help="before each timed request, change the newest DM (as logging one "
                        "would: the dashboard's remembered figures are recomputed)")
    parser.add_argument("--after", choices=sorted(forms.BUILDERS),
                        help="before each timed request, make this change through the app as "
                        "the same user (the next load after the user's own change, with the "
                        "reports cache as configured)")
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        metavar="KEY=VALUE", help="an app setting, e.g. REPORTS_CACHE=0")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="a local PostgreSQL database (default: $BENCH_DATABASE_URL)")
    args = parser.parse_args()

    settings = {k: _value(v) for k, v in (s.split("=", 1) for s in args.settings)}
    target = prepare(args.page, args.role, args.contacts, args.seed, settings, args.after,
                     database_url=args.database_url)
    send, after_change, touch, plan = target.send, target.after_change, target.touch, target.plan
    engine, url = target.engine, target.url

    send(0)
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append([statement, parameters, time.perf_counter()])

    def after(conn, cursor, statement, parameters, context, executemany):
        statements[-1].append(time.perf_counter())

    if after_change:   # the statements shown are those of the load after the change
        after_change(args.repeat + 20)   # a change of its own: after --repeat's and --profile's
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    started = time.perf_counter()
    resp = send(1)
    total = (time.perf_counter() - started) * 1000
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    sql = sum(s[3] - s[2] for s in statements) * 1000
    print(f"HTTP {resp.status_code}, {len(resp.data):,} bytes: {total:.1f} ms, of which SQL "
          f"{sql:.1f} ms in {len(statements)} statements")
    plan_of = _sqlite_plan(url) if url.startswith("sqlite") else _postgres_plan(engine)
    for statement, params, start, end in statements:
        ms = (end - start) * 1000
        if ms < args.slow:
            continue
        print(f"\n{ms:.1f} ms  {' '.join(statement.split())[:400]}")
        if statement.lstrip().upper().startswith("SELECT"):
            for line in plan_of(statement, params):
                print("    ", line)
    if args.repeat:
        walls, cpus, failed = [], [], 0
        for n in range(args.repeat):
            if args.touch:
                touch()
            if after_change:
                after_change(n)
            wall, cpu = time.perf_counter(), time.process_time()
            # Carry on the sequence: a write plan's versions assume each of its records was
            # written by the requests before (a jump ahead would time conflicts instead).
            r = send(2 + n)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            failed += r.status_code != 200 or bool(plan and plan.success_header not in r.headers)
        print(f"\n{args.repeat} requests: wall p50 {_pct(walls, 0.5):.1f} ms, "
              f"p95 {_pct(walls, 0.95):.1f} ms; CPU p50 {_pct(cpus, 0.5):.1f} ms, "
              f"p95 {_pct(cpus, 0.95):.1f} ms" + (f" ({failed} not successful)" if failed else ""))
    if args.profile:
        profile = cProfile.Profile()
        for i in range(20):
            if args.touch:
                touch()
            if after_change:
                after_change(args.repeat + i)
            profile.enable()
            send(2 + args.repeat + i)    # the sequence again, as above
            profile.disable()
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.rows)


def _sqlite_plan(url: str):
    con = sqlite3.connect(url[len("sqlite:///"):])
    return lambda statement, params: [row[3] for row in
                                      con.execute("EXPLAIN QUERY PLAN " + statement, params)]


def _postgres_plan(engine):
    """EXPLAIN ANALYZE of a statement, run again in a transaction rolled back afterwards."""
    def plan(statement, params):
        con = engine.raw_connection()
        try:
            cur = con.cursor()
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            return [row[0] for row in cur.fetchall()]
        finally:
            con.rollback()
            con.close()
    return plan


def _value(text: str):
    """A setting from the command line: integers and true/false as such, else the text."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    return int(text) if text.lstrip("-").isdigit() else text


def _pct(values: list, p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


if __name__ == "__main__":
    main()
