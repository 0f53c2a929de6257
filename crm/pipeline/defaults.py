"""The ready-made pipelines and lost reasons every workspace starts with."""
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.pipeline.models import LOST, OPEN, WON, LostReason, Pipeline, Stage

DEFAULT_PIPELINES = [
    ("Influencer collaborations", "influencer", [
        ("Prospect", OPEN), ("Pitched", OPEN), ("Replied", OPEN), ("Negotiating", OPEN),
        ("Contracted", OPEN), ("Content live", OPEN), ("Completed", WON), ("Declined", LOST),
    ]),
    ("Sales", "sales", [
        ("New", OPEN), ("Contacted", OPEN), ("Replied", OPEN), ("Qualified", OPEN),
        ("Proposal", OPEN), ("Won", WON), ("Lost", LOST),
    ]),
]

DEFAULT_LOST_REASONS = [
    "No reply", "No budget", "Rate too high", "Chose a competitor", "Timing — not now",
    "Not a fit for the brand", "Went quiet after the offer", "Other",
]


def ensure_default_pipelines() -> int:
    """Create the ready-made pipelines and lost reasons that are missing; returns how many
    pipelines were created. Safe to run any number of times (and from two places at once)."""
    created = 0
    existing = set(db.session.scalars(select(Pipeline.name)))
    for position, (name, kind, stages) in enumerate(DEFAULT_PIPELINES):
        if name in existing:
            continue
        try:
            with db.session.begin_nested():
                pipeline = Pipeline(name=name, kind=kind, position=position, follow_up_days=3)
                db.session.add(pipeline)
                db.session.flush()
                for i, (stage_name, outcome) in enumerate(stages):
                    db.session.add(Stage(pipeline_id=pipeline.id, name=stage_name, position=i,
                                         outcome=outcome))
            created += 1
        except IntegrityError:
            pass  # another process created it in the meantime
    # Reasons are seeded once: an admin's later edits and removals are not undone.
    if not db.session.scalar(select(func.count()).select_from(LostReason)):
        try:
            with db.session.begin_nested():
                for i, name in enumerate(DEFAULT_LOST_REASONS):
                    db.session.add(LostReason(name=name, position=i))
        except IntegrityError:
            pass
    db.session.flush()
    return created
