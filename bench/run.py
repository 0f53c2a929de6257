"""`python -m bench.run --contacts N`: the whole benchmark.

1. generate (or reuse) the dataset; benchmark a fresh copy of it, so writes never pile up;
2. serve the app and a bare Flask page with gunicorn (same workers, loopback only);
3. per page and role: sequential single-client timing, then wrk at 8 connections;
4. count SQL statements per request in-process; print and write the table.
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from bench import dataset, forms, queries, report, serve, writers, wrk
from bench.client import Client, summarize
from bench.dataset.people import email_of
from bench.pages import PAGES

WARM_UP = 5
AFTER_OFFSET = 1000   # an `after` page's writes: forms of the timing group past the write page's
MIN_SAMPLES = 20
WRITERS_ROW = "12 writers at once (DMs, moves, edits)"
WRITERS_P95_MS = 100   # "each write within a few times its single-user time" (25 ms)
ROLE_USERS = {"rep": email_of(1, "rep"), "manager": email_of(1, "manager")}
# The manager's writes touch the second rep's records, so they never meet the rep's own.
WRITE_OWNERS = {"rep": email_of(1, "rep"), "manager": email_of(2, "rep")}


def parse_args():
    parser = argparse.ArgumentParser(description="Benchmark Rapport against a bare Flask page.")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=float, default=8, help="wrk seconds per page")
    parser.add_argument("--requests", type=int, default=200,
                        help="sequential requests per page for p50/p95/p99")
    parser.add_argument("--max-seconds", type=float, default=15,
                        help="stop the sequential timing of a slow page after this long")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--only", default="", help="measure only pages whose name has this")
    parser.add_argument("--writers-seconds", type=float, default=60,
                        help="the twelve concurrent writers' row (0: not measured)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL on 127.0.0.1 (default: SQLite in bench/data/)")
    return parser.parse_args()


def working_copy(url: str) -> str:
    """SQLite: a fresh copy of the generated file per run (the writes go there)."""
    if not url.startswith("sqlite:///"):
        return url
    source = Path(url[len("sqlite:///"):])
    target = source.with_name("run.sqlite3")
    for leftover in (target, *(Path(f"{target}{s}") for s in ("-wal", "-shm", ".events"))):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


def _say(message: str) -> None:
    print(message, flush=True)


class Bench:
    def __init__(self, args, url: str, meta: dict):
        self.args, self.url, self.meta = args, url, meta
        self.database = "postgresql" if url.startswith("postgres") else "sqlite"
        self.app = dataset.bench_app(url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
        self.rows, self.notes, self.plans, self.clients, self.tokens = [], [], {}, {}, {}
        from crm.accounts.models import User
        from crm.extensions import db

        with self.app.app_context():
            users = {u.email: u for u in db.session.scalars(db.select(User))}
            from crm.accounts import sessions
            from crm.accounts import tokens
            self.sessions = {role: sessions.start(users[email])
                             for role, email in ROLE_USERS.items()}
            # API pages send a token of the role's user (made here, as `flask tokens create`).
            self.api_tokens = {role: tokens.create_token(None, users[email], "bench").secret
                               for role, email in ROLE_USERS.items()}
            db.session.commit()
            wanted = [p for p in PAGES if args.only.lower() in p.name.lower()]
            self.pages = [p for p in wanted if p.endpoint in self.app.view_functions]
            for p in wanted:
                if p not in self.pages:
                    self.notes.append(f"Not measured: {p.name} ({p.endpoint} does not exist yet).")
            for page in list(self.pages):
                builder = page.post or page.after
                for role in page.roles if builder else ():
                    owner = users[WRITE_OWNERS[role]].id
                    try:
                        self.plans[page.name, role] = forms.BUILDERS[builder](
                            owner, exclude_contact=meta.get("big_contact"))
                    except RuntimeError as e:
                        self.notes.append(f"Not measured: {page.name} as {role} ({e})")
                if builder and not any((page.name, r) in self.plans for r in page.roles):
                    self.pages.remove(page)

    # -- measuring over HTTP --------------------------------------------------------------
    def sign_in(self, base: str) -> None:
        for role, email in ROLE_USERS.items():
            client = Client(base)
            client.login(email, self.meta["password"])
            self.tokens[role] = client.csrf_token("/contacts")
            self.clients[role] = client

    def bare(self, base: str) -> dict:
        client = Client(base)
        for _ in range(WARM_UP):
            client.get("/")
        times = [client.get("/").seconds for _ in range(self.args.requests)]
        load = wrk.run(base, "/", headers={}, duration=self.args.duration,
                       connections=self.args.connections)
        return {"page": "bare Flask page (the ceiling)", "role": "", "bytes":
                len(client.get("/").body), "queries": 0, **summarize(times), **load}

    def measure(self, base: str, page, role: str) -> dict | None:
        client, plan = self.clients[role], self.plans.get((page.name, role))
        if plan and page.after:
            return self._measure_after(page, role, client, plan)
        if plan:
            return self._measure_post(base, page, role, client, plan)
        if page.post or page.after:
            return None
        path, extra = page.path.format(**self.meta), self._headers(page, role)
        first = client.get(path, extra)
        if first.status != 200:
            self.notes.append(f"{page.name} as {role}: HTTP {first.status}, not measured.")
            return None
        for _ in range(WARM_UP):
            client.get(path, extra)
        responses = self._sequential(lambda n: client.get(path, extra))
        failed = sum(r.status != 200 for r in responses)
        load = wrk.run(base, path, headers={**extra, "Cookie": client.cookie_header},
                       duration=self.args.duration, connections=self.args.connections)
        return self._row(page, role, responses, failed, load, path=path)

    def _headers(self, page, role: str) -> dict:
        """The page's own headers, and for an API page its role's bearer token."""
        extra = dict(page.headers)
        if page.bearer:
            extra["Authorization"] = f"Bearer {self.api_tokens[role]}"
        return extra

    def _measure_post(self, base, page, role, client, plan) -> dict:
        token = self.tokens[role]
        headers = {**plan.headers, "X-CSRFToken": token,
                   "Content-Type": "application/x-www-form-urlencoded"}

        def item(group, n):
            path, form = plan.build(group, n)
            return path, urlencode({**form, "csrf_token": token})

        for n in range(WARM_UP):
            client.request("POST", *item(forms.TIMING, n), headers=headers)
        responses = self._sequential(lambda n: client.request(
            "POST", *item(forms.TIMING, WARM_UP + n), headers=headers))
        failed = sum(r.status != 200 or plan.success_header not in r.headers for r in responses)
        items = [item(forms.WRK, n) for n in range(int(self.args.duration * 800))]
        load = wrk.run(base, items[0][0], headers={**headers, "Cookie": client.cookie_header},
                       duration=self.args.duration, connections=self.args.connections,
                       posts=items, success_header=plan.success_header)
        return self._row(page, role, responses, failed, load)

    def _measure_after(self, page, role, client, plan) -> dict:
        """Each timed GET follows the user's own write (a form of the timing group, after
        those the write's own page uses): what a page costs when what it shows has just
        changed. Only the GETs are timed."""
        token, path = self.tokens[role], page.path.format(**self.meta)
        headers = {**plan.headers, "X-CSRFToken": token,
                   "Content-Type": "application/x-www-form-urlencoded"}
        writes = iter(range(AFTER_OFFSET, AFTER_OFFSET + 10 * self.args.requests))

        def write_then_get(_n):
            target, form = plan.build(forms.TIMING, next(writes))
            wrote = client.request("POST", target, urlencode({**form, "csrf_token": token}),
                                   headers=headers)
            if wrote.status != 200 or plan.success_header not in wrote.headers:
                raise RuntimeError(f"{page.name}: the write before it failed "
                                   f"(HTTP {wrote.status})")
            return client.get(path)

        for n in range(WARM_UP):
            write_then_get(n)
        responses = self._sequential(write_then_get)
        failed = sum(r.status != 200 for r in responses)
        no_load = {"req_per_s": None, "requests": 0, "bad": 0, "errors": 0}
        return self._row(page, role, responses, failed, no_load, path=path)

    def _sequential(self, send) -> list:
        """`--requests` requests one after another; a slow page stops after `--max-seconds`
        (with at least MIN_SAMPLES) so one page cannot hold up the whole run."""
        responses, deadline = [], time.monotonic() + self.args.max_seconds
        for n in range(self.args.requests):
            responses.append(send(n))
            if n + 1 >= MIN_SAMPLES and time.monotonic() > deadline:
                break
        return responses

    def _row(self, page, role, responses, failed, load, path=None) -> dict:
        if failed:
            self.notes.append(f"{page.name} as {role}: {failed} of {len(responses)} sequential "
                              "requests did not succeed.")
        if load["bad"] or load["errors"]:
            self.notes.append(f"{page.name} as {role}: {load['bad']} of {load['requests']} wrk "
                              f"responses were not a success, {load['errors']} socket errors.")
        return {"page": page.name, "role": role, "path": path, "database": self.database,
                "contacts": self.args.contacts, "bytes": len(responses[-1].body),
                "target_ratio": page.ratio_on(self.database), "target_p95_ms": page.p95_ms,
                "page_def": page,
                **summarize([r.seconds for r in responses]), **load}

    def concurrent_writers(self) -> dict:
        """Twelve people writing at once (bench.writers), served by one sync worker each."""
        emails = [email_of(n, "rep") for n in range(1, 8)]
        with serve.gunicorn("wsgi:app", env=serve.app_env(self.url), workers=writers.WRITERS,
                            ready_path="/healthz") as site:
            got = writers.run(self.app, site, self.meta["password"], emails,
                              self.args.writers_seconds)
        if got["failed"] or got["deadlocks"]:
            self.notes.append(f"{WRITERS_ROW}: {got['failed']} of {got['writes']} writes "
                              f"failed, {got['deadlocks']} deadlocks detected.")
        _say(f"  {WRITERS_ROW}: {got['req_per_s']:,.0f} writes/s, p95 {got['p95_ms']:.1f} ms, "
             f"{got['failed']} failed, deadlocks: {got['deadlocks']}")
        return {"page": WRITERS_ROW, "role": "7 reps", "path": None, "database": self.database,
                "contacts": self.args.contacts, "bytes": 0, "queries": None,
                "target_ratio": None, "target_p95_ms": WRITERS_P95_MS, "requests": got["writes"],
                "bad": got["failed"], "errors": got["deadlocks"] or 0,
                **{k: got[k] for k in ("req_per_s", "p50_ms", "p95_ms", "p99_ms")}}

    # -- counting SQL in-process ----------------------------------------------------------
    def count_queries(self) -> None:
        for row in self.rows:
            page = row.get("page_def")
            if page is None:
                continue
            client = queries.signed_in_client(self.app, self.sessions[row["role"]])
            plan = self.plans.get((page.name, row["role"]))
            if plan and page.after:   # the page's statements right after the write
                for n in (0, 1):
                    queries.count(self.app, client, "POST", *plan.build(forms.COUNT, n),
                                  plan.headers)
                    count, status = queries.count(self.app, client, "GET", row["path"])
            elif plan:
                for n in (0, 1):   # the first warms up, the second is counted
                    path, form = plan.build(forms.COUNT, n)
                    count, status = queries.count(self.app, client, "POST", path, form,
                                                  plan.headers)
            else:
                extra = self._headers(page, row["role"])
                queries.count(self.app, client, "GET", row["path"], headers=extra)
                count, status = queries.count(self.app, client, "GET", row["path"],
                                              headers=extra)
            row["queries"] = count if status == 200 else None


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=serve.ROOT).stdout.strip()
    except OSError:
        return "?"


def main() -> None:
    args = parse_args()
    wrk.ensure_installed()
    started = time.monotonic()
    sizes = dataset.Sizes.scaled(args.contacts)
    _say(f"Dataset: {sizes.contacts:,} contacts, {sizes.messages:,} messages, "
         f"{sizes.deals:,} deals, {sizes.tasks:,} tasks (seed {args.seed})")
    url, meta = dataset.ensure(sizes, args.seed, args.database_url)
    bench = Bench(args, working_copy(url), meta)
    load_before = os.getloadavg()
    _say(f"Serving with gunicorn ({args.workers} sync workers); wrk -c{args.connections} "
         f"-d{args.duration:g}s; {args.requests} sequential requests per page")
    with serve.gunicorn("bench.bare_app:app", workers=args.workers) as bare, \
            serve.gunicorn("wsgi:app", env=serve.app_env(bench.url), workers=args.workers,
                           ready_path="/healthz") as site:
        first = bench.bare(bare)
        _say(f"  bare Flask: {first['req_per_s']:,.0f} req/s, p50 {first['p50_ms']:.2f} ms")
        bench.sign_in(site)
        for page in bench.pages:
            for role in page.roles:
                row = bench.measure(site, page, role)
                if row:
                    bench.rows.append(row)
                    rate = "" if row["req_per_s"] is None else f"{row['req_per_s']:,.0f} req/s, "
                    _say(f"  {page.name} ({role}): {rate}p95 {row['p95_ms']:.1f} ms")
        again = wrk.run(bare, "/", headers={}, duration=args.duration,
                        connections=args.connections)
    if args.writers_seconds and (not args.only or args.only.lower() in WRITERS_ROW.lower()):
        bench.rows.append(bench.concurrent_writers())
    flask_rps = statistics.mean([first["req_per_s"], again["req_per_s"]])
    bench.notes.append(f"Bare Flask measured before ({first['req_per_s']:,.0f} req/s) and "
                       f"after ({again['req_per_s']:,.0f} req/s) the pages; ratios use the mean.")
    bench.count_queries()
    ceiling = {**first, "req_per_s": round(flask_rps, 1), "database": bench.database,
               "contacts": args.contacts}
    rows = [ceiling] + bench.rows
    for row in rows:
        row["ratio_to_flask"] = (None if row["req_per_s"] is None
                                 else round(row["req_per_s"] / flask_rps, 4))
        report.judge(row)
    load_after = os.getloadavg()
    context = {
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git_commit(), "database": bench.database,
        "dataset": f"{sizes.contacts:,} contacts, {sizes.conversations:,} conversations, "
                   f"{sizes.messages:,} messages, {sizes.deals:,} deals "
                   f"({sizes.open_deals:,} open), {meta.get('tasks', sizes.tasks):,} tasks, "
                   f"10 users; seed {args.seed}",
        "serving": f"gunicorn, {args.workers} sync workers, 127.0.0.1; wrk -t2 "
                   f"-c{args.connections} -d{args.duration:g}s; latency from {args.requests} "
                   "sequential requests (one client)",
        "machine": f"{os.cpu_count()} CPUs, {platform.python_implementation()} "
                   f"{platform.python_version()}; load average "
                   f"{load_before[0]:.2f} before, {load_after[0]:.2f} after",
    }
    path = report.write(rows, context, bench.notes)
    _say("")
    _say(report.text_table(rows))
    for note in bench.notes:
        _say(f"note: {note}")
    _say(f"\nWritten to {path} and {path.with_suffix('.json')} "
         f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
