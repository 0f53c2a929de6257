"""The manager dashboard, assembled: every figure for one viewer and one set of filters.

A fixed number of grouped queries (about twenty) whatever the size of the workspace, none
of which writes. DM counts are summed from the hours the services keep
(crm.contacts.dm_counts); the rest may be remembered until what they read changes
(crm.core.cache). Either way a user's own change shows on their next load.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from crm.accounts.models import User
from crm.campaigns.models import Campaign
from crm.contacts.models import PLATFORM_LABELS
from crm.core.timeutil import utcnow
from crm.dm_templates.models import DMTemplate
from crm.extensions import db
from crm.reports.consent_figures import ConsentFigures, consent_figures
from crm.reports.dm_figures import DMFigures, SentReplies, dm_figures
from crm.pipeline.board import pipelines
from crm.reports.pipeline_figures import Amounts, PipelineFigures, pipeline_figures
from crm.reports.scope import Scope
from crm.reports.sqlhelp import ratio
from crm.reports.work_figures import WorkFigures, work_figures
from crm.settings import services as settings


@dataclass
class LeaderRow:
    user: User
    sent: int = 0
    replied: int = 0
    median_response: float | None = None
    won: Amounts = field(default_factory=Amounts)
    won_main: int = 0

    @property
    def reply_rate(self) -> float | None:
        return ratio(self.replied, self.sent)

    def key(self, sort: str):
        return {"name": self.user.name.lower(), "sent": self.sent, "replies": self.replied,
                "reply_rate": self.reply_rate, "response": self.median_response,
                "won": self.won_main}[sort]


@dataclass
class Dashboard:
    filters: object
    scope: Scope
    periods: list
    pipeline: PipelineFigures
    dms: DMFigures
    work: WorkFigures
    consent: ConsentFigures
    users: dict                     # id -> User (everyone, for names)
    templates: dict                 # id -> DMTemplate
    leaderboard: list = field(default_factory=list)
    generated_at: datetime = field(default_factory=utcnow)

    def user_name(self, user_id) -> str:
        user = self.users.get(user_id)
        return user.name if user else "Unassigned" if user_id is None else "Former user"

    @property
    def owner(self):
        return self.users.get(self.scope.owner_id)

    @staticmethod
    def _by_sent(rows):
        return sorted(rows, key=lambda r: (-r[2].sent, r[0].lower()))

    @property
    def rep_rows(self) -> list:
        """(name, user id, SentReplies) per author, most DMs sent first."""
        return self._by_sent((self.user_name(k) if k is not None else "Not recorded", k, v)
                             for k, v in self.dms.by_author.items())

    @property
    def platform_rows(self) -> list:
        return self._by_sent((PLATFORM_LABELS.get(k, k), k, v)
                             for k, v in self.dms.by_platform.items())

    @property
    def template_rows(self) -> list:
        return self._by_sent((self.templates[k].name if k in self.templates else "Deleted template",
                              k, v) for k, v in self.dms.by_template.items())

    @property
    def work_rows(self) -> list:
        """(name, assignee id or None, overdue, completed), by name."""
        w = self.work
        people = set(w.overdue_by_assignee) | set(w.done_by_assignee)
        return sorted(((self.user_name(u), u, w.overdue_by_assignee.get(u, 0),
                        w.done_by_assignee.get(u, 0)) for u in people),
                      key=lambda r: r[0].lower())


def sort_rows(rows: list, sort: str, desc: bool) -> list:
    """Sort by one column; rows without a value go last in either direction."""
    rows = sorted(rows, key=lambda r: r.user.name.lower())
    known = [r for r in rows if r.key(sort) is not None]
    unknown = [r for r in rows if r.key(sort) is None]
    known.sort(key=lambda r: r.key(sort), reverse=desc)   # stable: ties stay in name order
    return known + unknown


def leaderboard(scope, users: dict, pipeline: PipelineFigures, dms: DMFigures,
                sort: str, desc: bool) -> list[LeaderRow]:
    ids = set(dms.by_author) | set(dms.median_by_responder) | set(pipeline.won_by_owner)
    if scope.owner_id is not None:
        ids.add(scope.owner_id)
    else:
        ids |= {u.id for u in users.values() if u.active and u.role in ("rep", "manager")}
    rows = []
    for user_id in ids & users.keys():
        figures = dms.by_author.get(user_id, SentReplies())
        won = pipeline.won_by_owner.get(user_id, Amounts())
        rows.append(LeaderRow(users[user_id], figures.sent, figures.replied,
                              dms.median_by_responder.get(user_id), won,
                              won.get(pipeline.currency, 0)))
    return sort_rows(rows, sort, desc)


def build_dashboard(viewer, filters, now: datetime | None = None) -> Dashboard:
    """Every figure the dashboard shows for `viewer` under `filters`."""
    now = now or utcnow()
    scope = Scope.for_view(viewer, filters)
    periods = filters.periods()
    users = {u.id: u for u in db.session.scalars(select(User))}
    pipeline = pipeline_figures(scope)
    dms = dm_figures(scope, periods, settings.get("response_target_hours") or 24, now)
    templates = {}
    if dms.by_template:
        templates = {t.id: t for t in db.session.scalars(
            select(DMTemplate).where(DMTemplate.id.in_(list(dms.by_template))))}
    dash = Dashboard(filters=filters, scope=scope, periods=periods, pipeline=pipeline, dms=dms,
                     work=work_figures(scope, now), consent=consent_figures(scope, periods),
                     users=users, templates=templates, generated_at=now)
    dash.leaderboard = leaderboard(scope, users, pipeline, dms, filters.sort, filters.desc)
    return dash


def filter_options(viewer) -> dict:
    """What the filter form offers (owners only to managers)."""
    campaigns = db.session.execute(select(Campaign.id, Campaign.name)
                                   .where(Campaign.archived_at.is_(None))
                                   .order_by(Campaign.name).limit(300)).all()
    return {"pipelines": pipelines(), "campaigns": campaigns}
