"""The DM rollup: message counts per UTC hour, and per local day of each viewer's zone.

Two layers, both kept exact:
- dm_hour_counts: messages per UTC hour × contact owner × platform × direction × author ×
  template (sent and replied-to). Triggers (crm.reports.rollup_triggers) mark the hours of
  every changed message dirty; `refresh()` recomputes those hours from the messages (a few
  hundred rows each) when a dashboard is read, in that request, before reading.
- dm_day_counts: per (zone, local day) — the dashboard's ranges and trend periods always
  start and end at a local midnight — the slices the dashboard reads: each owner and
  everyone's, each platform and all platforms; "in"/"out" totals, "author" and "template"
  breakdowns. A day is built from the whole UTC hours inside it plus the raw messages of
  the partial hours at its edges (zones with :30/:45 offsets). When one of its hours is
  refreshed it takes the hour's difference, or is dropped when it holds only part of the
  hour (or many hours changed at once). Days are built on first use, so a zone nobody uses
  costs nothing.
"""
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, delete, func, insert, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.contacts.models import Contact
from crm.conversations.models import INBOUND, OUTBOUND, Conversation, Message
from crm.core.timeutil import from_local, local
from crm.extensions import db
from crm.reports.models import DMDayBuilt, DMDayCount, DMDirtyHour, DMHourCount

NO_OWNER = -2      # the contact has no owner
EVERYONE = -1      # owner slice: everyone's
ALL_PLATFORMS = ""
HOUR = timedelta(hours=1)
LOCK_ID = 7_406_001   # PostgreSQL advisory lock serialising rollup maintenance
DIFFERENCE_MAX_HOURS = 48   # more changed hours than this: drop their days, build on use


def hour_key(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H")


def hour_of(sent_at) -> str:
    """The hour key of a message time as a bulk writer holds it: SQLite's stored text (its
    first 13 characters), or a datetime."""
    return sent_at[:13] if isinstance(sent_at, str) else hour_key(sent_at)


def hour_start(key: str) -> datetime:
    return datetime.strptime(key.replace("T", " "), "%Y-%m-%d %H")


def _hour_expr():
    if db.engine.dialect.name == "sqlite":
        return func.substr(Message.sent_at, 1, 13)
    return func.to_char(Message.sent_at, "YYYY-MM-DD HH24")


def _group_columns():
    return [func.coalesce(Contact.owner_id, NO_OWNER), Conversation.platform, Message.direction,
            func.coalesce(Message.author_id, 0), func.coalesce(Message.template_id, 0)]


def _counted(*leading):
    """messages × conversation × contact grouped by `leading` and the rollup's keys."""
    keys = [*leading, *_group_columns()]
    return (select(*keys, func.count(),
                   func.sum(case((Message.replied_at.is_not(None), 1), else_=0)))
            .select_from(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Contact, Contact.id == Conversation.contact_id)
            # A message the platform reported deleted is not counted (as if removed).
            .where(Message.deleted_at.is_(None))
            .group_by(*keys))


def _ranges(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive hours merged into [start, end) ranges."""
    out = []
    for h in sorted(hours):
        if out and out[-1][1] == h:
            out[-1][1] = h + HOUR
        else:
            out.append([h, h + HOUR])
    return [tuple(r) for r in out]


def _sent_between(start: datetime, end: datetime) -> list:
    """Messages sent in [start, end): a range of the (direction, sent_at, …) covering index
    for each direction (without the direction SQLite would scan the whole table)."""
    return [Message.direction.in_((INBOUND, OUTBOUND)), Message.sent_at >= start,
            Message.sent_at < end]


def _lock() -> None:
    """Serialise maintenance: PostgreSQL takes an advisory lock for the transaction; SQLite
    takes its write lock now, so what is read next cannot change before it is written."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
    else:
        db.session.execute(delete(DMDirtyHour).where(DMDirtyHour.hour == ""))


# The hour layer -----------------------------------------------------------------------------
def recompute_hours(keys: list[str]) -> None:
    """Replace the hour rows of `keys` with counts from the messages."""
    if not keys:
        return
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        db.session.execute(delete(DMHourCount).where(DMHourCount.hour.in_(chunk)))
        for start, end in _ranges([hour_start(k) for k in chunk]):
            db.session.execute(insert(DMHourCount).from_select(
                ["hour", "owner_id", "platform", "direction", "author_id", "template_id",
                 "messages", "replied"], _counted(_hour_expr()).where(*_sent_between(start, end))))


def local_days_of_hour(key: str, tz: str) -> set[date]:
    start = hour_start(key)
    return {local(start, tz).date(), local(start + HOUR - timedelta(microseconds=1), tz).date()}


def _hour_rows(keys: list[str]) -> dict:
    """{(hour, owner, platform, direction, author, template): (messages, replied)}."""
    return {tuple(r[:6]): (r[6], r[7]) for r in db.session.execute(
        select(DMHourCount.hour, DMHourCount.owner_id, DMHourCount.platform,
               DMHourCount.direction, DMHourCount.author_id, DMHourCount.template_id,
               DMHourCount.messages, DMHourCount.replied).where(DMHourCount.hour.in_(keys)))}


def refresh() -> bool:
    """Bring the hour layer up to date with the messages (the dirty hours), and the days
    built on them: a day that holds a changed hour whole gets the hour's difference added;
    a day that holds only part of it (zones at :30/:45), or any day after a change spread
    over many hours (an import), is dropped and built again on use. True when anything
    was done (the caller commits)."""
    if db.session.scalar(select(DMDirtyHour.hour).limit(1)) is None:
        return False
    _lock()
    dirty = db.session.execute(select(DMDirtyHour.hour, DMDirtyHour.changes)).all()
    if not dirty:
        return True
    keys = [h for h, _ in dirty]
    zones = db.session.scalars(select(DMDayBuilt.tz).distinct()).all()
    by_difference = bool(zones) and len(keys) <= DIFFERENCE_MAX_HOURS
    before = _hour_rows(keys) if by_difference else {}
    recompute_hours(keys)
    changes: dict = defaultdict(dict)          # hour -> {keys: [messages, replied] added}
    if by_difference:
        after = _hour_rows(keys)
        for k in before.keys() | after.keys():
            (n0, r0), (n1, r1) = before.get(k, (0, 0)), after.get(k, (0, 0))
            if (n0, r0) != (n1, r1):
                changes[k[0]][k[1:]] = [n1 - n0, r1 - r0]
    added: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))   # (tz, day) -> {keys: …}
    for tz in zones:
        stale: set = set()
        for key in keys:
            days = local_days_of_hour(key, tz)
            if not by_difference or len(days) != 1:
                stale |= days
                continue
            day = next(iter(days))
            for group, (dn, dr) in changes.get(key, {}).items():
                added[tz, day][group][0] += dn
                added[tz, day][group][1] += dr
        _drop_days(tz, sorted(stale))
        for day in stale:
            added.pop((tz, day), None)
    _add_to_days(added)
    # A change made since the rows were read bumped `changes`: that hour stays dirty.
    for i in range(0, len(dirty), 500):
        db.session.execute(delete(DMDirtyHour).where(
            tuple_(DMDirtyHour.hour, DMDirtyHour.changes).in_(dirty[i:i + 500])))
    return True


def _drop_days(tz: str, days: list) -> None:
    for i in range(0, len(days), 500):
        chunk = days[i:i + 500]
        db.session.execute(delete(DMDayCount).where(DMDayCount.tz == tz,
                                                    DMDayCount.day.in_(chunk)))
        db.session.execute(delete(DMDayBuilt).where(DMDayBuilt.tz == tz,
                                                    DMDayBuilt.day.in_(chunk)))


def add_counts(table, counters: tuple[str, ...], rows: list[dict]) -> None:
    """Upsert `rows` into a rollup table, adding their `counters` to those of a row with the
    same key already there."""
    conn = db.session.connection()
    for i in range(0, len(rows), 5000):
        upsert = (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(table)
        conn.execute(upsert.on_conflict_do_update(
            index_elements=[c.name for c in table.primary_key.columns],
            set_={c: table.c[c] + upsert.excluded[c] for c in counters}), rows[i:i + 5000])


def _add_to_days(added: dict) -> None:
    """Add differences to the built days among `added` ({(zone, day): {keys: [messages,
    replied]}}), every zone's in the same three statements; rows left at zero messages go."""
    if not added:
        return
    key = tuple_(DMDayBuilt.tz, DMDayBuilt.day)
    built = [tuple(r) for r in db.session.execute(
        select(DMDayBuilt.tz, DMDayBuilt.day).where(key.in_(list(added))))]
    rows = [dict(tz=tz, day=day, owner_id=o, platform=p, kind=k, key_id=key, messages=n,
                 replied=r)
            for tz, day in built for o, p, k, key, n, r in _slices(added[tz, day]) if n or r]
    if not rows:
        return
    add_counts(DMDayCount.__table__, ("messages", "replied"), rows)
    # Every zone's rows of every changed day: a few ranges of ix_dm_day_counts_tz_day (SQLite
    # would scan the table for a list of (zone, day) pairs). No row at zero belongs anywhere.
    db.session.execute(delete(DMDayCount).where(
        DMDayCount.tz.in_({tz for tz, _ in built}), DMDayCount.day.in_({d for _, d in built}),
        DMDayCount.messages <= 0))


# The day layer ------------------------------------------------------------------------------
def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a local day, exactly as the dashboard's filters compute them."""
    return (from_local(datetime.combine(day, time()), tz),
            from_local(datetime.combine(day + timedelta(days=1), time()), tz))


def _ceil_hour(value: datetime) -> datetime:
    floor = value.replace(minute=0, second=0, microsecond=0)
    return floor if floor == value else floor + HOUR


def _floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def _slices(full: dict) -> list[tuple]:
    """Rows (owner slice, platform slice, kind, key, messages, replied) from the counts per
    (owner, platform, direction, author, template)."""
    out: dict = defaultdict(lambda: [0, 0])
    for (owner, platform, direction, author, template), (n, replied) in full.items():
        for o in (owner, EVERYONE):
            for p in (platform, ALL_PLATFORMS):
                keys = [(direction, 0)]
                if direction == "out":
                    keys.append(("author", author))
                    if template:
                        keys.append(("template", template))
                for kind, key in keys:
                    row = out[(o, p, kind, key)]
                    row[0] += n
                    row[1] += replied
    return [(*k, n, r) for k, (n, r) in out.items()]


def build_days(tz: str, days: list[date]) -> None:
    """Compute and store the day rows of `days` in zone `tz` (the hour layer is current)."""
    if not days:
        return
    hours: dict = {}                 # day -> [first whole hour, end of the last)
    partial: list = []               # (day, start, end) of sub-hour edges
    for day in days:
        start, end = day_bounds(day, tz)
        first, last = _ceil_hour(start), _floor_hour(end)
        if first >= last:            # a day shorter than its hours (never in practice)
            partial.append((day, start, end))
            continue
        hours[day] = (first, last)
        if start < first:
            partial.append((day, start, first))
        if last < end:
            partial.append((day, last, end))
    counts: dict = {day: defaultdict(lambda: [0, 0]) for day in days}
    keys = [DMHourCount.owner_id, DMHourCount.platform, DMHourCount.direction,
            DMHourCount.author_id, DMHourCount.template_id]
    for day, (lo, hi) in hours.items():
        for row in db.session.execute(
                select(*keys, func.sum(DMHourCount.messages), func.sum(DMHourCount.replied))
                .where(DMHourCount.hour >= hour_key(lo), DMHourCount.hour < hour_key(hi))
                .group_by(*keys)):
            entry = counts[day][tuple(row[:5])]
            entry[0] += int(row[5])
            entry[1] += int(row[6])
    for day, a, b in partial:
        for row in db.session.execute(_counted().where(*_sent_between(a, b))):
            entry = counts[day][tuple(row[:5])]
            entry[0] += row[5]
            entry[1] += int(row[6] or 0)
    rows = [dict(tz=tz, day=day, owner_id=o, platform=p, kind=k, key_id=key, messages=n,
                 replied=r) for day in days for o, p, k, key, n, r in _slices(counts[day])]
    for i in range(0, len(rows), 5000):
        db.session.connection().execute(insert(DMDayCount.__table__), rows[i:i + 5000])
    db.session.execute(insert(DMDayBuilt), [dict(tz=tz, day=day) for day in days])


def ensure_days(tz: str, first: date, last: date) -> bool:
    """Build the missing days of [first, last] for `tz`. True when anything was built."""
    wanted = [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def missing():
        built = set(db.session.scalars(select(DMDayBuilt.day).where(
            DMDayBuilt.tz == tz, DMDayBuilt.day >= first, DMDayBuilt.day <= last)))
        return [d for d in wanted if d not in built]

    if not missing():
        return False
    _lock()
    build_days(tz, missing())
    return True


def prepare(tz: str, first: date, last: date) -> None:
    """What the dashboard calls before reading dm_day_counts: refresh dirty hours, build
    missing days, and commit the work so the next request reuses it. When there is nothing
    to do (the usual case) this is one small query."""
    dirty, built = db.session.execute(select(
        select(DMDirtyHour.hour).limit(1).scalar_subquery(),
        select(func.count()).select_from(DMDayBuilt)
        .where(DMDayBuilt.tz == tz, DMDayBuilt.day >= first, DMDayBuilt.day <= last)
        .scalar_subquery())).one()
    if dirty is None and built == (last - first).days + 1:
        return
    if refresh() | ensure_days(tz, first, last):
        db.session.commit()


# Rebuilding ---------------------------------------------------------------------------------
def rebuild() -> int:
    """Recompute the hour layer from every message and forget every built day (they are
    built again on first use). Returns the number of hours with messages."""
    _lock()
    # Dirty marks first: a change committed from here on leaves a new one.
    db.session.execute(delete(DMDirtyHour))
    db.session.execute(delete(DMDayCount))
    db.session.execute(delete(DMDayBuilt))
    db.session.execute(delete(DMHourCount))
    db.session.execute(insert(DMHourCount).from_select(
        ["hour", "owner_id", "platform", "direction", "author_id", "template_id", "messages",
         "replied"], _counted(_hour_expr())))
    return db.session.scalar(select(func.count(DMHourCount.hour.distinct())))


def recomputed_hours() -> dict:
    """{(hour, owner, platform, direction, author, template): (messages, replied)} straight
    from the messages — what the hour layer must equal."""
    return {tuple(r[:6]): (r[6], int(r[7] or 0))
            for r in db.session.execute(_counted(_hour_expr()))}


def stored_hours() -> dict:
    return {tuple(r[:6]): (r[6], r[7]) for r in db.session.execute(
        select(DMHourCount.hour, DMHourCount.owner_id, DMHourCount.platform,
               DMHourCount.direction, DMHourCount.author_id, DMHourCount.template_id,
               DMHourCount.messages, DMHourCount.replied))}
