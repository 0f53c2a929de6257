"""Automatic follow-ups: one task per unanswered outbound DM after the pipeline's wait,
never for people who may not be contacted; from the CLI and from the Today page."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.contacts.consent import change_consent
from crm.conversations import services as dms
from crm.core.timeutil import utcnow
from crm.pipeline.models import Pipeline
from crm.tasks import followups
from crm.tasks.followups import create_follow_ups
from crm.tasks.models import Task
from tests import factories


def unanswered(contact, sent_at, platform="instagram", author=None):
    """A conversation whose latest message is ours, sent at `sent_at`, with no reply."""
    conv = factories.ConversationFactory(contact=contact, platform=platform,
                                         state="awaiting_reply", last_outbound_at=sent_at,
                                         last_message_at=sent_at, message_count=1)
    message = factories.MessageFactory(conversation=conv, direction="out", sent_at=sent_at,
                                       author_id=getattr(author, "id", None))
    return conv, message


def tasks(db):
    return db.session.scalars(select(Task).order_by(Task.id)).all()


@pytest.fixture
def contact(db, rep):
    return factories.ContactFactory(name="Aisha Haddad", owner_id=rep.id)


def test_one_task_per_unanswered_message(db, rep, contact):
    now = utcnow()
    _, message = unanswered(contact, now - timedelta(days=4))
    assert create_follow_ups(now=now) == 1
    assert create_follow_ups(now=now) == 0
    assert create_follow_ups(now=now + timedelta(days=10)) == 0
    db.session.commit()
    [task] = tasks(db)
    assert (task.auto, task.is_outreach, task.source_message_id) == (True, True, message.id)
    assert (task.assignee_id, task.contact_id, task.status) == (rep.id, contact.id, "open")
    assert "Aisha Haddad" in task.title and "Instagram" in task.title


def test_not_before_the_wait_is_over(db, contact):
    now = utcnow()
    unanswered(contact, now - timedelta(days=2, hours=23))
    assert create_follow_ups(now=now) == 0
    assert create_follow_ups(now=now + timedelta(hours=2)) == 1


def test_the_deals_pipeline_sets_the_wait(db, rep, contact):
    now = utcnow()
    deal = factories.DealFactory(contact=contact)
    pipeline = db.session.get(Pipeline, deal.pipeline_id)
    pipeline.follow_up_days = 7
    unanswered(contact, now - timedelta(days=4))
    other = factories.ContactFactory(owner_id=rep.id)
    unanswered(other, now - timedelta(days=4))   # no deal: the default three days
    assert create_follow_ups(now=now) == 1
    assert tasks(db)[0].contact_id == other.id
    assert create_follow_ups(now=now + timedelta(days=3, hours=1)) == 1
    assert tasks(db)[1].deal_id == deal.id


def test_never_for_people_who_may_not_be_contacted(db, rep):
    now = utcnow()
    opted_out = factories.ContactFactory(owner_id=rep.id)
    dnc = factories.ContactFactory(owner_id=rep.id)
    archived = factories.ContactFactory(owner_id=rep.id, archived_at=now)
    for c in (opted_out, dnc, archived):
        unanswered(c, now - timedelta(days=5))
    change_consent(rep, opted_out, status="opted_out", source="Asked by email")
    change_consent(rep, dnc, do_not_contact=True, source="Legal request")
    assert create_follow_ups(now=now) == 0
    assert tasks(db) == []


def test_answered_conversations_get_nothing(db, contact):
    now = utcnow()
    conv, message = unanswered(contact, now - timedelta(days=6))
    message.replied_at = now - timedelta(days=5)
    conv.state = "needs_reply"
    conv.last_inbound_at = conv.last_message_at = now - timedelta(days=5)
    assert create_follow_ups(now=now) == 0


def test_a_new_unanswered_dm_gets_its_own_follow_up(db, rep, contact):
    """Logged through the conversations service, as a rep would."""
    now = utcnow()
    dms.log_message(rep, contact, platform="instagram", direction="out", body="Hi Aisha!",
                    sent_at=now - timedelta(days=9))
    assert create_follow_ups(now=now) == 1
    dms.log_message(rep, contact, platform="instagram", direction="out", body="Any thoughts?",
                    sent_at=now - timedelta(days=4))
    assert create_follow_ups(now=now) == 1
    assert len({t.source_message_id for t in tasks(db)}) == 2
    dms.log_message(rep, contact, platform="instagram", direction="in", body="Yes, let's talk",
                    sent_at=now - timedelta(days=1))
    assert create_follow_ups(now=now + timedelta(days=30)) == 0


def test_opting_out_later_cancels_the_follow_up(db, rep, contact):
    now = utcnow()
    unanswered(contact, now - timedelta(days=4))
    create_follow_ups(now=now)
    change_consent(rep, contact, status="opted_out", source="Replied STOP")
    db.session.commit()
    [task] = tasks(db)
    assert task.status == "cancelled" and "opted out" in task.cancel_note


def test_cli_creates_follow_ups_and_says_how_many(app, db, contact):
    unanswered(contact, utcnow() - timedelta(days=4))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tasks", "follow-ups"])
    assert result.exit_code == 0, result.output
    assert "1 follow-up task created." in result.output
    again = app.test_cli_runner().invoke(args=["tasks", "follow-ups"])
    assert "0 follow-up tasks created." in again.output
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Task)) == 1


def test_today_page_creates_nothing_the_periodic_job_does(auth, db, rep, contact):
    from crm import jobs
    from crm.jobs import runner
    from crm.jobs.models import Job

    unanswered(contact, utcnow() - timedelta(days=4))
    html = auth.login(rep).get("/today").data.decode()
    assert "Follow up with Aisha Haddad" not in html and tasks(db) == []   # a GET writes nothing
    assert any(k.endswith("periodic.tasks.follow_ups") for k in jobs.huey._registry._registry)
    runner.run_periodic("tasks.follow_ups")
    job = db.session.scalars(select(Job).where(Job.task == "tasks.follow_ups")).one()
    assert job.status == "done" and job.result == {"summary": "1 follow-up task created"}
    html = auth.client.get("/today").data.decode()
    assert "Follow up with Aisha Haddad" in html and "Auto follow-up" in html
    runner.run_periodic("tasks.follow_ups")          # again: nothing twice
    assert len(tasks(db)) == 1


def test_the_rule_is_set_based(db, rep, count_queries):
    now = utcnow()
    for i in range(3):
        unanswered(factories.ContactFactory(owner_id=rep.id), now - timedelta(days=5))
    with count_queries() as few:
        assert create_follow_ups(now=now) == 3
    for i in range(30):
        unanswered(factories.ContactFactory(owner_id=rep.id), now - timedelta(days=5))
    with count_queries() as many:
        assert create_follow_ups(now=now) == 30
    # The settings, the candidates and their contacts: the same reads however many rows.

    def reads(q):
        return [s for s in q.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads(many)) == len(reads(few)) <= 3


def test_a_run_can_look_back_a_week_only(db, rep, contact):
    """With lookback_days the rule stays an index range scan."""
    now = utcnow()
    unanswered(contact, now - timedelta(days=3 + 7 + 2))
    assert create_follow_ups(now=now, owner_id=rep.id, lookback_days=7) == 0
    assert create_follow_ups(now=now) == 1
