"""The figure cache never shows stale figures: after each kind of change, made through the
app or past it, every remembered figure equals a full recount on the next load; and a change
recomputes only the figures that read what it changed (crm.core.cache)."""
from collections import Counter

import pytest
from sqlalchemy import delete, func, select, text, update

from crm.audit.models import AuditEvent
from crm.contacts import dm_counts, owner_copies
from crm.contacts.models import ConsentEvent, Contact
from crm.contacts.services import set_owner
from crm.conversations import reply_state, services as dms
from crm.conversations.models import Conversation, Message, ResponseTime
from crm.pipeline.models import Deal, Stage, StageChange
from crm.core import cache
from crm.extensions import db as _db
from crm.core.cache import OUTREACH, REFUSALS, generations
from crm.reports.consent_figures import unknown_in_outreach, unknown_in_outreach_where
from crm.reports.filters import DashboardFilters
from crm.reports.scope import Scope
from crm.tasks.models import Task
from tests.test_dashboard_figures import NOW, at, build_world, dashboard

def db_session():
    return _db.session


VIEWS = [("manager", {}), ("rep", {}), ("manager", {"platform": "instagram"}),
         ("manager", {"owner": "rep"})]


@pytest.fixture
def world(db, manager, rep, other_rep):
    return build_world(db, manager, rep, other_rep)


def figures(world, role, args):
    user = getattr(world, role)
    if args.get("owner") == "rep":
        args = {**args, "owner": str(world.rep.id)}
    d = dashboard(user, **args)
    return d.pipeline, d.dms, d.work, d.consent


def recounted(app, world, role, args):
    app.config["REPORTS_CACHE"] = False
    try:
        return figures(world, role, args)
    finally:
        app.config["REPORTS_CACHE"] = True


def _move(db, world, deal, stage, when):
    deal = db.session.get(Deal, world.deals[deal].id)
    db.session.add(StageChange(deal_id=deal.id, from_stage_id=deal.stage_id,
                               to_stage_id=world.stages[stage].id, at=when,
                               seconds_in_from_stage=3600))
    deal.stage_id, deal.outcome = world.stages[stage].id, world.stages[stage].outcome
    deal.closed_at = when if deal.outcome != "open" else None


def _consent(db, world, key, status, when):
    contact = db.session.get(Contact, world.contacts[key].id)
    db.session.add(ConsentEvent(contact_id=contact.id, at=when, from_status=contact.consent_status,
                                to_status=status, source="Asked by phone"))
    contact.consent_status = status


def past_the_app(db, change):
    """A change no service makes (SQL on the tables): the copies of contacts' owners, the
    copies the reply state keeps and the dashboard's DM counts are recounted after it, as
    `flask reports rebuild-rollup` does."""
    change()
    db.session.flush()
    owner_copies.recount()
    reply_state.recount_copies()
    dm_counts.recount()


CHANGES = {
    "a reply logged (service)": lambda db, w: dms.log_message(
        w.rep, w.contacts["c1"], platform="instagram", direction="in", body="Yes please",
        sent_at=at(14, 12)),
    "a DM deleted": lambda db, w: past_the_app(db, lambda: db.session.execute(
        delete(Message).where(Message.id == w.msgs["m10"].id))),
    "a first response answered": lambda db, w: past_the_app(db, lambda: db.session.execute(
        update(ResponseTime).where(ResponseTime.conversation_id == w.convs["C"].id,
                                   ResponseTime.answered_at.is_(None))
        .values(answered_at=at(15, 11, 30), response_seconds=1800, responder_id=w.other.id))),
    "a conversation closed": lambda db, w: db.session.execute(
        update(Conversation).where(Conversation.id == w.convs["C"].id)
        .values(state="closed", waiting_since=None)),
    "a conversation moved to another platform": lambda db, w: past_the_app(db, lambda: db.session.execute(
        update(Conversation).where(Conversation.id == w.convs["A"].id).values(platform="x"))),
    "a deal moved": lambda db, w: _move(db, w, "d4", "Contacted", at(14, 9)),
    "a deal won": lambda db, w: _move(db, w, "d5", "Won", at(14, 9)),
    "a next step written": lambda db, w: db.session.execute(
        update(Deal).where(Deal.id == w.deals["d4"].id).values(next_step="Call Friday")),
    "a deal archived": lambda db, w: db.session.execute(
        update(Deal).where(Deal.id == w.deals["d1"].id).values(archived_at=at(15, 9))),
    "a stage history row deleted": lambda db, w: db.session.execute(
        delete(StageChange).where(StageChange.deal_id == w.deals["d3"].id,
                                  StageChange.from_stage_id.is_not(None))),
    "a stage reordered": lambda db, w: db.session.execute(
        update(Stage).where(Stage.id == w.stages["Contacted"].id)
        .values(position=Stage.position + 10)),
    "a task completed": lambda db, w: db.session.execute(
        update(Task).where(Task.title == "t1").values(status="done", done_at=at(14, 11))),
    "a task created on a deal": lambda db, w: db.session.add(Task(
        title="call", assignee_id=w.rep.id, status="open", due_at=at(20, 9),
        deal_id=w.deals["d4"].id)),
    "a follow-up created": lambda db, w: past_the_app(db, lambda: db.session.add(Task(
        title="follow up", assignee_id=w.rep.id, status="open", due_at=at(16, 9), auto=True,
        source_message_id=w.msgs["m9"].id, created_at=at(13, 11)))),
    "a follow-up's DM answered": lambda db, w: past_the_app(db, lambda: db.session.execute(
        update(Message).where(Message.id == w.msgs["m3"].id).values(replied_at=at(14, 8)))),
    "a follow-up's answer undone": lambda db, w: past_the_app(db, lambda: db.session.execute(
        update(Message).where(Message.id == w.msgs["m1"].id).values(replied_at=None))),
    "a follow-up pointed at another DM": lambda db, w: past_the_app(db, lambda: db.session.execute(
        update(Task).where(Task.title == "t8").values(source_message_id=w.msgs["m5"].id))),
    "consent changed": lambda db, w: _consent(db, w, "c1", "opted_out", at(14, 9)),
    "a contact marked do-not-contact (SQL)": lambda db, w: db.session.execute(
        update(Contact).where(Contact.id == w.contacts["c1"].id).values(do_not_contact=True)),
    "a contact reassigned": lambda db, w: past_the_app(db, lambda: db.session.execute(
        update(Contact).where(Contact.id == w.contacts["c3"].id).values(owner_id=w.rep.id))),
    "a contact archived": lambda db, w: db.session.execute(
        update(Contact).where(Contact.id == w.contacts["c1"].id).values(archived_at=at(15, 9))),
    "a DM deleted (service)": lambda db, w: dms.delete_message(
        w.manager, db.session.get(Message, w.msgs["m3"].id)),
    "an outbound DM logged (service)": lambda db, w: dms.log_message(
        w.manager, w.contacts["c1"], platform="linkedin", direction="out", body="Hello there",
        sent_at=at(15, 10)),
    "a conversation moved to another contact": lambda db, w: past_the_app(db, lambda: db.session.execute(
        update(Conversation).where(Conversation.id == w.convs["A"].id)
        .values(contact_id=w.contacts["c5"].id))),
    "a conversation deleted": lambda db, w: past_the_app(db, lambda: [db.session.execute(
        delete(model).where(model.conversation_id == w.convs["E"].id))
        for model in (ResponseTime, Message)] and db.session.execute(
        delete(Conversation).where(Conversation.id == w.convs["E"].id))),
    "a refusal": lambda db, w: db.session.add(AuditEvent(
        action="outreach_refused", entity_type="contact", entity_id=w.contacts["c3"].id,
        actor_id=w.rep.id, at=at(14, 9), summary="Refused.", changes={"action": "outbound DM"})),
}


@pytest.mark.parametrize("remembering", ["simple", "redis"], indirect=True)
@pytest.mark.parametrize("change", list(CHANGES))
def test_each_kind_of_change_shows_on_the_next_load(app, db, world, remembering, change):
    before = {i: figures(world, role, args) for i, (role, args) in enumerate(VIEWS)}
    assert all(figures(world, role, args) == before[i]            # remembered, unchanged
               for i, (role, args) in enumerate(VIEWS))
    CHANGES[change](db, world)
    db.session.commit()
    assert kept_last_outbound() == recounted_last_outbound()
    assert kept_follow_up_replies() == recounted_follow_up_replies()
    moved = False
    for i, (role, args) in enumerate(VIEWS):
        after = figures(world, role, args)
        assert after == recounted(app, world, role, args), (role, args)
        moved |= after != before[i]
    assert moved, "the change should move at least one figure"


def kept_last_outbound() -> dict:
    return dict(db_session().execute(select(Contact.id, Contact.last_outbound_at)).all())


def recounted_last_outbound() -> dict:
    latest = dict(db_session().execute(
        select(Conversation.contact_id, func.max(Conversation.last_outbound_at))
        .group_by(Conversation.contact_id)).all())
    return {c: latest.get(c) for c in kept_last_outbound()}


def kept_follow_up_replies() -> dict:
    return dict(db_session().execute(select(Task.id, Task.source_replied_at)).all())


def recounted_follow_up_replies() -> dict:
    replied = dict(db_session().execute(
        select(Task.id, Message.replied_at).join(Message, Message.id == Task.source_message_id))
        .all())
    return {t: replied.get(t) for t in kept_follow_up_replies()}


def test_the_world_starts_with_its_kept_state(world):
    assert kept_last_outbound() == recounted_last_outbound()
    assert kept_follow_up_replies() == recounted_follow_up_replies()
    assert kept_follow_up_replies()[db_session().scalar(
        select(Task.id).where(Task.title == "t9"))] == at(10, 11)
    assert kept_last_outbound()[world.contacts["c1"].id] == at(10, 12)


@pytest.mark.parametrize("first, last", [(9, 9), (9, 15), (10, 10), (11, 15), (1, 8)])
def test_unknown_consent_in_outreach_matches_the_conversations(world, first, last):
    # Cara One (unknown consent) was last DMed on 10 March in A and on 9 March in E: a range
    # ending on the 9th finds her through E although her latest DM is later.
    for user, args in [(world.manager, {}), (world.rep, {}), (world.manager, {"platform": "x"}),
                       (world.manager, {"owner": str(world.rep.id)})]:
        scope = Scope.for_view(user, DashboardFilters.from_args(
            {"preset": "custom", "from": f"2026-03-{first:02d}", "to": f"2026-03-{last:02d}",
             **args}, user.timezone, NOW))
        by_conversations = db_session().scalar(select(func.count()).select_from(Contact).where(
            *unknown_in_outreach_where(scope)))
        assert unknown_in_outreach(scope) == by_conversations, (first, last, args)


_stored: Counter = Counter()


@pytest.fixture(autouse=True)
def _count_computations(monkeypatch):
    """A figure computed is stored (crm.core.cache.remember): each store counted by name."""
    store = cache.cache.set

    def counting(key, value, *args, **kwargs):
        if key.startswith("fig:"):
            _stored[key.split(":")[1]] += 1
        return store(key, value, *args, **kwargs)

    _stored.clear()
    monkeypatch.setattr(cache.cache, "set", counting)


# Remembered too, but read by writes rather than shown: the settings and the webhook
# endpoints (the first DM logged remembers the endpoints, changed or not).
LOOKUPS = {"settings", "webhook_endpoints"}


def computed(names=None) -> Counter:
    """How many times each figure has been computed so far."""
    return Counter({k: n for k, n in _stored.items() if k not in LOOKUPS})


def test_a_dm_recomputes_only_what_reads_dms(db, world, remembering):
    figures(world, "manager", {})
    first = computed()
    dms.log_message(world.rep, world.contacts["c1"], platform="instagram", direction="in",
                    body="Sounds good", sent_at=at(14, 12))
    db.session.commit()
    figures(world, "manager", {})
    again = computed() - first
    # No follow-up was created for the DM it answers, so the tasks are unchanged (a reply
    # to a follow-up's DM changes that task: see "a follow-up's DM answered" above).
    assert set(again) == {"sent", "responses", "waiting_in_range", "waiting_now",
                          "unknown_in_outreach"}


def test_a_reps_sent_dm_leaves_the_figures_of_their_contacts_remembered(app, db, world,
                                                                      remembering):
    """A sent DM moves its contact's latest outbound DM (contacts.last_outbound_at), which
    only "unknown consent in outreach" reads: the rep's pipeline, tasks and opt-outs, which
    read the contacts for the rep's scope, stay remembered."""
    figures(world, "rep", {})
    first = computed()
    before = _db.session.get(Contact, world.contacts["c1"].id).last_outbound_at
    dms.log_message(world.rep, world.contacts["c1"], platform="instagram", direction="out",
                    body="Following up on the brief", sent_at=at(14, 16))
    db.session.commit()
    assert _db.session.get(Contact, world.contacts["c1"].id).last_outbound_at != before
    assert figures(world, "rep", {}) == recounted(app, world, "rep", {})
    assert set(computed() - first) == {"sent", "responses", "waiting_in_range", "waiting_now",
                                       "unknown_in_outreach"}


def test_a_deal_move_recomputes_only_the_pipeline(db, world, remembering):
    figures(world, "manager", {})
    first = computed()
    _move(db, world, "d4", "Contacted", at(14, 9))
    db.session.commit()
    figures(world, "manager", {})
    assert set(computed() - first) == {"open_by_stage", "funnel", "time_in_stage", "closed",
                                       "no_next_step"}


def test_a_completed_task_recomputes_only_what_reads_tasks(db, world, remembering):
    figures(world, "manager", {})
    first = computed()
    db.session.execute(update(Task).where(Task.title == "t1").values(status="done",
                                                                      done_at=at(14, 11)))
    db.session.commit()
    figures(world, "manager", {})
    assert set(computed() - first) == {"tasks", "follow_ups", "no_next_step"}


TRACKED = ("messages", "response_times", "conversations", "contacts", "deals", "stage_changes",
           "stages", "tasks", "consent_events", REFUSALS, OUTREACH)


def test_commits_renew_only_what_the_figures_read(db, world):
    def each():
        return {name: generations((name,)) for name in TRACKED}

    def bumped(change):
        seen = each()
        change()
        db.session.commit()
        now = each()
        return {name for name in now if now[name] != seen[name]}

    c1 = world.contacts["c1"].id

    def contact():
        return db.session.get(Contact, c1)

    assert bumped(lambda: setattr(contact(), "notes", "likes cats")) == set()
    # c1's deals keep their contact's owner (crm.contacts.owner_copies): they change too,
    # and the DM counts kept per owner move with the contact (shared generations: the
    # pipeline's for deals and stage changes, the DM tables' for messages and the rest).
    assert bumped(lambda: set_owner(world.manager, contact(), None)) == {
        "contacts", "deals", "stage_changes", "messages", "response_times", "conversations"}
    assert bumped(lambda: setattr(contact(), "consent_status", "opted_in")) == {"contacts"}
    sent = bumped(lambda: dms.log_message(world.rep, contact(), platform="instagram",
                                          direction="out", body="Hi", sent_at=at(14, 16)))
    assert OUTREACH in sent and "contacts" not in sent
    # The DM tables share one generation: a message edited renews it for them all.
    assert bumped(lambda: db.session.execute(update(Message).where(
        Message.id == world.msgs["m1"].id).values(body="edited"))) == {
        "messages", "response_times", "conversations"}
    assert bumped(lambda: db.session.execute(delete(Task).where(Task.title == "t2"))) == {"tasks"}
    assert bumped(lambda: db.session.execute(update(Stage).where(
        Stage.id == world.stages["Contacted"].id).values(name="Pitched"))) == {"stages"}

    def audit(action):
        return lambda: db.session.add(AuditEvent(
            action=action, entity_type="contact", entity_id=c1, at=at(14, 9), summary="x",
            changes={}))

    assert bumped(audit("update")) == set()
    assert bumped(audit("outreach_refused")) == {REFUSALS}
    assert bumped(lambda: db.session.execute(
        delete(ConsentEvent).where(ConsentEvent.contact_id == c1))) == {"consent_events"}
