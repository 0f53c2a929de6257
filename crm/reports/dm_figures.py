"""DM figures, from the kept state: messages (direction, sent_at, author, template and
replied_at — when the contact next wrote), first-response times per inbound burst, and the
conversations' reply state. Every figure is a grouped SQL aggregate."""
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select

from crm.contacts.models import Contact
from crm.conversations.models import (INBOUND, NEEDS_REPLY, OUTBOUND, Conversation, Message,
                                      ResponseTime)
from crm.core.timeutil import local, utcnow
from crm.extensions import db
from crm.reports import response_rollup, rollup
from crm.core.cache import remember
from crm.reports.models import DMDayCount
from crm.reports.percentiles import EVERYONE, LEVELS, interpolate, response_percentiles
from crm.reports.sqlhelp import is_sqlite, ratio


@dataclass
class SentReplies:
    sent: int = 0
    replied: int = 0

    def add(self, sent: int, replied: int) -> None:
        self.sent += int(sent or 0)
        self.replied += int(replied or 0)

    @property
    def rate(self) -> float | None:
        return ratio(self.replied, self.sent)


@dataclass
class TrendPoint:
    label: str
    start: datetime
    end: datetime
    sent: int = 0
    received: int = 0
    replied: int = 0


@dataclass
class DMFigures:
    trend: list = field(default_factory=list)            # TrendPoint per period
    by_author: dict = field(default_factory=dict)        # user id -> SentReplies
    by_platform: dict = field(default_factory=dict)      # platform -> SentReplies
    by_template: dict = field(default_factory=dict)      # template id -> SentReplies
    answered: int = 0                                    # bursts started in range, answered
    within_target: int = 0
    late_waiting: int = 0                                # unanswered, past target, waiting
    closed_unanswered: int = 0                           # closed with no reply: not counted
    target_hours: int = 24
    median: float | None = None
    p90: float | None = None
    median_by_responder: dict = field(default_factory=dict)
    needs_reply: int = 0
    needs_reply_over_target: int = 0
    oldest_wait_since: datetime | None = None

    @property
    def sent(self) -> int:
        return sum(p.sent for p in self.trend)

    @property
    def received(self) -> int:
        return sum(p.received for p in self.trend)

    @property
    def replied(self) -> int:
        return sum(p.replied for p in self.trend)

    @property
    def reply_rate(self) -> float | None:
        return ratio(self.replied, self.sent)

    @property
    def decided(self) -> int:
        """Bursts whose outcome against the target is known."""
        return self.answered + self.late_waiting

    @property
    def within_target_share(self) -> float | None:
        return ratio(self.within_target, self.decided)


def local_days(scope) -> tuple:
    """The first and last local day of the scope's range (its bounds are local midnights)."""
    first = local(scope.start, scope.tz).date()
    return first, local(scope.end, scope.tz).date() - timedelta(days=1)


def period_of_day(periods, tz: str) -> dict:
    """{local day: index of the trend period it falls in}."""
    out = {}
    for i, p in enumerate(periods):
        day, last = local(p.start, tz).date(), local(p.end, tz).date()
        while day < last:
            out[day] = i
            day += timedelta(days=1)
    return out


def sent_figures(scope, periods) -> tuple[list, dict, dict, dict]:
    """The trend (sent, replied-to and received per period), and sent / replied-to per
    author, per platform and per template — read from the DM rollup's days, which are
    brought up to date with the messages first (crm.reports.rollup)."""
    points = [TrendPoint(p.label, p.start, p.end) for p in periods]
    by_author, by_platform, by_template = {}, {}, {}
    first, last = local_days(scope)
    if first > last:
        return points, by_author, by_platform, by_template
    rollup.prepare(scope.tz, first, last)
    owner = rollup.EVERYONE if scope.owner_id is None else scope.owner_id
    platform = scope.platform or rollup.ALL_PLATFORMS
    wanted = DMDayCount.platform == platform
    if not scope.platform:   # the per-platform breakdown reads each platform's "out" rows
        wanted = or_(wanted, DMDayCount.kind == OUTBOUND)
    period = period_of_day(periods, scope.tz)
    for day, row_platform, kind, key, sent, replied in db.session.execute(
            select(DMDayCount.day, DMDayCount.platform, DMDayCount.kind, DMDayCount.key_id,
                   DMDayCount.messages, DMDayCount.replied)
            .where(DMDayCount.tz == scope.tz, DMDayCount.owner_id == owner,
                   DMDayCount.day >= first, DMDayCount.day <= last, wanted)):
        if row_platform != platform:
            by_platform.setdefault(row_platform, SentReplies()).add(sent, replied)
            continue
        if kind == INBOUND:
            if day in period:
                points[period[day]].received += sent
        elif kind == OUTBOUND:
            if scope.platform:
                by_platform.setdefault(row_platform, SentReplies()).add(sent, replied)
            if day in period:
                points[period[day]].sent += sent
                points[period[day]].replied += replied
        elif kind == "author":
            by_author.setdefault(key or None, SentReplies()).add(sent, replied)
        elif kind == "template":
            by_template.setdefault(key, SentReplies()).add(sent, replied)
    return points, by_author, by_platform, by_template


def burst_where(scope) -> list:
    return [ResponseTime.burst_started_at >= scope.start, ResponseTime.burst_started_at < scope.end,
            *scope.in_conversations(ResponseTime.conversation_id)]


def response_counts(scope, target_seconds: int) -> tuple[int, int, int]:
    """(bursts started in the range, answered, answered within target)."""
    row = db.session.execute(
        select(func.count(), func.count(ResponseTime.answered_at),
               func.sum(case((ResponseTime.response_seconds <= target_seconds, 1), else_=0)))
        .where(*burst_where(scope))).one()
    return tuple(int(v or 0) for v in row)


def response_figures(scope, target_seconds: int) -> tuple[int, int, int, dict]:
    """(bursts started in the range, answered, answered within target, {EVERYONE or
    responder: (median, p90)}). PostgreSQL counts and runs percentile_cont. SQLite has no
    percentile function, and its window functions sort the range's responses twice; one
    read of the covering burst index, sorted here, gives every figure exactly (the same
    interpolation as percentile_cont)."""
    if scope.owner_id is not None or getattr(scope.viewer, "is_manager", False):
        # One owner's or everyone's: the per-day counts, the values near the ranks only.
        return response_rollup.figures(scope, scope.conversation_ids(), target_seconds, LEVELS,
                                       interpolate, EVERYONE)
    if not is_sqlite():
        answered = [*burst_where(scope), ResponseTime.response_seconds.is_not(None)]
        return (*response_counts(scope, target_seconds), response_percentiles(
            answered, ResponseTime.response_seconds, ResponseTime.responder_id))
    # The rows straight from the driver: SQLAlchemy's row objects cost more than the query
    # at ~140,000 rows, and SQLite's GROUP BY would sort them anyway.
    result = db.session.connection().execute(
        select(ResponseTime.responder_id, ResponseTime.response_seconds,
               ResponseTime.answered_at.is_not(None)).where(*burst_where(scope)))
    rows = result.cursor.fetchall()
    result.close()
    answered = sum(a for _, _, a in rows)
    within = sum(1 for _, v, _ in rows if v is not None and v <= target_seconds)
    groups: dict = {}
    for responder, v, _ in rows:
        if v is not None:
            groups.setdefault(responder, []).append(v)
    values = {group: sorted(vs) for group, vs in groups.items()}
    if values:
        values[EVERYONE] = sorted(v for vs in groups.values() for v in vs)
    totals = {group: len(vs) for group, vs in values.items()}
    at = {}
    for group, ordered in values.items():
        n = len(ordered)
        at[group] = {r: ordered[r - 1] for p in LEVELS
                     for r in (math.floor(p * (n - 1)) + 1, math.floor(p * (n - 1)) + 2) if r <= n}
    bursts = len(rows)
    pct = {group: tuple(interpolate(p, totals[group], at[group]) for p in LEVELS)
           for group in values}
    return bursts, answered, within, pct


def waiting_in_range(scope, target_seconds: int, now: datetime) -> tuple[int, int]:
    """Bursts of the range still waiting now (the conversation's current wait started in the
    range), and how many of them are past the target. Read from the conversations alone."""
    row = db.session.execute(
        select(func.count(),
               func.sum(case((Conversation.waiting_since
                              < now - timedelta(seconds=target_seconds), 1), else_=0)))
        .where(Conversation.state == NEEDS_REPLY, Conversation.waiting_since >= scope.start,
               Conversation.waiting_since < scope.end, *scope.conversation_where())).one()
    return int(row[0] or 0), int(row[1] or 0)


def waiting_now(scope, target_seconds: int, now: datetime) -> tuple[int, int, datetime | None]:
    """Conversations needing a reply now (the inbox's rule: not on archived contacts), those
    past the target, and the oldest wait."""
    over = case((Conversation.waiting_since < now - timedelta(seconds=target_seconds), 1),
                else_=0)
    waiting = [Conversation.state == NEEDS_REPLY,
               *[w for w in scope.waiting_where() if w is not True]]
    if len(waiting) == 1:
        # Everyone's: count on the (state, waiting_since) index alone, then take away the
        # few conversations of archived contacts, instead of joining every row.
        total, late = db.session.execute(select(func.count(), func.sum(over))
                                         .where(*waiting)).one()
        # The archived contacts are few: listed from their partial index, each waiting
        # conversation is checked against the list without visiting its contact.
        archived, archived_late = db.session.execute(
            select(func.count(), func.sum(over)).where(
                *waiting, Conversation.contact_id.in_(
                    select(Contact.id).where(Contact.archived_at.is_not(None))))).one()
        total, late = (total or 0) - (archived or 0), (late or 0) - (archived_late or 0)
    else:
        total, late = db.session.execute(
            select(func.count(), func.sum(over))
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Contact.archived_at.is_(None), *waiting)).one()
    oldest = db.session.scalar(
        select(Conversation.waiting_since).join(Contact, Contact.id == Conversation.contact_id)
        .where(Contact.archived_at.is_(None), *waiting)
        .order_by(Conversation.waiting_since, Conversation.id).limit(1)) if total else None
    return int(total or 0), int(late or 0), oldest


def dm_figures(scope, periods, target_hours: int, now: datetime | None = None) -> DMFigures:
    """Every DM figure for the scope, in a constant number of grouped queries. Figures that
    depend only on the data are remembered per version of the tables they read; those that
    move with the clock are keyed on the minute as well."""
    now = (now or utcnow()).replace(second=0, microsecond=0)
    target = int(target_hours) * 3600
    key = scope.cache_key
    fig = DMFigures(target_hours=int(target_hours))
    fig.trend, fig.by_author, fig.by_platform, fig.by_template = sent_figures(scope, periods)
    bursts, fig.answered, fig.within_target, pct = remember(
        "responses", key + (target,), lambda: response_figures(scope, target),
        scope.reads("response_times", "conversations"))
    still_waiting, fig.late_waiting = remember(
        "waiting_in_range", key + (target, now), lambda: waiting_in_range(scope, target, now),
        scope.reads("conversations"))
    fig.closed_unanswered = max(0, bursts - fig.answered - still_waiting)
    fig.median, fig.p90 = pct.get(EVERYONE, (None, None))
    fig.median_by_responder = {k: v[0] for k, v in pct.items() if k != EVERYONE}
    fig.needs_reply, fig.needs_reply_over_target, fig.oldest_wait_since = remember(
        "waiting_now", key + (target, now), lambda: waiting_now(scope, target, now),
        ("conversations", "contacts"))
    return fig
