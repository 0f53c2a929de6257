"""Demo tasks: for each rep (and the manager) some overdue, some due today, some upcoming;
then the follow-up rule runs over the demo conversations."""
from datetime import datetime, time, timedelta

from sqlalchemy import select

from crm.contacts.consent import may_contact
from crm.core.timeutil import from_local, local, utcnow
from crm.extensions import db
from crm.pipeline.models import Deal
from crm.tasks.followups import create_follow_ups
from crm.tasks.models import Task

TITLES = [
    ("Send the brief to {first}", True), ("Check {first}'s draft video", False),
    ("Confirm posting date with {first}", True), ("Send the contract to {first}", True),
    ("Chase {first} for the invoice", False), ("Ask {first} for story screenshots", True),
    ("Prepare proposal for {first}", False), ("Call {first} about seat count", True),
    ("Share the discount code with {first}", True), ("Log results for {first}'s post", False),
]


def load(ctx) -> None:
    rng, now = ctx.rng, utcnow()
    people = ctx.users.get("rep", []) + ctx.users.get("manager", [])
    deals = list(db.session.scalars(select(Deal).where(Deal.outcome == "open")))
    for user in people:
        mine = [d for d in deals if d.owner_id == user.id] or deals
        today = local(now, user.timezone).date()
        plan = [(-rng.randint(1, 6), rng.randint(9, 17)) for _ in range(rng.randint(2, 4))]
        plan += [(0, h) for h in rng.sample(range(9, 19), rng.randint(3, 4))]
        plan += [(rng.randint(1, 12), rng.randint(9, 17)) for _ in range(rng.randint(4, 6))]
        for days, hour in plan:
            deal = rng.choice(mine)
            contact = deal.contact
            title, outreach = rng.choice(TITLES)
            outreach = outreach and may_contact(contact).allowed
            due = from_local(datetime.combine(today + timedelta(days=days), time(hour, 0)),
                             user.timezone)
            db.session.add(Task(title=title.format(first=contact.first_name or contact.name),
                                due_at=due, assignee_id=user.id, created_by_id=user.id,
                                contact_id=contact.id, deal_id=deal.id, is_outreach=outreach,
                                created_at=min(due, now) - timedelta(days=rng.randint(1, 5))))
    db.session.flush()
    create_follow_ups(now=now)
    db.session.flush()
