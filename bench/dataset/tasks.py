"""Tasks: the automatic follow-ups the app would have created for every unanswered DM (so
the Today page finds nothing left to create), and hand-made tasks up to the wanted total."""
from datetime import timedelta

from bench.dataset import load, words
from bench.dataset.world import World
from crm.contacts.models import PLATFORM_LABELS
from crm.conversations.models import AWAITING_REPLY
from crm.tasks.followups import DEFAULT_DAYS

STILL_OPEN = timedelta(days=7)   # newer follow-ups are usually still on someone's list


def _follow_ups(world: World) -> list[dict]:
    """One follow-up per awaiting conversation whose last DM went unanswered for the
    contact's follow-up delay (the shortest of their open deals' pipelines, else 3 days)."""
    rng, now, rows = world.rng, world.now, []
    for conv in world.conversations:
        if conv.state != AWAITING_REPLY or conv.last_outbound_id is None:
            continue
        p = world.person(conv.contact_id)
        open_deals = world.open_deals.get(p.id, [])
        days = min((d for _, d in open_deals), default=DEFAULT_DAYS)
        if not p.may_contact or conv.last_outbound_at > now - timedelta(days=days):
            continue
        # The sweep runs every few hours: the task appeared (due now) soon after the delay.
        earliest = conv.last_outbound_at + timedelta(days=days)
        due = earliest + min(now - earliest, timedelta(minutes=rng.uniform(0, 240)))
        label = PLATFORM_LABELS[conv.platform]
        done = now - due > STILL_OPEN or rng.random() < 0.3
        rows.append(_task(
            title=f"Follow up with {p.name} on {label}",
            notes=f"No reply to our {label} DM for {days} days.", due_at=due,
            assignee_id=p.owner_id or conv.last_outbound_author, created_by_id=None,
            contact_id=p.id, deal_id=max((d for d, _ in open_deals), default=None),
            status="done" if done else "open", is_outreach=True, auto=True,
            source_message_id=conv.last_outbound_id,
            done_at=min(now, due + timedelta(hours=rng.uniform(1, 72))) if done else None,
            created_at=due))
    return rows


def _manual(world: World, count: int) -> list[dict]:
    rng, now, rows = world.rng, world.now, []
    people = [p for p in world.people if p.archived_at is None]
    for _ in range(count):
        p = rng.choice(people)
        assignee = p.owner_id if p.owner_id and rng.random() < .85 else rng.choice(
            world.reps + world.managers)
        due = now + timedelta(days=rng.uniform(-60, 21))
        due = due.replace(hour=rng.choice([8, 9, 10, 13, 15, 16]), minute=0, second=0,
                          microsecond=0)
        created = min(now, due - timedelta(days=rng.uniform(0.5, 14)))
        outreach = rng.random() < 0.3
        status, done_at, cancelled_at, note = "open", None, None, None
        if due < now:
            # Most past tasks were done; a backlog of about one in ten is left open.
            roll = rng.random()
            if roll < 0.85:
                done_at = due + timedelta(hours=rng.uniform(-20, 48))
                status, done_at = "done", min(now, max(created, done_at))
            elif roll < 0.9:
                status, cancelled_at = "cancelled", min(now, due + timedelta(days=1))
        if outreach and status == "open" and not p.may_contact:
            # Opting out cancels open outreach tasks (crm.contacts.consent).
            status, cancelled_at = "cancelled", p.blocked_at or now
            note = f"Cancelled: {p.name} may not be contacted."
        deals = world.deal_ids.get(p.id)
        rows.append(_task(
            title=rng.choice(words.TASK_TITLES).format(name=p.first), notes=None, due_at=due,
            assignee_id=assignee, created_by_id=assignee, contact_id=p.id,
            deal_id=rng.choice(deals) if deals and rng.random() < 0.5 else None,
            status=status, is_outreach=outreach, auto=False, source_message_id=None,
            done_at=done_at, cancelled_at=cancelled_at, cancel_note=note,
            snooze_count=rng.choice([0, 0, 0, 0, 1, 2]), created_at=created))
    return rows


def _task(**values) -> dict:
    row = {"notes": None, "cancelled_at": None, "cancel_note": None, "snooze_count": 0,
           **values}
    row["version"] = 1 + row["snooze_count"] + (row["status"] != "open")
    return row


def add_tasks(conn, world: World, count: int) -> int:
    """Write the tasks; returns how many (at least `count`: follow-ups are never dropped)."""
    rows = _follow_ups(world)
    rows += _manual(world, max(0, count - len(rows)))
    world.rng.shuffle(rows)
    for i, row in enumerate(rows, start=1):
        row["id"] = i
    audits = [{"at": r["created_at"], "actor_id": r["created_by_id"], "action": "create",
               "entity_type": "task", "entity_id": r["id"], "contact_id": r["contact_id"],
               "summary": f"Task “{r['title']}” created",
               "changes": {}} for r in rows if not r["auto"]]
    load.insert(conn, "tasks", rows)
    load.insert(conn, "audit_events", audits)
    return len(rows)
