"""The ingestion service for many messages at once (an export import): the same checks,
duplicates, reply state and opt-out detection as crm.conversations.ingest, set-based.

Rows arrive as plain tuples, batch after batch, a thread's messages oldest first, with
times already in the database's own form (see crm.imports.dm_exports.stream). They are checked
(one bad message refuses the whole import, naming the thread, the message and the field),
stripped of what the conversation already holds (platform id or fingerprint; counted as
duplicates), and inserted with executemany. Reply state is stored as it comes: what the
readers worked out for new conversations (reply_state.Replayer, a batch at a time) with each
batch, and at the end (`settle`) their values and a replay from the table for the others
(locked first); and each conversation whose latest opt-out-like
inbound line was imported is flagged, as a hand-logged one would be. The dashboard's counts
(crm.contacts.dm_counts) gain the new messages and response times at the end, one grouped
INSERT … SELECT per batch of conversations.

Everything happens in the caller's transaction; nothing is committed here.
"""
from __future__ import annotations

import time

from sqlalchemy import insert, select, update

from crm.contacts import consent, dm_counts
from crm.contacts.models import Contact
from crm.conversations import ingest, optout
from crm.conversations.models import (INBOUND, MEDIA_LABELS, OUTBOUND, Conversation, Message,
                                      ResponseTime)
from crm.conversations.reply_state import rebuild_reply_state, write_replayed
from crm.core.cache import changed
from crm.core.dbvalues import datetime_to_db
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.settings import services as settings

COLUMNS = ("conversation_id", "direction", "sent_at", "body", "media", "author_id",
           "sender_name", "external_id", "fingerprint", "import_id", "created_at", "replied_at")
RESPONSE_COLUMNS = ("conversation_id", "burst_started_at", "answered_at", "response_seconds",
                    "responder_id")
FLUSH_ROWS = 10_000
# Through ix_messages_conversation_unreplied, kept during a bulk load.
_messages = Message.__table__
_UNANSWERED = update(_messages).where(_messages.c.direction == OUTBOUND,
                                      _messages.c.replied_at.is_(None),
                                      _messages.c.deleted_at.is_(None))
CHUNK = 500
MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


class MessageInserter:
    """executemany of plain tuples, with the values converted as SQLAlchemy would."""

    def __init__(self, conn, table=None, columns=COLUMNS):
        self.conn = conn
        dialect = conn.dialect
        table = Message.__table__ if table is None else table
        self.table, self.columns = table, columns
        mark = MARKS.get(dialect.paramstyle)
        self.sql = self.to_db = None
        if mark:
            self.sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
                        f"VALUES ({', '.join([mark] * len(columns))})")
            # Raw executemany skips SQLAlchemy's conversions, so apply the column's own.
            self.to_db = datetime_to_db(dialect)
        now = utcnow()
        self.now = self.to_db(now) if self.to_db else now
        self.rows: list[tuple] = []
        self.count = 0
        self.seconds = 0.0

    def extend(self, rows: list[tuple]) -> None:
        self.rows.extend(rows)
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        began = time.perf_counter()
        changed(db.session, self.table.name)   # written around the session: say so
        if self.sql:
            self.conn.exec_driver_sql(self.sql, self.rows)
        else:  # an unusual driver: let SQLAlchemy build the statement
            self.conn.execute(insert(self.table), [dict(zip(self.columns, r)) for r in self.rows])
        self.count += len(self.rows)
        self.rows = []
        self.seconds += time.perf_counter() - began


def stored_keys(conversation_ids: list[int]) -> tuple[set, set]:
    """The platform ids and fingerprints these conversations already hold."""
    externals, prints = set(), set()
    for start in range(0, len(conversation_ids), CHUNK):
        for ext, fp in db.session.execute(
                select(Message.external_id, Message.fingerprint)
                .where(Message.conversation_id.in_(conversation_ids[start:start + CHUNK]))):
            if ext:
                externals.add(ext)
            if fp:
                prints.add(fp)
    return externals, prints


def lock(conversation_ids: list[int]) -> None:
    """Hold conversations that gain messages until the commit (PostgreSQL row locks; on
    SQLite the import's write transaction holds the database), so a DM logged meanwhile
    waits instead of being counted from a state the import is about to replace."""
    ids = sorted(set(conversation_ids))
    if not ids or db.session.connection().dialect.name == "sqlite":
        return
    for start in range(0, len(ids), CHUNK):
        db.session.execute(select(Conversation.id).where(
            Conversation.id.in_(ids[start:start + CHUNK])).order_by(Conversation.id)
            .with_for_update()).all()


def scattered_indexes():
    """The messages indexes a big load would update all over the tree. Those led by
    conversation_id stay (unique ones included): rows arrive conversation by conversation,
    with growing ids, so they only grow at one end (and the reply state reads through one of
    them). So does the template index: it holds only messages sent from a template, which an
    import never is."""
    return sorted((ix for ix in Message.__table__.indexes
                   if next(iter(ix.columns)).name not in ("conversation_id", "template_id")),
                  key=lambda ix: ix.name)


class BulkIngest:
    """Many conversations' new messages, in the caller's transaction."""

    def __init__(self, conn, platform: str):
        ingest.check_platform(platform)
        self.messages = MessageInserter(conn)
        self.responses = MessageInserter(conn, ResponseTime.__table__, RESPONSE_COLUMNS)
        self.to_db = self.messages.to_db
        self.now = self.messages.now
        latest = utcnow() + ingest.FUTURE_TOLERANCE
        self.latest = self.to_db(latest) if self.to_db else latest
        self.stop = optout.StopPhrases(settings.get("stop_phrases"))
        self.replayed: list[dict] = []     # conversation values the readers worked out
        # conversation id → (fingerprint, platform id) of its latest opt-out-like inbound line
        self.opt_outs: dict[int, tuple] = {}
        self.import_id = None              # the run messages added by `add` carry

    # -- checking ---------------------------------------------------------------------------
    def check(self, rows, where: str, first: int, *, at: int, body: int, media: int,
              direction: int | None = None) -> None:
        """Refuse the import at the first malformed row (ValidationFailed naming the thread,
        the message's number in it and the field)."""
        latest = self.latest
        for n, r in enumerate(rows, start=first):
            text, kind = r[body], r[media]
            if r[at] > latest or len(text) > ingest.MAX_BODY or "\x00" in text or \
                    (kind and kind not in MEDIA_LABELS) or \
                    (direction is not None and r[direction] not in ("in", "out")):
                bad = ingest.problem(r[direction] if direction is not None else "in", r[at],
                                     text, kind, latest, by_hand=False)
                raise ValidationFailed(f"{where}, message {n}: {bad[1]}",
                                       field=bad[0])

    # -- writing ----------------------------------------------------------------------------
    def add_new(self, conv_id: int, rows: list[tuple], replayed) -> None:
        """A batch of rows of a conversation that had no messages (full `messages` rows,
        replied_at included), with what the reader worked out of its reply state for them
        (crm.imports.dm_stream.Replayed; the conversation's values come with the last)."""
        if replayed.earlier_replied is not None:
            self._earlier_replied(conv_id, *replayed.earlier_replied)
        if rows:
            self.import_id = rows[0][COLUMNS.index("import_id")]
        self.messages.extend(rows)
        for r in rows:
            if r[1] == INBOUND and self.stop.found_in(r[3]):
                self.opt_outs[conv_id] = (r[8], r[7])
        self.responses.extend(replayed.bursts)
        if replayed.values and replayed.values["message_count"]:
            self.replayed.append(replayed.values)

    def _earlier_replied(self, conv_id: int, at, since) -> None:
        """Outbound messages of the conversation's earlier batches, still unanswered at the
        end of theirs, were replied to `at` (their rows are written first)."""
        self.messages.flush()
        stmt = (_UNANSWERED.where(_messages.c.conversation_id == conv_id,
                                  _messages.c.sent_at <= at).values(replied_at=at))
        if since is not None:
            stmt = stmt.where(_messages.c.sent_at >= since)
        self.messages.conn.execute(stmt)

    def without_duplicates(self, packed: list[tuple], seen: tuple[set, set]) -> list[tuple]:
        """Packed rows (sent_at, body, media, external id, fingerprint, outbound?, sender)
        not held yet, nor earlier in this import; `seen` grows with them."""
        externals, prints = seen
        fresh = []
        for r in packed:
            ext, fp = r[3], r[4]
            if (ext and ext in externals) or (fp and fp in prints):
                continue
            if ext:
                externals.add(ext)
            if fp:
                prints.add(fp)
            fresh.append(r)
        return fresh

    def add(self, conv_id: int, packed: list[tuple], *, author_id, import_id) -> None:
        """Packed rows (see without_duplicates) added to a conversation that has messages;
        its reply state is replayed by `settle`."""
        now = self.now
        self.import_id = import_id
        self.messages.extend([(conv_id, "out" if out else "in", at, body, media,
                               author_id if out else None, sender, ext, fp, import_id, now,
                               None)
                              for at, body, media, ext, fp, out, sender in packed])
        for at, body, _media, ext, fp, out, _sender in packed:
            if not out and self.stop.found_in(body):
                self.opt_outs[conv_id] = (fp, ext)

    def flush(self) -> None:
        self.messages.flush()
        self.responses.flush()

    def settle(self, touched: list[int]) -> None:
        """Reply state of every touched conversation, the dashboard's counts, then the
        opt-out flags."""
        self.flush()
        write_replayed(self.replayed, [])
        if self.replayed:
            db.session.expire_all()
        done = {v["id"] for v in self.replayed}
        others = [c for c in touched if c not in done]
        # New conversations are counted whole, messages and response times; the messages
        # added to the others are counted before those are replayed (which takes their
        # counts away and adds them again).
        dm_counts.add_conversations(done)
        if self.import_id is not None:
            dm_counts.add_conversations(others, Message.import_id == self.import_id)
        rebuild_reply_state(others)
        self._flag_opt_outs()

    def _flag_opt_outs(self) -> None:
        if not self.opt_outs:
            return
        ids = list(self.opt_outs)
        reachable = set()
        for start in range(0, len(ids), CHUNK):
            for conv_id, contact in db.session.execute(
                    select(Conversation.id, Contact)
                    .join(Contact, Contact.id == Conversation.contact_id)
                    .where(Conversation.id.in_(ids[start:start + CHUNK]))):
                if consent.may_contact(contact).allowed:
                    reachable.add(conv_id)
        for conv_id in sorted(reachable):
            fp, ext = self.opt_outs[conv_id]
            if not fp and not ext:
                continue
            key = Message.fingerprint == fp if fp else Message.external_id == ext
            message_id = db.session.scalar(select(Message.id).where(
                Message.conversation_id == conv_id, key).order_by(Message.id.desc()).limit(1))
            if message_id is not None:
                db.session.execute(update(Conversation).where(Conversation.id == conv_id)
                                   .values(opt_out_message_id=message_id)
                                   .execution_options(synchronize_session=False))
