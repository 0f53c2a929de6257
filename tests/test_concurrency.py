"""Nothing lost under concurrency: real simultaneous requests against the served app, on
the test database (a SQLite file in WAL mode, or PostgreSQL with --db=postgres)."""
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

from sqlalchemy import func, select

from crm.contacts.models import ConsentEvent, Contact
from crm.conversations import reply_state, services
from crm.conversations.models import Conversation, Message, ResponseTime
from crm.core.timeutil import utcnow
from crm.extensions import db
from tests import factories
from tests.factories import reply_state_snapshot

ROUNDS = 3


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None   # a 302 is an answer to look at, not to follow


OPENER = urllib.request.build_opener(_NoRedirects)


class Browser:
    """One signed-in person, posting forms the way a browser (or htmx) does."""

    def __init__(self, app, base, user):
        from crm.accounts import sessions

        secret = sessions.start(user)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = secret
            session["_fresh"] = True
        self.cookie = f"session={client.get_cookie('session').value}"
        self.base = base

    def get(self, path) -> str:
        request = urllib.request.Request(self.base + path, headers={"Cookie": self.cookie})
        with OPENER.open(request, timeout=60) as response:
            return response.read().decode()

    def post(self, path, data, htmx=False):
        request = urllib.request.Request(
            self.base + path, data=urllib.parse.urlencode(data).encode(), method="POST",
            headers={"Cookie": self.cookie, **({"HX-Request": "true"} if htmx else {})})
        try:
            with OPENER.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


def at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def dm(direction, at=None, **extra):
    return {"platform": "instagram", "direction": direction, "body": f"{direction} {at}",
            "sent_at": at.strftime("%Y-%m-%dT%H:%M") if at else "", "confirm": "1", **extra}


def kept_equals_rebuild(db):
    db.session.expire_all()
    kept = reply_state_snapshot()
    reply_state.rebuild_reply_state(db.session.scalars(select(Conversation.id)).all())
    rebuilt = reply_state_snapshot()
    db.session.rollback()
    return kept == rebuilt


def test_simultaneous_dms_on_one_conversation_are_all_counted_once(app, db, rep, live_server):
    contact = factories.ContactFactory(owner_id=rep.id)
    first = services.log_message(rep, contact, platform="instagram", direction="in",
                                 body="Hi there", sent_at=utcnow() - timedelta(hours=1))
    conv_id = first.conversation_id
    db.session.commit()
    url = f"/contacts/{contact.id}/messages"
    people = [Browser(app, live_server, rep) for _ in range(6)]
    answers = at_once(*[lambda p=p: p.post(url, dm("out"), htmx=True) for p in people])
    assert [status for status, _ in answers] == [200] * 6
    db.session.expire_all()
    conv = db.session.get(Conversation, conv_id)
    stored = db.session.scalar(select(func.count()).select_from(Message))
    assert conv.message_count == stored == 7
    bursts = db.session.execute(select(ResponseTime.answered_at)).all()
    assert len(bursts) == 1 and bursts[0][0] is not None   # one burst, answered once
    assert conv.state == "awaiting_reply"
    assert kept_equals_rebuild(db)


def test_an_inbound_and_an_outbound_at_once_keep_the_customers_last_word(app, db, rep, live_server):
    browser = Browser(app, live_server, rep)
    now = utcnow().replace(second=0, microsecond=0)
    for _ in range(ROUNDS):
        contact = factories.ContactFactory(owner_id=rep.id)
        services.log_message(rep, contact, platform="instagram", direction="in", body="Hello",
                             sent_at=now - timedelta(hours=2))
        db.session.commit()
        ours, theirs = now - timedelta(minutes=2), now - timedelta(minutes=1)
        url = f"/contacts/{contact.id}/messages"
        answers = at_once(lambda: browser.post(url, dm("out", ours), True),
                          lambda: browser.post(url, dm("in", theirs), True))
        assert [status for status, _ in answers] == [200, 200]
        db.session.expire_all()
        conv = db.session.scalars(select(Conversation)
                                  .where(Conversation.contact_id == contact.id)).one()
        # The customer wrote last: the conversation waits on us (it stays in the inbox).
        assert (conv.state, conv.waiting_since, conv.message_count) == \
            ("needs_reply", theirs, 3)
    assert kept_equals_rebuild(db)


def test_two_first_dms_to_a_new_contact_make_one_conversation(app, db, rep, live_server):
    for _ in range(ROUNDS):
        contact = factories.ContactFactory(owner_id=rep.id)
        db.session.commit()
        url = f"/contacts/{contact.id}/messages"
        people = [Browser(app, live_server, rep) for _ in range(3)]
        answers = at_once(*[lambda p=p: p.post(url, dm("in"), htmx=True) for p in people])
        assert [status for status, _ in answers] == [200, 200, 200]
        db.session.expire_all()
        convs = db.session.scalars(select(Conversation)
                                   .where(Conversation.contact_id == contact.id)).all()
        assert len(convs) == 1 and convs[0].message_count == 3
    assert kept_equals_rebuild(db)


def test_simultaneous_edits_of_one_contact_save_one_and_explain_the_other(app, db, rep, live_server):
    browser = Browser(app, live_server, rep)
    for _ in range(ROUNDS):
        contact = factories.ContactFactory(owner_id=rep.id, name="Before")
        db.session.commit()
        version, url = contact.version, f"/contacts/{contact.id}/edit"

        def edit(name):
            return browser.post(url, {
                "kind": "contact", "name": name, "currency": "USD", "owner_id": str(rep.id),
                "version": str(version)})

        answers = at_once(lambda: edit("Alice"), lambda: edit("Bruno"))
        statuses = sorted(status for status, _ in answers)
        assert statuses == [200, 302], statuses          # one saved, one explained
        refused = next(body for status, body in answers if status == 200)
        assert "changed by someone else" in refused
        db.session.expire_all()
        saved = db.session.get(Contact, contact.id)
        assert saved.name in ("Alice", "Bruno") and saved.version > version


def test_simultaneous_consent_changes_never_fail_and_keep_history_true(app, db, rep, live_server):
    browser = Browser(app, live_server, rep)
    for _ in range(ROUNDS):
        contact = factories.ContactFactory(owner_id=rep.id)
        db.session.commit()
        url = f"/contacts/{contact.id}/consent"

        def change(status):
            # With their word given, so that an opt-in after the other's opt-out is allowed.
            return browser.post(url, {"status": status, "source": "Asked by DM",
                                      "confirm": "y"}, htmx=True)

        answers = at_once(lambda: change("opted_out"), lambda: change("opted_in"))
        assert [status for status, _ in answers] == [200, 200]
        conflicts = sum("changed by someone else" in body for _, body in answers)
        refused = sum('role="alert"' in body for _, body in answers)
        assert refused == conflicts   # the only refusal is the clear conflict
        db.session.expire_all()
        events = db.session.scalars(select(ConsentEvent).where(
            ConsentEvent.contact_id == contact.id).order_by(ConsentEvent.id)).all()
        assert len(events) == 2 - conflicts >= 1
        saved = db.session.get(Contact, contact.id)
        assert saved.consent_status == events[-1].to_status


def test_twelve_writers_at_once_never_deadlock_nor_fail(app, db, rep, other_rep, manager,
                                                        live_server):
    """Twelve people logging DMs, moving deals and editing contacts at the same moment, round
    after round (the load of `make bench`'s writers row, untimed): on PostgreSQL every
    request answers (no deadlock, no 500) and every write is kept."""
    from tests.test_board import sales

    new, contacted = sales(db, "New"), sales(db, "Contacted")
    people = [rep, other_rep, manager] * 4
    writers = []
    for i, person in enumerate(people):
        talked_to = factories.ContactFactory(owner_id=person.id, name=f"Talked to {i}")
        edited = factories.ContactFactory(owner_id=person.id, name=f"Edited {i}")
        deal = factories.DealFactory(contact=talked_to, stage=new, owner_id=person.id)
        writers.append((person, talked_to, edited, deal))
    db.session.commit()
    browsers = [Browser(app, live_server, person) for person, *_ in writers]
    # Plain values for the threads (they have no app context to load rows in).
    plans = [(person.id, talked_to.id, edited.id, deal.id, deal.version)
             for person, talked_to, edited, deal in writers]
    stages = (contacted.id, new.id)
    rounds = 4

    def work(i):
        person_id, talked_to, edited, deal, deal_version = plans[i]
        answers = []
        for r in range(rounds):
            answers.append(browsers[i].post(f"/contacts/{talked_to}/messages",
                                            dm("out" if r % 2 else "in"), htmx=True))
            answers.append(browsers[i].post(f"/deals/{deal}/move", {
                "stage_id": stages[r % 2], "version": deal_version + r, "board": "1"},
                htmx=True))
            form = browsers[i].get(f"/contacts/{edited}/edit")   # the version it shows
            version = re.search(r'name="version"[^>]*value="(\d+)"', form).group(1)
            answers.append(browsers[i].post(f"/contacts/{edited}/edit", {
                "kind": "contact", "name": f"Edited {i} round {r}", "currency": "USD",
                "owner_id": str(person_id), "version": version}))
        return answers

    results = at_once(*[lambda i=i: work(i) for i in range(len(writers))])
    statuses = [status for answers in results for status, _ in answers]
    assert all(status < 500 for status in statuses), statuses
    refused = [(i, n) for i, answers in enumerate(results) for n, (_, body) in enumerate(answers)
               if "changed by someone else" in body]
    assert refused == []
    db.session.expire_all()
    for i, (person, talked_to, edited, deal) in enumerate(writers):
        assert db.session.get(Contact, edited.id).name == f"Edited {i} round {rounds - 1}"
        assert db.session.get(type(deal), deal.id).stage_id == new.id   # moved there and back
        assert db.session.scalar(select(func.count()).select_from(Message).join(Conversation)
                                 .where(Conversation.contact_id == talked_to.id)) == rounds
    assert kept_equals_rebuild(db)


def dms_while_reassigned(app, live_server, manager, rep, other_rep, dms):
    """Log `dms` (forms) on a contact of `rep` while a manager reassigns it, to another rep,
    back and to nobody, three times over; every answer under 500."""
    contact = factories.ContactFactory(owner_id=rep.id, name="Moving")
    db.session.commit()
    writer, mover = Browser(app, live_server, manager), Browser(app, live_server, manager)
    contact_id, owners = contact.id, [other_rep.id, rep.id, None] * 3

    def log():
        return [writer.post(f"/contacts/{contact_id}/messages", form, htmx=True)
                for form in dms]

    def move():
        return [mover.post(f"/contacts/{contact_id}/owner", {"owner_id": str(o or "")})
                for o in owners]

    results = at_once(log, move)
    assert all(status < 500 for answers in results for status, _ in answers), results
    db.session.expire_all()


def test_a_contact_reassigned_while_dms_are_logged_on_it_keeps_the_dashboard_counts(
        app, db, rep, other_rep, manager, live_server):
    """A reassignment moves the contact's counts from one owner to the other while DMs are
    being logged on it: each DM is counted under the owner it was logged under, and moved
    with the rest (on PostgreSQL the DM holds the contact's owner until it commits)."""
    from crm.contacts import dm_counts

    dms_while_reassigned(app, live_server, manager, rep, other_rep,
                         [dm("out" if r % 2 else "in") for r in range(8)])
    assert db.session.scalar(select(func.count()).select_from(Message)) == 8
    assert dm_counts.stored_hours() == dm_counts.recounted_hours() != {}
    assert dm_counts.stored_totals() == dm_counts.recounted_totals()
    assert dm_counts.stored_responses() == dm_counts.recounted_responses() != {}

