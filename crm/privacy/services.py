"""Erasing a person: their personal data leaves every table and file Rapport keeps, and
(for a request) their identifiers go on the suppression list so nothing brings them back.

What stays is what the counts need, without anything that identifies anyone: the contact
row, emptied and named "Erased person"; their conversations' messages as anonymous records
(direction, time, who on the team answered), so the dashboard's DM counts and response times
do not move; their deals' stages, values and outcomes with "[erased]" where their name was.
The audit log keeps that the erasure happened, by whom and why; earlier entries about them
lose their details.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from flask import current_app
from sqlalchemy import LargeBinary, Text, bindparam, cast, delete, func, or_, select, text, update

from crm import policy
from crm.audit import services as audit
from crm.audit.models import AuditEvent
from crm.bulk.models import BulkChange
from crm.channels import people
from crm.channels.models import ChannelEvent, OutboundSend
from crm.contacts.models import ConsentEvent, Contact, Note
from crm.conversations import ingest, reply_state
from crm.conversations.models import CLOSED, INBOUND, Conversation, Message
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.core.transaction import after_commit
from crm.extensions import db
from crm.imports import storage
from crm.imports.models import ImportRun
from crm.jobs.models import Job
from crm.pipeline.models import Deal
from crm.privacy.models import (REQUEST, Erasure, Suppression, contact_identifiers, digests,
                                list_changed, suppressed)
from crm.tasks.models import Task
from crm.webhooks.models import WebhookDelivery

ERASED_NAME = "Erased person"
MASK = "[erased]"
ERASED_EVENT = b'{"entry": [], "erased": true}'
EXPORT_TASK = "privacy.export"
MIN_TERM = 3
# Shared records (the audit log, import previews, bulk changes) are searched for longer
# terms only: a short name alone ("Ana") would mask other people's words there.
MIN_SHARED_TERM = 5
CHUNK = 500


def export_subject(contact_id: int) -> str:
    return f"privacy-export:{int(contact_id)}"


# -- what identifies them ----------------------------------------------------------------------
class Identity:
    """Every string that identifies the person, read before anything is erased.

    `terms`: masked in their own records (deals, tasks, audit entries about them), first
    name included. `distinctive`: searched for across shared records (import previews,
    the audit log, bulk changes), where a first name alone would mask other people."""

    def __init__(self, contact: Contact, conversations: list[Conversation]):
        self.contact = contact
        self.conversations = conversations
        self.conversation_ids = [c.id for c in conversations]
        handles = list(contact.handles)
        self.person_ids = {h.account_id for h in handles if h.account_id}
        for c in conversations:
            thread = people.thread_of(c.external_thread_id)
            if thread is not None:
                self.person_ids.add(thread[1])
        distinctive = {contact.name, contact.email, contact.phone, *self.person_ids}
        for h in handles:
            distinctive |= {h.handle, h.profile_url, h.display}
        one_to_one = [c for c in conversations if not c.is_group]
        distinctive |= {c.title for c in one_to_one}
        distinctive |= {c.external_thread_id for c in conversations}
        ids = [c.id for c in one_to_one]
        for start in range(0, len(ids), CHUNK):
            distinctive |= set(db.session.scalars(
                select(Message.sender_name).distinct()
                .where(Message.conversation_id.in_(ids[start:start + CHUNK]),
                       Message.direction == INBOUND, Message.sender_name.is_not(None))))
        self.terms = _words(distinctive | {contact.first_name})
        self.distinctive = [t for t in _words(distinctive) if len(t) >= MIN_SHARED_TERM]

    def mask(self, value, *, distinctive_only: bool = False):
        """`value` (text, or JSON-like lists and dicts) with every term replaced by [erased]."""
        return mask(value, self.distinctive if distinctive_only else self.terms)


def _words(values) -> list[str]:
    """Longest first, so a full name is masked before the first name inside it."""
    out = {v.strip() for v in values if v and len(v.strip()) >= MIN_TERM}
    return sorted(out - {ERASED_NAME, MASK}, key=lambda v: (-len(v), v))


def mask(value, terms: list[str]):
    if isinstance(value, str):
        for term in terms:
            value = re.sub(re.escape(term), MASK, value, flags=re.I)
        return value
    if isinstance(value, list):
        return [mask(v, terms) for v in value]
    if isinstance(value, dict):
        return {mask(k, terms): mask(v, terms) for k, v in value.items()}
    return value


def _mentions(column, terms: list[str]):
    """A WHERE clause: the column's text (JSON as stored, non-ASCII escaped) names a term."""
    forms = set()
    for term in terms:
        forms.add(term.lower())
        forms.add(json.dumps(term.lower())[1:-1])
    text_of = func.lower(cast(column, Text))
    return or_(*[text_of.contains(f, autoescape=True) for f in sorted(forms)])


# -- the preview of an erasure -----------------------------------------------------------------
def what_goes(contact: Contact) -> dict:
    """Counts of what erasing the contact removes (read only, for the confirmation page)."""
    conv_ids = select(Conversation.id).where(Conversation.contact_id == contact.id)

    def count(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return {
        "handles": len(contact.handles),
        "conversations": count(Conversation, Conversation.contact_id == contact.id),
        "messages": count(Message, Message.conversation_id.in_(conv_ids)),
        "deals": count(Deal, Deal.contact_id == contact.id),
        "tasks": count(Task, Task.contact_id == contact.id),
        "notes": count(Note, Note.contact_id == contact.id),
        "consent history entries": count(ConsentEvent, ConsentEvent.contact_id == contact.id),
        "audit entries": count(AuditEvent, AuditEvent.contact_id == contact.id),
    }


# -- erasing -----------------------------------------------------------------------------------
def check_request(contact: Contact, typed_name: str, reason: str) -> str:
    """The typed confirmation and the reason of an erasure request; returns the reason."""
    if contact.erased_at is not None:
        raise ValidationFailed("This person's data has already been erased.")
    if (typed_name or "").strip().casefold() != contact.name.strip().casefold():
        raise ValidationFailed(f"Type the contact's name exactly as shown ({contact.name}) to "
                               "confirm.", field="confirm_name")
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValidationFailed("Say why (for example “erasure request by email of 3 March”).",
                               field="reason")
    return reason


def request_erasure(actor, contact: Contact, *, typed_name: str, reason: str) -> Erasure:
    """An admin erases a person at their request: everything goes, and they stay out."""
    policy.require_admin(actor)
    reason = check_request(contact, typed_name, reason)
    return erase(actor, contact, reason, source=REQUEST)


def erase(actor, contact: Contact, reason: str, *, source: str = REQUEST) -> Erasure:
    """Erase the contact's personal data everywhere (see the module docstring). With a
    request (source REQUEST) their identifiers are suppressed; the retention limit
    (RETENTION) erases without suppressing. The caller commits."""
    if contact.erased_at is not None:
        raise ValidationFailed("This person's data has already been erased.")
    now = utcnow()
    conversations = list(db.session.scalars(
        select(Conversation).where(Conversation.contact_id == contact.id)
        .order_by(Conversation.id)))
    who = Identity(contact, conversations)
    erasure = Erasure(contact_id=contact.id, actor_id=getattr(actor, "id", None),
                      source=source, reason=who.mask(reason)[:2000], erased_at=now)
    db.session.add(erasure)
    db.session.flush()
    removed = {}
    if source == REQUEST:
        removed["suppressed identifiers"] = _suppress(erasure, contact, conversations, who)
    removed["messages"] = erase_conversations(conversations, now=now)
    removed["live channel events"] = _forget_channel_events(who)
    removed["handles"] = len(contact.handles)
    contact.handles.clear()
    removed["notes"] = db.session.execute(
        delete(Note).where(Note.contact_id == contact.id)).rowcount or 0
    removed["deals"] = _mask_deals(contact, who)
    removed["tasks"] = _mask_tasks(contact, who)
    removed["consent history entries"] = _reduce_consent_history(contact, who)
    removed["audit entries"] = _mask_audit(contact, who)
    removed["imports"] = _forget_in_imports(who)
    removed["bulk changes"] = _mask_bulk_changes(who)
    removed["webhook deliveries"] = _forget_webhook_deliveries(contact, who)
    removed["data exports"] = _forget_exports(contact.id)
    _empty(contact, now)
    erasure.removed = {k: v for k, v in removed.items() if v}
    audit.record(actor, "erase", None, entity_type="contact", entity_id=contact.id,
                 summary=("Personal data erased at the person's request" if source == REQUEST
                          else "Personal data erased: past the retention limit"),
                 changes={"reason": erasure.reason, "erasure": erasure.id})
    db.session.flush()
    return erasure


def _suppress(erasure: Erasure, contact: Contact, conversations, who: Identity) -> int:
    pairs = contact_identifiers(contact.email, contact.phone,
                                [(h.platform, h.handle) for h in contact.handles])
    for h in contact.handles:
        pairs += [("account", h.account_id, h.platform), ("url", h.profile_url, h.platform)]
    for c in conversations:
        pairs.append(("thread", c.external_thread_id, c.platform))
        thread = people.thread_of(c.external_thread_id)
        if thread is not None:
            pairs += [("account", thread[1], c.platform), ("handle", thread[1], c.platform)]
    hashes = digests(pairs)
    fresh = sorted(hashes - suppressed(hashes))
    db.session.add_all([Suppression(digest=d, erasure_id=erasure.id) for d in fresh])
    list_changed()
    return len(hashes)


def erase_conversations(conversations: list[Conversation], *, keep_message_ids=(),
                        now=None) -> int:
    """Erase what these conversations hold about the person: message text and files
    (through the ingestion service), what was sent through a channel, the thread's title,
    platform thread id and preview. Returns how many messages were erased."""
    now = now or utcnow()
    ids = [c.id for c in conversations]
    if not ids:
        return 0
    for start in range(0, len(ids), CHUNK):
        db.session.execute(
            update(OutboundSend).where(OutboundSend.conversation_id.in_(ids[start:start + CHUNK]))
            .values(body="", recipient_id="erased", template_params=None, error=None,
                    external_id=None)
            .execution_options(synchronize_session=False))
    db.session.flush()
    erased = ingest.erase_messages(ids, keep_ids=keep_message_ids)
    for conv in db.session.scalars(select(Conversation).where(Conversation.id.in_(ids))):
        if conv.state != CLOSED:   # nobody waits on an erased person, nor they on us
            reply_state.close(conv, max(now, conv.last_message_at or now))
        conv.snoozed_until = conv.opt_out_message_id = None
        conv.title = None
        conv.external_thread_id = f"erased:{conv.id}"
        conv.last_message_preview = None
        conv.erased_at = now
    return erased


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _forget_channel_events(who: Identity) -> int:
    """Received live events that name the person's platform ids keep nothing of them."""
    needles = sorted(who.person_ids)
    if not needles:
        return 0
    dialect = db.session.connection().dialect.name
    found = set()
    for needle in needles:
        if len(needle) < 5:
            continue
        where = ("instr(body, :needle) > 0" if dialect == "sqlite"
                 else "position(:needle in body) > 0")
        stmt = text(f"SELECT id FROM channel_events WHERE {where}").bindparams(
            bindparam("needle", needle.encode(), type_=LargeBinary))
        found.update(db.session.scalars(stmt))
    if found:
        db.session.execute(update(ChannelEvent).where(ChannelEvent.id.in_(sorted(found)))
                           .values(body=ERASED_EVENT, error=None)
                           .execution_options(synchronize_session=False))
    return len(found)


def _mask_deals(contact: Contact, who: Identity) -> int:
    deals = list(db.session.scalars(select(Deal).where(Deal.contact_id == contact.id)))
    for deal in deals:
        deal.title = who.mask(deal.title)[:200] or MASK
        deal.next_step = None
        deal.lost_note = None
        deal.posted_url = None
    return len(deals)


def _mask_tasks(contact: Contact, who: Identity) -> int:
    tasks = list(db.session.scalars(select(Task).where(Task.contact_id == contact.id)))
    for task in tasks:
        task.title = who.mask(task.title)[:200] or MASK
        task.notes = None
        task.cancel_note = who.mask(task.cancel_note)
    return len(tasks)


def _reduce_consent_history(contact: Contact, who: Identity) -> int:
    """The history's rows stay (the dashboard counts opt-outs from them) without their
    notes; the person's page reads "erased on …" in its place. ConsentEvent refuses ORM
    changes (append-only); an erasure is the one change it takes, as a statement."""
    events = db.session.execute(select(ConsentEvent.id, ConsentEvent.source).where(
        ConsentEvent.contact_id == contact.id)).all()
    for event_id, source in events:
        db.session.execute(update(ConsentEvent.__table__)
                           .where(ConsentEvent.__table__.c.id == event_id)
                           .values(note=None, source=who.mask(source)[:200]))
    return len(events)


def _mask_audit(contact: Contact, who: Identity) -> int:
    """Entries about them lose their details; others that name them are masked."""
    about = or_(AuditEvent.contact_id == contact.id,
                (AuditEvent.entity_type == "contact") & (AuditEvent.entity_id == contact.id))
    done = set()
    for event in db.session.scalars(select(AuditEvent).where(about)):
        event.summary = who.mask(event.summary)[:255]
        event.changes = {}
        done.add(event.id)
    if who.distinctive:
        for event in db.session.scalars(select(AuditEvent).where(
                or_(_mentions(AuditEvent.summary, who.distinctive),
                    _mentions(AuditEvent.changes, who.distinctive)))):
            if event.id in done:
                continue
            done.add(event.id)
            event.summary = who.mask(event.summary, distinctive_only=True)[:255]
            event.changes = who.mask(event.changes, distinctive_only=True)
    return len(done)


def _forget_in_imports(who: Identity) -> int:
    """Import runs whose preview, problems or stored file names the person: masked, and
    an upload still waiting (or kept after a failure) is deleted; a preview waiting for its
    review is cancelled, to be uploaded again (they are then left out)."""
    if not who.distinctive:
        return 0
    runs = set(db.session.scalars(select(ImportRun).where(or_(
        _mentions(ImportRun.options, who.distinctive),
        _mentions(ImportRun.problems, who.distinctive),
        _mentions(ImportRun.filename, who.distinctive)))))
    for run in db.session.scalars(select(ImportRun).where(ImportRun.stored_path.is_not(None),
                                                          ImportRun.kind == "csv")):
        if _file_mentions(run.stored_path, who.distinctive):
            runs.add(run)
    for run in runs:
        run.options = who.mask(run.options, distinctive_only=True)
        run.problems = who.mask(run.problems, distinctive_only=True)
        run.filename = who.mask(run.filename, distinctive_only=True)[:255]
        if run.stored_path:
            after_commit(_remove_upload, run.id)
            run.stored_path = None
        if run.status in ("previewed", "analysing"):
            run.status, run.finished_at = "cancelled", utcnow()
            run.problems = [*run.problems, "Cancelled: the upload named a person whose data "
                            "was erased at their request. Upload it again: they are left out."]
    return len(runs)


def _remove_upload(run_id: int) -> None:
    shutil.rmtree(storage.run_folder(run_id), ignore_errors=True)


def _file_mentions(path: str, terms: list[str]) -> bool:
    try:
        content = Path(path).read_bytes().decode("utf-8", "ignore").lower()
    except OSError:
        return False
    return any(t.lower() in content for t in terms)


def _mask_bulk_changes(who: Identity) -> int:
    if not who.distinctive:
        return 0
    changes = list(db.session.scalars(select(BulkChange).where(or_(
        _mentions(BulkChange.details, who.distinctive),
        _mentions(BulkChange.summary, who.distinctive)))))
    for change in changes:
        change.details = who.mask(change.details, distinctive_only=True)
        change.summary = who.mask(change.summary, distinctive_only=True)[:500]
        change.undo_summary = who.mask(change.undo_summary, distinctive_only=True)
    return len(changes)


KEPT_IDS = ("id", "contact_id", "conversation_id", "deal_id")


def _forget_webhook_deliveries(contact: Contact, who: Identity) -> int:
    """Outbound webhook deliveries (sent, or waiting) about the person keep only the ids of
    what they announced; others that name them are masked."""
    about = or_(WebhookDelivery.body.contains(f'"contact_id":{contact.id},', autoescape=True),
                WebhookDelivery.event_type.startswith("contact.")
                & WebhookDelivery.body.contains(f'"data":{{"id":{contact.id},', autoescape=True))
    where = or_(about, _mentions(WebhookDelivery.body, who.distinctive)) if who.distinctive \
        else about
    changed = 0
    for delivery in db.session.scalars(select(WebhookDelivery).where(where)):
        try:
            doc = json.loads(delivery.body)
        except ValueError:
            doc = None
        data = doc.get("data") if isinstance(doc, dict) else None
        if isinstance(data, dict) and (data.get("contact_id") == contact.id or (
                delivery.event_type.startswith("contact.") and data.get("id") == contact.id)):
            doc["data"] = {**{k: data[k] for k in KEPT_IDS if k in data}, "erased": True}
        elif doc is not None:
            doc = who.mask(doc, distinctive_only=True)
        delivery.body = (json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
                         if doc is not None else who.mask(delivery.body, distinctive_only=True))
        changed += 1
    return changed


def _forget_exports(contact_id: int) -> int:
    """Earlier data exports of the person: their files are deleted."""
    jobs = list(db.session.scalars(select(Job).where(Job.task == EXPORT_TASK,
                                                     Job.subject == export_subject(contact_id))))
    for job in jobs:
        name = (job.result or {}).get("file")
        if name:
            after_commit(_unlink, exports_folder() / name)
        job.result = {"summary": "Erased with the person's data"}
    return len(jobs)


def exports_folder() -> Path:
    configured = current_app.config.get("PRIVACY_EXPORT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "privacy_exports"


def _empty(contact: Contact, now) -> None:
    for key in ("first_name", "email", "phone", "company", "location", "notes", "niche",
                "lead_source", "rate_per_post_minor", "estimated_value_minor"):
        setattr(contact, key, None)
    contact.name = ERASED_NAME
    contact.search_text = ""
    contact.erased_at = now
    contact.archived_at = contact.archived_at or now
    contact.tags = []


# -- lifting a suppression ---------------------------------------------------------------------
def lift(actor, erasure: Erasure) -> None:
    """The person came back of their own accord: their identifiers are no longer refused."""
    policy.require_admin(actor)
    if erasure.lifted_at is not None or erasure.source != REQUEST:
        raise ValidationFailed("This erasure suppresses nothing any more.")
    db.session.execute(delete(Suppression).where(Suppression.erasure_id == erasure.id))
    list_changed()
    erasure.lifted_at, erasure.lifted_by_id = utcnow(), actor.id
    audit.record(actor, "lift_suppression", None, entity_type="erasure", entity_id=erasure.id,
                 summary=f"Suppression of erasure #{erasure.id} lifted: the person may be "
                         "added again")


def erasures(limit: int = 100) -> list[Erasure]:
    return list(db.session.scalars(select(Erasure).order_by(Erasure.erased_at.desc(),
                                                            Erasure.id.desc()).limit(limit)))
