"""the ready-made pipelines and lost reasons, seeded by the migration

A fresh workspace used to get its pipelines from the first visit to the board or the
pipelines page: a GET that wrote. They are now created here, on `flask db upgrade` (which
`make run` and every deploy run), when the workspace has no pipeline at all; lost reasons
when it has none. A workspace that already has pipelines keeps exactly what it has.

The names and stages are written out below as they were when this migration was made
(crm/pipeline/defaults.py holds the same list for `flask pipelines ensure-defaults`).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 13:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

PIPELINES = [
    ("Influencer collaborations", "influencer", [
        ("Prospect", "open"), ("Pitched", "open"), ("Replied", "open"),
        ("Negotiating", "open"), ("Contracted", "open"), ("Content live", "open"),
        ("Completed", "won"), ("Declined", "lost"),
    ]),
    ("Sales", "sales", [
        ("New", "open"), ("Contacted", "open"), ("Replied", "open"), ("Qualified", "open"),
        ("Proposal", "open"), ("Won", "won"), ("Lost", "lost"),
    ]),
]
LOST_REASONS = [
    "No reply", "No budget", "Rate too high", "Chose a competitor", "Timing — not now",
    "Not a fit for the brand", "Went quiet after the offer", "Other",
]

pipelines = sa.table('pipelines', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('kind', sa.String), sa.column('position', sa.Integer),
                     sa.column('follow_up_days', sa.Integer))
stages = sa.table('stages', sa.column('pipeline_id', sa.Integer), sa.column('name', sa.String),
                  sa.column('position', sa.Integer), sa.column('outcome', sa.String))
lost_reasons = sa.table('lost_reasons', sa.column('name', sa.String),
                        sa.column('position', sa.Integer))


def upgrade():
    bind = op.get_bind()
    if not bind.execute(sa.select(sa.func.count()).select_from(pipelines)).scalar():
        for position, (name, kind, steps) in enumerate(PIPELINES):
            bind.execute(pipelines.insert().values(name=name, kind=kind, position=position,
                                                   follow_up_days=3))
            pipeline_id = bind.execute(sa.select(pipelines.c.id)
                                       .where(pipelines.c.name == name)).scalar_one()
            bind.execute(stages.insert(), [
                {"pipeline_id": pipeline_id, "name": stage, "position": i, "outcome": outcome}
                for i, (stage, outcome) in enumerate(steps)])
    if not bind.execute(sa.select(sa.func.count()).select_from(lost_reasons)).scalar():
        bind.execute(lost_reasons.insert(), [{"name": name, "position": i}
                                             for i, name in enumerate(LOST_REASONS)])


def downgrade():
    # Nothing to undo: by then the pipelines may hold deals, and a workspace that was seeded
    # here is one whose board would have seeded the same rows on its first visit.
    pass
