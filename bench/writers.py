"""The writers' row of `make bench`: twelve people at once, each logging DMs, moving deals
and editing contacts of their own, for a minute (`--writers-seconds`).

Reported like a page: writes per second (against the bare Flask page), p50/p95/p99 of the
writes, the writes that failed (an HTTP error, or a refusal: no write), and on PostgreSQL
the deadlocks the database detected meanwhile (pg_stat_database). Each writer works on
records no other writer touches, so every write is a real one that passes the optimistic
version check: what is measured is the app and the database under concurrent writers, not
conflicts between people.
"""
import re
import threading
import time
from urllib.parse import urlencode

from sqlalchemy import select, text

from bench.client import Client, summarize
from crm.accounts.models import User
from crm.contacts.models import Contact
from crm.conversations.models import Conversation, Message
from crm.extensions import db
from crm.pipeline.models import OPEN, Deal, Pipeline

WRITERS = 12
# The same load, untimed, before the minute starts: gunicorn answers as soon as one of its
# twelve workers has started, and each worker compiles its templates and statements on its
# first requests. Timed from the start, the row measured the workers starting up.
WARM_UP_SECONDS = 3
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
SHOWN = re.compile(r'name="shown_until"[^>]*value="(\d*)"')
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1/contacts"}


def _work(owner_id: int) -> tuple[list, list, list]:
    """(DM targets, deal moves, contacts to edit) of one owner. A DM target is a thread with
    its last message: the page's form carries it (`shown_until`), and a DM logged after it is
    appended to the thread on screen."""
    stages = {p.id: [s.id for s in p.active_stages if s.outcome == OPEN]
              for p in db.session.scalars(select(Pipeline))}
    moves = []
    for deal_id, version, stage_id, pipeline_id in db.session.execute(
            select(Deal.id, Deal.version, Deal.stage_id, Deal.pipeline_id)
            .where(Deal.outcome == OPEN, Deal.archived_at.is_(None), Deal.owner_id == owner_id)
            .order_by(Deal.id)):
        ids = stages.get(pipeline_id, [])
        if stage_id in ids and len(ids) > 1:
            i = ids.index(stage_id)
            moves.append([deal_id, version, stage_id, ids[i + 1] if i + 1 < len(ids)
                          else ids[i - 1]])
    reachable = (Contact.owner_id == owner_id, Contact.archived_at.is_(None),
                 Contact.do_not_contact.is_(False), Contact.consent_status != "opted_out")
    latest = (select(Message.id).where(Message.conversation_id == Conversation.id)
              .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)
              .correlate(Conversation).scalar_subquery())
    dms = db.session.execute(
        select(Conversation.contact_id, Conversation.id, Conversation.platform, latest)
        .join(Contact, Contact.id == Conversation.contact_id).where(*reachable)
        .order_by(Conversation.id).limit(600)).all()
    edits = db.session.scalars(select(Contact.id).where(*reachable).order_by(Contact.id.desc())
                               .limit(600)).all()
    return [list(dm) for dm in dms], moves, list(edits)


def plans(app, emails: list[str]) -> list[dict]:
    """Each writer's email and its share of its owner's records (owners shared round-robin,
    their records split so that no two writers meet)."""
    with app.app_context():
        users = {u.email: u.id for u in db.session.scalars(select(User))}
        owners = [emails[i % len(emails)] for i in range(WRITERS)]
        work = {email: _work(users[email]) for email in set(owners)}
    out = []
    for i, email in enumerate(owners):
        mates = [j for j, e in enumerate(owners) if e == email]
        k, n = mates.index(i), len(mates)
        dms, moves, edits = (items[k::n] for items in work[email])
        if not (dms and edits):
            raise RuntimeError(f"not enough records of {email} for {n} writers")
        out.append({"email": email, "dms": dms, "moves": moves, "edits": edits})
    return out


def _deadlocks(app) -> int | None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return None
        return db.session.scalar(text(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"))


def run(app, base: str, password: str, emails: list[str], seconds: float) -> dict:
    """The load, measured: {writes, failed, deadlocks, req_per_s, p50_ms, p95_ms, p99_ms}."""
    writers = plans(app, emails)
    clients = []
    for w in writers:
        client = Client(base)
        client.login(w["email"], password)
        w["token"] = client.csrf_token("/contacts")
        clients.append(client)
    times, failed, crashed, lock = [], [0], [], threading.Lock()
    before = _deadlocks(app)
    timed_from = []     # when the timed minute started
    start = threading.Barrier(len(writers))
    timed = threading.Barrier(len(writers), action=lambda: timed_from.append(time.monotonic()))

    def write(client, w, method, path, form, headers=HTMX):
        body = urlencode({**form, "csrf_token": w["token"]})
        r = client.request(method, path, body,
                           headers={**headers, "X-CSRFToken": w["token"]})
        ok = r.status in (200, 302) and b"changed by someone else" not in r.body
        if timed_from:   # not warming up
            with lock:
                times.append(r.seconds)
                failed[0] += not ok
        return r

    def writer(i):
        client, w = clients[i], writers[i]
        start.wait()
        try:
            n = writes(client, w, i, 0, time.monotonic() + WARM_UP_SECONDS)
            timed.wait()
            writes(client, w, i, n, time.monotonic() + seconds)
        except Exception as e:   # raised again by run(): a writer that stops is no result
            crashed.append(e)
            start.abort()
            timed.abort()

    def writes(client, w, i, n, deadline):
        """Write in turn until `deadline`; the number of writes made so far."""
        while time.monotonic() < deadline:
            kind, j = n % 3, n // 3
            if kind == 1 and not w["moves"]:   # a small dataset: this owner has no open deal
                kind = 0
            if kind == 0:      # log a DM on the thread on screen: received and sent in turn
                dm = w["dms"][j % len(w["dms"])]
                contact_id, conv_id, platform, shown_until = dm
                inbound = j % 2 == 0
                r = write(client, w, "POST", f"/contacts/{contact_id}/messages", {
                    "conversation_id": conv_id, "platform": platform, "sent_at": "",
                    "template_id": "", "media": "", "direction": "in" if inbound else "out",
                    "body": "Sounds good" if inbound else "Sending the brief now.",
                    "shown_until": shown_until or "", **({} if inbound else {"confirm": "1"})})
                # The answer appends to the thread on screen (the rest of the page stays),
                # and its fresh form knows the thread's new last message.
                found = SHOWN.search(r.body.decode())
                if r.status == 200 and (r.headers.get("hx-reswap") != "none" or found is None
                                        or not found.group(1)):
                    raise RuntimeError(f"the answer to a DM on contact {contact_id} did not "
                                       f"append to its thread")
                dm[3] = found.group(1) if found else shown_until
            elif kind == 1:    # move a deal to the neighbouring stage, and back next time
                move = w["moves"][j % len(w["moves"])]
                deal_id, version, here, there = move
                write(client, w, "POST", f"/deals/{deal_id}/move", {
                    "version": version, "from_stage_id": here, "stage_id": there,
                    "board": "1"}, {**HTMX, "HX-Current-URL": "http://127.0.0.1/board"})
                move[1:] = [version + 1, there, here]
            else:              # edit a contact's phone in place, as its "Edit" link does:
                # the field's editor first (it carries the version), then the new value
                contact_id = w["edits"][j % len(w["edits"])]
                form = client.get(f"/contacts/{contact_id}/fields/phone",
                                  headers=HTMX).body.decode()
                found = VERSION.search(form)
                if found is None:
                    raise RuntimeError(f"no version in the phone editor of contact {contact_id}")
                write(client, w, "POST", f"/contacts/{contact_id}/fields/phone", {
                    "phone": f"+1 555 {i:02d}{n % 10000:04d}", "version": found.group(1)})
            n += 1
        return n

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(len(writers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    causes = [e for e in crashed if not isinstance(e, threading.BrokenBarrierError)]
    if crashed:
        raise (causes or crashed)[0]
    elapsed = time.monotonic() - timed_from[0]
    after = _deadlocks(app)
    return {"writes": len(times), "failed": failed[0],
            "deadlocks": None if before is None else after - before,
            "req_per_s": round(len(times) / elapsed, 1), **summarize(times)}
