"""A contact's timeline: everything that happened with them, newest first, a page at a time.

Two statements: the contact's conversations, then a UNION ALL of indexed queries, each
newest first with LIMIT, merged and cut to the page.
- the audit log's events about the contact (consent, deals and stage moves, tasks created,
  edited, done, snoozed or deleted, notes, imports, edits of the contact, refusals), on
  ix_audit_contact_at;
- their DMs, from the messages themselves (imports, live channels and the API write them
  without an audit event each), one query per conversation on ix_messages_conversation_sent;
- the automatic follow-up tasks, which the follow-up job writes in bulk without one either,
  on ix_tasks_contact_auto;
- the notes, with their text, on ix_notes_contact_at.
A DM logged by hand and a note have both their row and an audit event: the event is kept off
the timeline (no contact_id), the row stands for it.

Pages are keyset on (time, source, id), so entries sharing a timestamp are neither skipped
nor repeated. The page shows what the contact page's viewer may open (crm.policy): the
timeline is only read for a contact they may see, and every record of that contact is in
their scope; a link to a deleted task is not offered.
"""
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import Integer, String, and_, func, literal, select, tuple_, union_all

from crm.accounts.models import User
from crm.audit.models import AuditEvent
from crm.contacts.models import PLATFORM_LABELS, Note
from crm.conversations.models import Conversation, Message
from crm.extensions import db
from crm.tasks.models import Task

PAGE_SIZE = 15
# Sources, in the order entries at the same instant are shown (highest first).
AUDIT, DM, FOLLOW_UP, NOTE = 0, 1, 2, 3
SNIPPET = 140
NOTE_SNIPPET = 600


@dataclass(slots=True)
class Entry:
    at: datetime
    kind: str            # what the entry is about, as its badge says it
    text: str
    who: str
    url: str | None      # the thing it is about, when it can be opened
    key: str             # its place in the timeline (an "Older" link starts after it)
    link_text: str = ""  # what the link to it says


def make_cursor(at: datetime, source: int, ident: int) -> str:
    return f"{at.isoformat()}~{source}~{ident}"


def parse_cursor(value: str | None) -> tuple[datetime, int, int] | None:
    """The (time, source, id) a cursor names; None for a missing or malformed one."""
    try:
        when, source, ident = (value or "").split("~")
        return datetime.fromisoformat(when), int(source), int(ident)
    except ValueError:
        return None


def _older(at_col, id_col, source: int, cursor) -> list:
    """Entries of `source` after `cursor` in newest-first order of (time, source, id)."""
    if cursor is None:
        return []
    at, c_source, c_id = cursor
    if source < c_source:
        return [at_col <= at]
    if source > c_source:
        return [at_col < at]
    # A row value, so that PostgreSQL and SQLite start the index scan at the cursor.
    return [tuple_(at_col, id_col) < tuple_(at, c_id)]


def _parts(contact_id: int, cursor, limit: int):
    no_int, no_str = literal(None, Integer), literal(None, String)
    audit = (select(literal(AUDIT).label("source"), AuditEvent.id, AuditEvent.at,
                    AuditEvent.actor_id.label("user_id"), AuditEvent.action,
                    AuditEvent.entity_type, AuditEvent.entity_id,
                    AuditEvent.summary.label("text"), no_int.label("conversation_id"),
                    no_str.label("platform"))
             .where(AuditEvent.contact_id == contact_id,
                    *_older(AuditEvent.at, AuditEvent.id, AUDIT, cursor))
             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
    # One part per conversation, each newest first on its own index: a merge of a few short
    # index reads, where one query over all the contact's messages would sort them all.
    dms = [select(literal(DM), Message.id, Message.sent_at, Message.author_id,
                  Message.direction, literal("message"), Message.id,
                  func.substr(Message.body, 1, SNIPPET), Message.conversation_id,
                  literal(platform, String))
           .where(Message.conversation_id == conversation_id,
                  *_older(Message.sent_at, Message.id, DM, cursor))
           .order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit)
           for conversation_id, platform in db.session.execute(
               select(Conversation.id, Conversation.platform)
               .where(Conversation.contact_id == contact_id).order_by(Conversation.id))]
    follow_ups = (select(literal(FOLLOW_UP), Task.id, Task.created_at, no_int, literal("create"),
                         literal("task"), Task.id, Task.title, no_int, no_str)
                  .where(Task.contact_id == contact_id, Task.auto.is_(True),
                         *_older(Task.created_at, Task.id, FOLLOW_UP, cursor))
                  .order_by(Task.created_at.desc(), Task.id.desc()).limit(limit))
    notes = (select(literal(NOTE), Note.id, Note.created_at, Note.author_id, literal("create"),
                    literal("note"), Note.id, func.substr(Note.body, 1, NOTE_SNIPPET), no_int,
                    no_str)
             .where(Note.contact_id == contact_id,
                    *_older(Note.created_at, Note.id, NOTE, cursor))
             .order_by(Note.created_at.desc(), Note.id.desc()).limit(limit))
    return [part.subquery() for part in (audit, *dms, follow_ups, notes)]


def timeline_page(contact, before: str | None = None, limit: int = PAGE_SIZE):
    """One page of the contact's timeline, newest first, and the cursor of the next (older)
    page, or None at the start of their history."""
    cursor = parse_cursor(before)
    merged = union_all(*[select(*part.c) for part in _parts(contact.id, cursor, limit + 1)]
                       ).subquery()
    rows = db.session.execute(
        select(merged, User.name.label("user_name"), Task.status.label("task_status"))
        .outerjoin(User, User.id == merged.c.user_id)
        .outerjoin(Task, and_(merged.c.entity_type == "task", Task.id == merged.c.entity_id))
        .order_by(merged.c.at.desc(), merged.c.source.desc(), merged.c.id.desc())
        .limit(limit + 1)).all()
    entries = [_entry(contact, row) for row in rows[:limit]]
    more = entries[-1].key if len(rows) > limit else None
    return entries, more


# What the page says of each entry --------------------------------------------------------
KINDS = {"message": "DM", "conversation": "DM", "deal": "Deal", "task": "Task", "note": "Note"}
ACTION_KINDS = {"consent": "Consent", "import": "Import", "outreach_refused": "Consent"}
LINK_TEXTS = {"DM": "Open DM", "Task": "Open task", "Deal": "Open deal",
              "Consent": "Consent history", "Import": "Imports"}


def _entry(contact, row) -> Entry:
    key = make_cursor(row.at, row.source, row.id)
    if row.source == DM:
        inbound = row.action == "in"
        label = PLATFORM_LABELS.get(row.platform, row.platform)
        text = f"{'Received' if inbound else 'Sent'} on {label}: “{row.text or '(no text)'}”"
        who = contact.name if inbound else (row.user_name or "Us")
        url = url_for("contacts.show", contact_id=contact.id,
                      conversation=row.conversation_id, _anchor=f"msg-{row.id}")
        return Entry(row.at, "DM", text, who, url, key, LINK_TEXTS["DM"])
    if row.source == FOLLOW_UP:
        return Entry(row.at, "Task", f"Follow-up task “{row.text}” created", "Rapport",
                     url_for("tasks.show", task_id=row.entity_id)
                     if row.task_status not in (None, "deleted") else None, key,
                     LINK_TEXTS["Task"])
    if row.source == NOTE:
        return Entry(row.at, "Note", row.text, row.user_name or "Rapport", None, key)
    kind = ACTION_KINDS.get(row.action) or KINDS.get(row.entity_type, "Contact")
    return Entry(row.at, kind, row.text or row.action, row.user_name or "Rapport",
                 _link(contact, row, kind), key, LINK_TEXTS.get(kind, ""))


def _link(contact, row, kind: str) -> str | None:
    if kind == "Task":
        return (url_for("tasks.show", task_id=row.entity_id)
                if row.task_status not in (None, "deleted") else None)
    if kind == "Deal":
        return url_for("pipeline.deal", deal_id=row.entity_id)
    if kind == "Import":
        return url_for("imports.index")
    anchors = {"DM": "conversations", "Consent": "consent"}
    if kind in anchors:
        return url_for("contacts.show", contact_id=contact.id, _anchor=anchors[kind])
    return None
