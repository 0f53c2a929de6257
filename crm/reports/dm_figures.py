"""DM figures, from the kept state: messages (direction, sent_at, author, template and
replied_at — when the contact next wrote), first-response times per inbound burst, and the
conversations' reply state. Every figure is a grouped SQL aggregate."""
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from crm.conversations.models import INBOUND, NEEDS_REPLY, OUTBOUND, Conversation, Message
from crm.contacts.dm_counts import day_key, hour_key
from crm.core.cache import remember
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.reports.response_rollup import TEAM, response_figures, whole_days
from crm.reports.models import DMHourCount, DMHourTotal, SentDayTotal
from crm.reports.sqlhelp import ratio


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


def _floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def sent_figures(scope, periods) -> tuple[list, dict, dict, dict]:
    """The trend (sent, replied-to and received per period), and sent / replied-to per
    author, per platform and per template, summed from the DM counts per UTC hour
    (crm.contacts.dm_counts): everyone's from their totals per hour, and per UTC day for the
    range's whole days. A period starting inside an hour (zones at :30 or :45 from UTC)
    splits it: such hours are read from the messages themselves."""
    points = [TrendPoint(p.label, p.start, p.end) for p in periods]
    by_author, by_platform, by_template = {}, {}, {}
    if scope.start >= scope.end:
        return points, by_author, by_platform, by_template
    edges = {scope.start, scope.end, *(p.start for p in periods), *(p.end for p in periods)}
    split = sorted({_floor_hour(e) for e in edges if _floor_hour(e) != e})
    starts = [hour_key(p.start) for p in periods]   # whole hours, unless split
    everyone = scope.owner_id is None
    # Everyone's sent DMs of these whole UTC days are read per day (split hours included).
    first, last = whole_days(scope.start, scope.end) if everyone else (scope.end, scope.end)

    def add(point, direction, n, replied):
        if direction == INBOUND:
            point.received += int(n)
        else:
            point.sent += int(n)
            point.replied += int(replied)

    def add_out(platform, author, template, n, replied):
        if not n:   # rows left at zero by a change read as nothing
            return
        by_platform.setdefault(platform, SentReplies()).add(n, replied)
        by_author.setdefault(author or None, SentReplies()).add(n, replied)
        if template:
            by_template.setdefault(template, SentReplies()).add(n, replied)

    def where(table, spans) -> list:
        """The whole hours of the spans [a, b) in `table`, in the scope's owner and platform
        (each span one range of the hours)."""
        return [or_(*[and_(table.hour >= hour_key(_floor_hour(a)), table.hour < hour_key(b))
                      for a, b in spans]),
                *([table.hour.not_in([hour_key(h) for h in split])] if split else []),
                *([table.owner_id == scope.owner_id] if not everyone else []),
                *([table.platform == scope.platform] if scope.platform else [])]

    def summed(table, *keys, where):
        return db.session.execute(select(*keys, func.sum(table.messages), func.sum(table.replied))
                                  .where(*where).group_by(*keys))

    trend = DMHourTotal if everyone else DMHourCount
    for hour, direction, n, replied in summed(trend, trend.hour, trend.direction,
                                              where=where(trend, [(scope.start, scope.end)])):
        i = bisect_right(starts, hour) - 1
        if i >= 0:
            add(points[i], direction, n, replied)
    hours = DMHourCount
    edge_spans = [(a, b) for a, b in [(scope.start, first), (last, scope.end)] if a < b]
    if edge_spans:   # the range's hours outside its whole days (everyone's), or all of them
        for row in summed(hours, hours.platform, hours.author_id, hours.template_id,
                          where=[*where(hours, edge_spans), hours.direction == OUTBOUND]):
            add_out(*row)
    if first < last:
        days = SentDayTotal
        for row in summed(days, days.platform, days.author_id, days.template_id,
                          where=[days.day >= day_key(first), days.day < day_key(last),
                                 *([days.platform == scope.platform] if scope.platform else [])]):
            add_out(*row)
    if split:
        in_split = or_(*[and_(Message.sent_at >= max(h, scope.start),
                              Message.sent_at < min(h + timedelta(hours=1), scope.end))
                         for h in split])
        period_starts = [p.start for p in periods]
        for at, direction, platform, author, template, replied_at in db.session.execute(
                select(Message.sent_at, Message.direction, Conversation.platform,
                       Message.author_id, Message.template_id, Message.replied_at)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.direction.in_((INBOUND, OUTBOUND)), in_split,
                       Message.deleted_at.is_(None),
                       *([Conversation.contact_owner_id == scope.owner_id]
                         if not everyone else []),
                       *([Conversation.platform == scope.platform] if scope.platform else []))):
            i = bisect_right(period_starts, at) - 1
            if i >= 0 and at < periods[i].end:
                add(points[i], direction, 1, replied_at is not None)
            if direction == OUTBOUND and not first <= at < last:
                add_out(platform, author, template, 1, replied_at is not None)
    return points, by_author, by_platform, by_template


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
    """Conversations needing a reply now, those past the target, and the oldest wait."""
    total, late, oldest = db.session.execute(
        select(func.count(),
               func.sum(case((Conversation.waiting_since
                              < now - timedelta(seconds=target_seconds), 1), else_=0)),
               func.min(Conversation.waiting_since))
        .where(*scope.waiting_where())).one()
    return int(total or 0), int(late or 0), oldest


def dm_figures(scope, periods, target_hours: int, now: datetime | None = None) -> DMFigures:
    """Every DM figure for the scope, in a constant number of grouped queries. Figures that
    depend only on the data are remembered per version of the tables they read; those that
    move with the clock are keyed on the minute as well."""
    now = (now or utcnow()).replace(second=0, microsecond=0)
    target = int(target_hours) * 3600
    key = scope.cache_key
    fig = DMFigures(target_hours=int(target_hours))
    fig.trend, fig.by_author, fig.by_platform, fig.by_template = remember(
        "sent", key + tuple((p.start, p.end) for p in periods),
        lambda: sent_figures(scope, periods),
        scope.reads("dm_hour_counts", "dm_hour_totals", "sent_day_totals", "messages",
                    "conversations"))
    bursts, fig.answered, fig.within_target, pct = remember(
        "responses", key + (target,), lambda: response_figures(scope, target),
        scope.reads("response_times", "conversations"))
    still_waiting, fig.late_waiting = remember(
        "waiting_in_range", key + (target, now), lambda: waiting_in_range(scope, target, now),
        scope.reads("conversations"))
    fig.closed_unanswered = max(0, bursts - fig.answered - still_waiting)
    fig.median, fig.p90 = pct.get(TEAM, (None, None))
    fig.median_by_responder = {k: v[0] for k, v in pct.items() if k != TEAM}
    fig.needs_reply, fig.needs_reply_over_target, fig.oldest_wait_since = remember(
        "waiting_now", key + (target, now), lambda: waiting_now(scope, target, now),
        ("conversations", "contacts"))
    return fig
