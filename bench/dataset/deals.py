"""Campaigns, deals across both ready-made pipelines (half of them open), and each deal's
stage history — as create_deal and move_deal would have left them."""
from datetime import timedelta

from sqlalchemy import select

from bench.dataset import load, words
from bench.dataset.world import World
from crm.extensions import db
from crm.pipeline.models import LOST, OPEN, WON, LostReason, Pipeline

# More deals sit in the early stages than in the late ones.
OPEN_STAGE_WEIGHTS = [30, 24, 18, 13, 9, 6, 4, 3]
CURRENCIES = (["USD", "EUR", "GBP"], [85, 10, 5])


def read_pipelines():
    """[(pipeline id, kind, follow-up days, [open stage ids], won stage id, lost stage id)] and
    [(lost reason id, name)], after the app has created its ready-made pipelines."""
    from crm.pipeline.defaults import ensure_default_pipelines

    ensure_default_pipelines()
    db.session.commit()
    out = []
    for p in db.session.scalars(select(Pipeline).where(Pipeline.archived_at.is_(None))
                                .order_by(Pipeline.position, Pipeline.id)):
        active = [s for s in p.stages if s.retired_at is None]
        opened = [s.id for s in active if s.outcome == OPEN]
        won = next(s.id for s in active if s.outcome == WON)
        lost = next(s.id for s in active if s.outcome == LOST)
        out.append((p.id, p.kind, p.follow_up_days, opened, won, lost))
    reasons = [(r.id, r.name) for r in db.session.scalars(
        select(LostReason).where(LostReason.retired_at.is_(None)).order_by(LostReason.position))]
    return out, reasons


def add_campaigns(conn, world: World) -> list[int]:
    rng, rows = world.rng, []
    for i, name in enumerate(words.CAMPAIGNS, start=1):
        start = (world.now - timedelta(days=rng.randint(0, 400))).date()
        rows.append({"id": i, "name": name, "brand": rng.choice(words.COMPANY_HEADS),
                     "starts_on": start, "ends_on": start + timedelta(days=rng.choice([30, 60, 90])),
                     "budget_minor": rng.choice([5, 10, 25, 50]) * 1000 * 100, "currency": "USD",
                     "description": None, "owner_id": rng.choice(world.managers),
                     "archived_at": None, "created_at": world.now - timedelta(days=420),
                     "updated_at": world.now - timedelta(days=420)})
    load.insert(conn, "campaigns", rows)
    return [r["id"] for r in rows]


def _path(rng, opened, target_index):
    """Stage ids a deal went through from the first open stage to `target_index`."""
    path, i = [opened[0]], 0
    while i < target_index:
        i = min(target_index, i + (2 if rng.random() < 0.15 else 1))
        path.append(opened[i])
    return path


def add_deals(conn, world: World, count: int, open_count: int, pipelines, reasons,
              campaigns) -> None:
    rng, now = world.rng, world.now
    by_kind = {kind: (pid, kind, days, opened, won, lost)
               for pid, kind, days, opened, won, lost in reversed(pipelines)}
    candidates = [p for p in world.people if p.archived_at is None]
    flags = [True] * open_count + [False] * (count - open_count)
    rng.shuffle(flags)
    deals, changes, audits = [], [], []
    for deal_id, is_open in enumerate(flags, start=1):
        p = rng.choice(candidates)
        pid, kind, days, opened, won, lost = by_kind.get(
            "influencer" if p.kind == "influencer" else "sales", pipelines[0])
        span_days = 200 if is_open else 700
        created = max(p.created_at, now - timedelta(days=span_days * rng.random() ** 1.3))
        if is_open:
            weights = OPEN_STAGE_WEIGHTS[:len(opened)]
            path = _path(rng, opened, rng.choices(range(len(opened)), weights)[0])
            end = now - timedelta(minutes=rng.uniform(1, 60))
        else:
            reach = rng.choices(range(len(opened)), OPEN_STAGE_WEIGHTS[:len(opened)])[0]
            outcome_stage = won if rng.random() < 0.25 + 0.1 * reach else lost
            path = _path(rng, opened, reach) + [outcome_stage]
            end = min(now, created + timedelta(days=rng.expovariate(1 / 35), hours=1))
        times = sorted([created] + [created + (end - created) * rng.random()
                                    for _ in range(len(path) - 1)])
        stage = path[-1]
        outcome = OPEN if is_open else (WON if stage == won else LOST)
        owner = p.owner_id or rng.choice(world.reps)
        title = rng.choice(words.INFLUENCER_DEALS if kind == "influencer" else words.SALES_DEALS)
        row = _deal_row(rng, deal_id, p, pid, stage, owner, title, kind, outcome, times, now,
                        campaigns, reasons)
        deals.append(row)
        previous = None
        for k, (at, to_stage) in enumerate(zip(times, path)):
            changes.append({"deal_id": deal_id, "from_stage_id": previous, "to_stage_id": to_stage,
                            "actor_id": owner, "at": at,
                            "seconds_in_from_stage": None if previous is None
                            else int((at - times[k - 1]).total_seconds())})
            audits.append({"at": at, "actor_id": owner, "action": "create" if k == 0 else "move",
                           "entity_type": "deal", "entity_id": deal_id, "contact_id": p.id,
                           "summary": f"Deal “{row['title']}” " + (
                               f"opened for {p.name}" if k == 0 else "moved"),
                           "changes": {}})
            previous = to_stage
        world.deal_ids.setdefault(p.id, []).append(deal_id)
        if is_open:
            world.open_deals.setdefault(p.id, []).append((deal_id, days))
    load.insert(conn, "deals", deals)
    load.insert(conn, "stage_changes", changes)
    load.insert(conn, "audit_events", audits)


def _deal_row(rng, deal_id, p, pipeline_id, stage, owner, title, kind, outcome, times, now,
              campaigns, reasons) -> dict:
    influencer = kind == "influencer"
    value = (rng.choice([300, 500, 800, 1200, 2500, 5000, 8000]) * 100 if influencer
             else rng.choice([1, 2, 5, 8, 12, 20, 40, 60]) * 100_000)
    reason = rng.choice(reasons) if outcome == LOST else None
    won_results = influencer and outcome == WON and rng.random() < 0.8
    posted = (times[-1] - timedelta(days=rng.randint(1, 10))).date() if won_results else None
    next_step = rng.choice(words.NEXT_STEPS) if outcome == OPEN else None
    return {
        "id": deal_id, "contact_id": p.id, "pipeline_id": pipeline_id, "stage_id": stage,
        "campaign_id": rng.choice(campaigns) if influencer and p.may_contact and rng.random() < .5
        else None, "owner_id": owner, "contact_owner_id": p.owner_id,
        "title": f"{title} — {p.name}", "value_minor": value,
        "currency": rng.choices(*CURRENCIES)[0],
        "platform": p.handles[0][0] if p.handles else None,
        "expected_close_on": (now + timedelta(days=rng.randint(0, 60))).date()
        if outcome == OPEN else None,
        "next_step": next_step,
        "next_step_on": (now + timedelta(days=rng.randint(-3, 14))).date() if next_step else None,
        "outcome": outcome, "stage_entered_at": times[-1],
        "closed_at": times[-1] if outcome != OPEN else None,
        "lost_reason_id": reason[0] if reason else None,
        "lost_note": "Went with an in-house team." if reason and reason[1] == "Other" else None,
        "post_type": rng.choice(["Instagram Reel", "TikTok video", "Instagram Story"])
        if won_results else None,
        "posted_url": f"https://www.instagram.com/p/bench{deal_id}/" if won_results else None,
        "posted_on": posted,
        "reach": rng.randint(5_000, 900_000) if won_results else None,
        "clicks": rng.randint(50, 20_000) if won_results else None,
        "conversions": rng.randint(0, 600) if won_results else None,
        "revenue_minor": rng.randint(0, 40_000) * 100 if won_results else None,
        "archived_at": None, "version": len(times),
        "created_at": times[0], "updated_at": times[-1]}
