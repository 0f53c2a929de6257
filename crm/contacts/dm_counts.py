"""The DM counts the dashboard reads, kept by the services that write what they count.

Four tables (crm.reports.models):

- dm_hour_counts: messages per UTC hour × contact owner × platform × direction × author ×
  template, and how many of them were replied to. A message the platform reported deleted
  is not counted.
- dm_hour_totals and sent_day_totals: everyone's sums of the same, per hour × platform ×
  direction and (DMs sent) per UTC day × platform × author × template, so that everyone's
  dashboard reads a few rows an hour. Every difference to dm_hour_counts adds its sums to
  them (`everyones`); a change of owner adds nothing.
- response_day_counts: first responses (crm.conversations.reply_state) per owner slice (one
  owner, or EVERYONE) × platform slice (one platform, or ALL_PLATFORMS) × UTC day of the
  burst's start × responder × bucket of response time (`bucket_of`), and how many of them
  were answered.

Every change to what they count adds its difference, in the same transaction:

- a DM written (crm.conversations.ingest.ingest): its hour +1; the reply state it moves
  (reply_state.apply) adds the earlier messages it marks replied to and the response times
  it opens or answers (`Change`, gathered in `Counts`: a batch of live events writes its
  conversations' together);
- a message corrected, deleted or reported deleted (ingest.correct, delete, mark_deleted):
  taken away as it was, added again as it is;
- a conversation replayed (reply_state.rebuild_reply_state): what it counted for is taken
  away before the replay and what it counts for is added after (`add_conversations`, grouped
  by the database, so a huge conversation holds no memory here);
- a contact given another owner (crm.contacts.services.set_owner, the contacts CSV import)
  or a conversation moved to another contact (crm.channels.people): `owners_changed`,
  `conversations_moved`;
- an export import (crm.conversations.ingest_bulk): one grouped INSERT … SELECT per batch
  of conversations.

Differences are added with INSERT … ON CONFLICT DO UPDATE on both databases, rows in the
order of their keys, so that two writers adding to the same rows take them in the same
order and never wait on each other in a circle. A row that falls to zero stays (it reads as
nothing). The module lives with the contacts because every feature that changes what is
counted (conversations, contacts, channels, imports) may use it.
"""
from collections import defaultdict
from datetime import datetime

from sqlalchemy import case, func, literal_column, select, true, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.contacts.models import Contact
from crm.conversations.models import OUTBOUND, Conversation, Message, ResponseTime
from crm.extensions import db
from crm.reports.models import DMHourCount, DMHourTotal, ResponseDayCount, SentDayTotal

NO_OWNER = -2        # the contact has no owner
EVERYONE = -1        # response_day_counts' owner slice: everyone's
ALL_PLATFORMS = ""   # response_day_counts' platform slice: every platform
CHUNK = 500
HOURS = DMHourCount.__table__
TOTALS = DMHourTotal.__table__
SENT = SentDayTotal.__table__
DAYS = ResponseDayCount.__table__


# The buckets of response time ------------------------------------------------------------
# Buckets are (low, high] seconds: minutes up to 30 minutes, quarter hours up to a day, hours
# up to a week, then the rest (TAIL); a response at 0 seconds or less is bucket 0 and a burst
# not answered UNANSWERED. A target of whole hours (up to a week) never splits one. Python
# (`bucket_of`, `bounds`) and SQL (`bucket_sql`) are both written from SEGMENTS.
WEEK = 7 * 86400
UNANSWERED = -2
# (up to these seconds, the bucket before the segment's first, where it starts, bucket width)
SEGMENTS = ((1800, 0, 0, 60), (86400, 30, 1800, 900), (WEEK, 124, 86400, 3600))
TAIL = 124 + (WEEK - 86400) // 3600 + 1   # responses after more than a week


def bucket_of(s: int | None) -> int:
    if s is None:
        return UNANSWERED
    if s <= 0:
        return 0
    for upto, before, start, width in SEGMENTS:
        if s <= upto:
            return before + (s - start + width - 1) // width
    return TAIL


def bucket_sql(s: str) -> str:
    """`bucket_of` as an SQL expression of the integer column or value `s`."""
    steps = " ".join(f"WHEN {s} <= {upto} THEN {before} + ({s} - {start} + {width - 1}) / {width}"
                     for upto, before, start, width in SEGMENTS)
    return (f"CASE WHEN {s} IS NULL THEN {UNANSWERED} WHEN {s} <= 0 THEN 0 {steps} "
            f"ELSE {TAIL} END")


def bounds(bucket: int) -> tuple[int | None, int | None]:
    """[low, high] seconds of a bucket (None: unbounded)."""
    if bucket == 0:
        return None, 0
    for upto, before, start, width in SEGMENTS:
        if bucket <= before + (upto - start) // width:
            return start + (bucket - before - 1) * width + 1, start + (bucket - before) * width
    return WEEK + 1, None


# Keys ------------------------------------------------------------------------------------
def hour_key(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H")


def day_key(at: datetime) -> str:
    return at.strftime("%Y-%m-%d")


def day_of_hour(hour):
    """The day key of an hour key (a string, or an SQL expression: both databases take
    substr)."""
    return hour[:10] if isinstance(hour, str) else func.substr(hour, 1, 10)


def owner_key(owner_id: int | None) -> int:
    return NO_OWNER if owner_id is None else owner_id


def _sqlite() -> bool:
    return db.session.connection().dialect.name == "sqlite"


def hour_sql(column):
    """The hour key of a datetime column, in SQL."""
    if _sqlite():
        return func.substr(column, 1, 13)
    return func.to_char(column, "YYYY-MM-DD HH24")


def day_sql(column):
    if _sqlite():
        return func.substr(column, 1, 10)
    return func.to_char(column, "YYYY-MM-DD")


# Writing differences -----------------------------------------------------------------------
def _adding(stmt, table):
    """`stmt` (an INSERT INTO `table`, in its dialect) adding to the counters of the rows
    already there: ON CONFLICT (the table's key) DO UPDATE."""
    return stmt.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={c: table.c[c] + stmt.excluded[c] for c in COUNTERS[table]})


COUNTERS = {HOURS: ("messages", "replied"), TOTALS: ("messages", "replied"),
            SENT: ("messages", "replied"), DAYS: ("bursts", "answered")}
_INSERTS = {"sqlite": sqlite_insert, "postgresql": pg_insert}
# What `_write` runs, per dialect and table: every DM logged or received writes three or
# four of these, so they are built once (the rows are its parameters).
_ADDING = {name: {table: _adding(make(table), table) for table in COUNTERS}
           for name, make in _INSERTS.items()}


def _add_selected(table, columns: list, rows) -> None:
    """INSERT INTO `table` (columns) SELECT rows, adding to the counters of rows already
    there."""
    make = _INSERTS[db.session.connection().dialect.name]
    db.session.execute(_adding(make(table).from_select(columns, rows), table))


def _write(table, added: dict) -> None:
    """Add {primary key: [first counter, second counter]} to `table`, in key order."""
    keys = [c.name for c in table.primary_key.columns]
    rows = [dict(zip((*keys, *COUNTERS[table]), (*key, a, b)))
            for key, (a, b) in sorted(added.items()) if a or b]
    if rows:
        dialect = db.session.connection().dialect.name
        db.session.execute(_ADDING[dialect][table], rows)


def _add_response(days: dict, owner: int, platform: str, day: str, responder: int, bucket: int,
                  bursts: int, answered: int) -> None:
    """Count response times under their owner and platform, and under everyone's and every
    platform's slices."""
    for o in (owner, EVERYONE):
        for p in (platform, ALL_PLATFORMS):
            row = days[(o, p, day, responder, bucket)]
            row[0] += bursts
            row[1] += answered


def everyones(hours: dict) -> tuple[dict, dict]:
    """What differences to dm_hour_counts add to everyone's totals: (per hour, platform and
    direction; DMs sent per day, platform, author and template)."""
    totals: dict = defaultdict(lambda: [0, 0])
    sent: dict = defaultdict(lambda: [0, 0])
    for (hour, _owner, platform, direction, author, template), (n, replied) in hours.items():
        rows = [totals[(hour, platform, direction)]]
        if direction == OUTBOUND:
            rows.append(sent[(day_of_hour(hour), platform, author, template)])
        for row in rows:
            row[0] += n
            row[1] += replied
    return totals, sent


def _write_all(hours: dict, days: dict) -> None:
    totals, sent = everyones(hours)
    _write(HOURS, hours)
    _write(TOTALS, totals)
    _write(SENT, sent)
    _write(DAYS, days)


class Counts:
    """Differences to both tables, gathered while a transaction changes what they count and
    written together (`write`): each table's rows in key order."""

    def __init__(self):
        self.hours: dict = defaultdict(lambda: [0, 0])
        self.days: dict = defaultdict(lambda: [0, 0])

    def write(self) -> None:
        _write_all(self.hours, self.days)
        self.hours.clear()
        self.days.clear()


class Change:
    """What a change to one conversation's messages or response times adds to `counts`.
    `owner_id` is its contact's owner as read with the conversation's lock
    (crm.conversations.ingest.lock: FOR SHARE on PostgreSQL, so a reassignment of that
    contact at the same moment waits for this transaction, then moves what it counted)."""

    def __init__(self, counts: Counts, owner_id: int | None, platform: str):
        self.owner = owner_key(owner_id)
        self.platform = platform
        self.hours, self.days = counts.hours, counts.days

    def _hour(self, direction, sent_at, author_id, template_id) -> list:
        return self.hours[(hour_key(sent_at), self.owner, self.platform, direction,
                           author_id or 0, template_id or 0)]

    def message(self, direction, sent_at, author_id, template_id, replied_at, sign=1) -> None:
        """A message counted (sign 1) or no longer counted (-1), as these values say."""
        row = self._hour(direction, sent_at, author_id, template_id)
        row[0] += sign
        row[1] += sign if replied_at is not None else 0

    def replied(self, sent_at, author_id, template_id, sign=1) -> None:
        """An outbound message now replied to (sign 1), or no longer (-1)."""
        self._hour(OUTBOUND, sent_at, author_id, template_id)[1] += sign

    def response(self, started_at, answered_at, seconds, responder_id, sign=1) -> None:
        """A response time written (sign 1) or gone (-1), as these values say."""
        _add_response(self.days, self.owner, self.platform, day_key(started_at),
                      responder_id or 0, bucket_of(seconds), sign,
                      sign if answered_at is not None else 0)


def counted(message: Message) -> tuple:
    """The values of a message `Change.message` counts it by."""
    return (message.direction, message.sent_at, message.author_id, message.template_id,
            message.replied_at)


# Set-based: many messages at once ----------------------------------------------------------
def _owner():
    return func.coalesce(Contact.owner_id, NO_OWNER)


def messages_grouped(*where, by=None):
    """The not-deleted messages matching `where` (on messages, conversations, contacts),
    counted per hour key: (hour, owner, platform, direction, author, template, messages,
    replied), led by `by` when given."""
    keys = [*([by] if by is not None else []), hour_sql(Message.sent_at), _owner(),
            Conversation.platform, Message.direction, func.coalesce(Message.author_id, 0),
            func.coalesce(Message.template_id, 0)]
    return (select(*keys, func.count(), func.count(Message.replied_at))
            .select_from(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Message.deleted_at.is_(None), *where)
            .group_by(*keys))


def responses_grouped(*where, by=None):
    """The response times matching `where`, counted per (owner, platform, day, responder,
    bucket): bursts and answered, led by `by` when given."""
    keys = [*([by] if by is not None else []), _owner(), Conversation.platform,
            day_sql(ResponseTime.burst_started_at), func.coalesce(ResponseTime.responder_id, 0),
            literal_column(bucket_sql("response_times.response_seconds")).label("bucket")]
    return (select(*keys, func.count(), func.count(ResponseTime.answered_at))
            .select_from(ResponseTime)
            .join(Conversation, Conversation.id == ResponseTime.conversation_id)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(*where)
            .group_by(*keys))


def add_messages(*where, sign: int = 1) -> None:
    """Add the counts of the messages matching `where` (take them away with sign=-1) to the
    hours and to everyone's totals: one INSERT … SELECT … ON CONFLICT per table, grouped, in
    key order."""
    g = messages_grouped(*where).subquery()
    hour, owner, platform, direction, author, template, n, replied = g.c
    for table, keys, only in (
            (HOURS, (hour, owner, platform, direction, author, template), true()),
            (TOTALS, (hour, platform, direction), true()),
            (SENT, (day_of_hour(hour), platform, author, template), direction == OUTBOUND)):
        rows = (select(*keys, func.sum(n) * sign, func.sum(replied) * sign)
                .where(only).group_by(*keys).order_by(*keys))
        _add_selected(table, [c.name for c in table.c], rows)


def add_responses(*where, sign: int = 1) -> None:
    """Add the counts of the response times matching `where`, under their owner and platform
    and the everyone's / every platform slices: one INSERT … SELECT … ON CONFLICT, grouped,
    in key order."""
    g = responses_grouped(*where).subquery()
    owner, platform, day, responder, bucket, bursts, answered = list(g.c)
    # Each group counted four times: as it is, for everyone, for every platform, for both.
    # (Constants written into the SQL: PostgreSQL types them, as it would not parameters.)
    slices = union_all(*[select(literal_column(str(o)).label("everyone"),
                                literal_column(str(p)).label("every_platform"))
                         for o in (0, 1) for p in (0, 1)]).subquery()
    keys = [case((slices.c.everyone == 1, literal_column(str(EVERYONE))), else_=owner),
            case((slices.c.every_platform == 1, literal_column(f"'{ALL_PLATFORMS}'")),
                 else_=platform),
            day, responder, bucket]
    rows = (select(*keys, func.sum(bursts) * sign, func.sum(answered) * sign)
            .select_from(g).join(slices, true()).where(true())
            .group_by(*keys).order_by(*keys))
    _add_selected(DAYS, ["owner_id", "platform", "day", "responder_id", "bucket", "bursts",
                         "answered"], rows)


def add_conversations(conversation_ids, *where, sign: int = 1) -> None:
    """Add the counts of these conversations' messages (those matching `where`, or all of them
    and their response times), a batch of conversations per statement: how a bulk load
    counts what it wrote, and how a replay takes away what its conversations counted for
    before and adds what they count for after (sign=-1, then 1; the database groups them,
    so a conversation of a million messages costs no memory here)."""
    ids = sorted(conversation_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        add_messages(Message.conversation_id.in_(chunk), *where, sign=sign)
        if not where:
            add_responses(ResponseTime.conversation_id.in_(chunk), sign=sign)


# Moving counts to another owner --------------------------------------------------------------
def _move(by, where, owners: dict) -> None:
    """The counts of the conversations matching `where`, grouped by `by` (a conversations
    column), move from the old owner to the new: `owners` maps each value of `by` to (old
    owner id, new owner id)."""
    hours: dict = defaultdict(lambda: [0, 0])
    days: dict = defaultdict(lambda: [0, 0])
    for value, hour, _, platform, direction, author, template, n, replied in \
            db.session.execute(messages_grouped(where, by=by)):
        old, new = (owner_key(o) for o in owners[value])
        for owner, sign in ((old, -1), (new, 1)):
            row = hours[(hour, owner, platform, direction, author, template)]
            row[0] += sign * n
            row[1] += sign * replied
    for value, _, platform, day, responder, bucket, n, answered in \
            db.session.execute(responses_grouped(where, by=by)):
        old, new = (owner_key(o) for o in owners[value])
        for owner, sign in ((old, -1), (new, 1)):
            # Everyone's slices gain what they lose: only the owner's rows change.
            for p in (platform, ALL_PLATFORMS):
                row = days[(owner, p, day, responder, bucket)]
                row[0] += sign * n
                row[1] += sign * answered
    _write_all(hours, days)


def owners_changed(changes: dict) -> None:
    """Contacts given another owner, {contact id: (old owner id, new owner id)}, after the
    new owner is flushed: the contact's row is held then, so a DM being logged on it has
    either committed (and is read here) or waits, and reads the new owner."""
    moved = {c: pair for c, pair in changes.items() if pair[0] != pair[1]}
    ids = sorted(moved)
    db.session.flush()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        _move(Conversation.contact_id, Conversation.contact_id.in_(chunk), moved)


def conversations_moved(conversation_ids, old_owner, new_owner) -> None:
    """Conversations moved to a contact with another owner (after the move is flushed)."""
    ids = sorted(conversation_ids)
    if old_owner == new_owner or not ids:
        return
    db.session.flush()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        _move(Conversation.id, Conversation.id.in_(chunk),
              {c: (old_owner, new_owner) for c in chunk})


# Counting from scratch ---------------------------------------------------------------------
def recount() -> None:
    """Every table counted again from every message and response time (after a restore, or
    a load that went around the services)."""
    for table in (HOURS, TOTALS, SENT, DAYS):
        db.session.execute(table.delete())
    add_messages()
    add_responses()


def stored_hours() -> dict:
    """{(hour, owner, platform, direction, author, template): (messages, replied)} kept."""
    return {tuple(r[:6]): (r[6], r[7]) for r in db.session.execute(
        select(*HOURS.c).where(HOURS.c.messages != 0))}


def recounted_hours() -> dict:
    """The same, straight from the messages: what the kept rows must equal."""
    return {tuple(r[:6]): (r[6], r[7]) for r in db.session.execute(messages_grouped())}


def stored_totals() -> tuple[dict, dict]:
    """Everyone's totals kept: ({(hour, platform, direction): (messages, replied)},
    {(day, platform, author, template): (messages, replied)})."""
    return tuple({tuple(r[:-2]): (r[-2], r[-1]) for r in db.session.execute(
        select(*table.c).where(table.c.messages != 0))} for table in (TOTALS, SENT))


def recounted_totals() -> tuple[dict, dict]:
    """The same, summed from the messages: what the kept rows must equal."""
    return tuple({k: tuple(v) for k, v in part.items() if v[0]}
                 for part in everyones(recounted_hours()))


def stored_responses() -> dict:
    """{(day, owner slice, platform slice, responder, bucket): (bursts, answered)} kept."""
    return {(r.day, r.owner_id, r.platform, r.responder_id, r.bucket): (r.bursts, r.answered)
            for r in db.session.execute(select(*DAYS.c).where(DAYS.c.bursts != 0))}


def recounted_responses() -> dict:
    """The same, straight from the response times."""
    days: dict = defaultdict(lambda: [0, 0])
    for owner, platform, day, responder, bucket, n, answered in \
            db.session.execute(responses_grouped()):
        _add_response(days, owner, platform, day, responder, bucket, n, answered)
    return {(d, o, p, r, b): tuple(v) for (o, p, d, r, b), v in days.items() if v[0]}
