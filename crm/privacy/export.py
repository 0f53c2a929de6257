"""A person's data on request: everything Rapport holds about them, in one zip.

summary.html (to read), data.json (everything, machine-readable) and one CSV per kind of
record. Built by a job; downloaded by an admin or manager through a signed link that
expires (PRIVACY_EXPORT_HOURS); the request and each download are in the audit log.
"""
from __future__ import annotations

import csv
import io
import json
import secrets
import zipfile
from datetime import date, datetime, timedelta

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import LargeBinary, bindparam, or_, select, text

from crm import jobs, policy
from crm.audit import services as audit
from crm.audit.models import AuditEvent
from crm.campaigns.models import Campaign
from crm.channels.models import ChannelEvent, OutboundSend
from crm.contacts.models import PLATFORM_LABELS, ConsentEvent, Contact, Note
from crm.conversations.models import Conversation, Message, MessageMedia
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.imports.models import ImportRun
from crm.jobs.models import ACTIVE, Job
from crm.pipeline.models import Deal, LostReason, Stage, StageChange
from crm.privacy.services import EXPORT_TASK, Identity, export_subject, exports_folder
from crm.tasks.models import Task

# Every kind of record in the zip, in the order the summary shows them.
TABLES = ("contact", "handles", "tags", "consent_history", "conversations", "messages",
          "attachments", "deals", "deal_stage_changes", "tasks", "notes",
          "campaign_memberships", "imports", "channel_events", "replies_sent",
          "audit_entries")
TITLES = {"contact": "Contact details", "handles": "Handles", "tags": "Tags",
          "consent_history": "Consent history (with its evidence)",
          "conversations": "Conversations", "messages": "Messages",
          "attachments": "Attachments (descriptions)", "deals": "Deals and outcomes",
          "deal_stage_changes": "Deal stage history", "tasks": "Tasks", "notes": "Notes",
          "campaign_memberships": "Campaigns", "imports": "Imports that brought their data",
          "channel_events": "Live channel events that name them",
          "replies_sent": "Replies sent through live channels",
          "audit_entries": "Audit log entries about them"}
SALT = "privacy-export"


def hours() -> float:
    return float(current_app.config.get("PRIVACY_EXPORT_HOURS", 24))


# -- asking and downloading --------------------------------------------------------------------
def may_export(user) -> bool:
    return bool(user and user.is_authenticated and user.is_manager)


def latest_export(contact_id: int) -> Job | None:
    return db.session.scalar(select(Job).where(Job.task == EXPORT_TASK,
                                               Job.subject == export_subject(contact_id))
                             .order_by(Job.id.desc()).limit(1))


def request_export(actor, contact: Contact) -> Job:
    """Queue the export of everything held about the contact (admins and managers)."""
    if not may_export(actor):
        policy.require_manager(actor)
    if contact.erased_at is not None:
        raise ValidationFailed("This person's data was erased; there is nothing to export.")
    running = latest_export(contact.id)
    if running is not None and running.status in ACTIVE:
        return running
    job = jobs.enqueue(EXPORT_TASK, contact.id, user=actor, subject=export_subject(contact.id))
    audit.record(actor, "export_requested", None, entity_type="contact", entity_id=contact.id,
                 summary="Export of this person's data requested (access request)")
    return job


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def expires_at(job: Job) -> datetime | None:
    return job.finished_at + timedelta(hours=hours()) if job.finished_at else None


def is_expired(job: Job) -> bool:
    end = expires_at(job)
    return end is None or end <= utcnow()


def download_token(job: Job) -> str:
    return _serializer().dumps({"job": job.id})


def job_for_token(token: str) -> Job | None:
    """The export job a download link names, while the link is valid; else None."""
    try:
        value = _serializer().loads(token, max_age=int(hours() * 3600))
    except BadSignature:
        return None
    job = db.session.get(Job, value.get("job")) if isinstance(value, dict) else None
    if job is None or job.task != EXPORT_TASK or job.status != "done" or is_expired(job):
        return None
    if not (job.result or {}).get("file"):
        return None
    return job


def record_download(actor, job: Job) -> None:
    audit.record(actor, "export_downloaded", None, entity_type="contact",
                 entity_id=job.args[0], summary="Export of this person's data downloaded")


# -- collecting --------------------------------------------------------------------------------
def _value(v):
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


def _rows(result, names) -> list[dict]:
    return [{n: _value(v) for n, v in zip(names, r)} for r in result]


def collect(contact: Contact, progress=None) -> dict[str, list[dict]]:
    """Every record about the contact, as plain rows per kind (TABLES)."""
    out: dict[str, list[dict]] = {}
    conversations = list(db.session.scalars(select(Conversation).where(
        Conversation.contact_id == contact.id).order_by(Conversation.id)))
    conv_ids = [c.id for c in conversations]
    who = Identity(contact, conversations)
    out["contact"] = [{k: _value(getattr(contact, k)) for k in (
        "id", "kind", "name", "first_name", "email", "phone", "company", "location", "notes",
        "niche", "rate_per_post_minor", "currency", "lead_source", "estimated_value_minor",
        "consent_status", "do_not_contact", "consent_changed_at", "created_at", "updated_at",
        "archived_at")} | {"owner": contact.owner.name if contact.owner else None}]
    out["handles"] = [{"platform": PLATFORM_LABELS.get(h.platform, h.platform),
                       "handle": h.handle, "profile_url": h.profile_url,
                       "platform_id": h.account_id, "followers": h.followers,
                       "engagement_rate": h.engagement_rate, "added": _value(h.created_at)}
                      for h in contact.handles]
    out["tags"] = [{"tag": t.name} for t in contact.tags]
    evidence = {}
    events = list(db.session.scalars(select(ConsentEvent).where(
        ConsentEvent.contact_id == contact.id).order_by(ConsentEvent.at, ConsentEvent.id)))
    ids = [e.evidence_message_id for e in events if e.evidence_message_id]
    if ids:
        evidence = {m.id: m for m in db.session.scalars(select(Message).where(
            Message.id.in_(ids)))}
    out["consent_history"] = [{
        "at": _value(e.at), "from": e.from_status, "to": e.to_status,
        "do_not_contact_from": e.from_dnc, "do_not_contact_to": e.to_dnc, "source": e.source,
        "note": e.note, "by": e.actor.name if e.actor else None,
        "evidence_message_sent_at": _value(evidence[e.evidence_message_id].sent_at)
        if e.evidence_message_id in evidence else None,
        "evidence_message": evidence[e.evidence_message_id].body
        if e.evidence_message_id in evidence else None} for e in events]
    out["conversations"] = [{"id": c.id, "platform": PLATFORM_LABELS.get(c.platform, c.platform),
                             "thread_id": c.external_thread_id, "title": c.title,
                             "group_chat": c.is_group, "state": c.state_label,
                             "started": _value(c.created_at),
                             "last_message_at": _value(c.last_message_at)}
                            for c in conversations]
    _progress(progress, 1)
    messages = []
    for start in range(0, len(conv_ids), 500):
        messages += db.session.scalars(select(Message).where(
            Message.conversation_id.in_(conv_ids[start:start + 500]))
            .order_by(Message.conversation_id, Message.sent_at, Message.id)).all()
    out["messages"] = [{"conversation_id": m.conversation_id, "id": m.id,
                        "sent_at": _value(m.sent_at),
                        "direction": "received" if m.is_inbound else "sent",
                        "text": m.body, "attachment": m.media_label,
                        "sender": m.sender_name or (m.author.name if m.author else None),
                        "deleted_on_platform": _value(m.deleted_at),
                        "delivery": m.delivery_status} for m in messages]
    message_ids = [m.id for m in messages]
    files = []
    for start in range(0, len(message_ids), 500):
        files += db.session.scalars(select(MessageMedia).where(
            MessageMedia.message_id.in_(message_ids[start:start + 500]))).all()
    out["attachments"] = [{"message_id": f.message_id, "kind": f.kind,
                           "file_name": f.filename, "type": f.content_type or f.declared_type,
                           "size_bytes": f.size, "status": f.status} for f in files]
    _progress(progress, 2)
    deals = list(db.session.scalars(select(Deal).where(Deal.contact_id == contact.id)
                                    .order_by(Deal.id)))
    reasons = dict(db.session.execute(select(LostReason.id, LostReason.name)).all())
    out["deals"] = [{"id": d.id, "title": d.title, "pipeline": d.pipeline.name,
                     "stage": d.stage.name, "value_minor": d.value_minor, "currency": d.currency,
                     "outcome": d.outcome, "lost_reason": reasons.get(d.lost_reason_id),
                     "lost_note": d.lost_note, "campaign": d.campaign.name if d.campaign else None,
                     "next_step": d.next_step, "post_type": d.post_type,
                     "posted_url": d.posted_url, "posted_on": _value(d.posted_on),
                     "reach": d.reach, "clicks": d.clicks, "conversions": d.conversions,
                     "revenue_minor": d.revenue_minor, "opened": _value(d.created_at),
                     "closed": _value(d.closed_at)} for d in deals]
    stages = dict(db.session.execute(select(Stage.id, Stage.name)).all())
    deal_ids = [d.id for d in deals]
    out["deal_stage_changes"] = [
        {"deal_id": s.deal_id, "at": _value(s.at), "from": stages.get(s.from_stage_id),
         "to": stages.get(s.to_stage_id)}
        for s in (db.session.scalars(select(StageChange).where(
            StageChange.deal_id.in_(deal_ids)).order_by(StageChange.at)) if deal_ids else [])]
    out["tasks"] = [{"title": t.title, "notes": t.notes, "due": _value(t.due_at),
                     "status": t.status, "done": _value(t.done_at),
                     "assignee": t.assignee.name if t.assignee else None,
                     "created": _value(t.created_at)}
                    for t in db.session.scalars(select(Task).where(
                        Task.contact_id == contact.id).order_by(Task.id))]
    out["notes"] = [{"written": _value(n.created_at), "by": n.author.name if n.author else None,
                     "text": n.body} for n in db.session.scalars(select(Note).where(
                         Note.contact_id == contact.id).order_by(Note.created_at))]
    campaign_ids = sorted({d.campaign_id for d in deals if d.campaign_id})
    out["campaign_memberships"] = [
        {"campaign": c.name, "brand": c.brand, "starts_on": _value(c.starts_on),
         "ends_on": _value(c.ends_on),
         "deals": ", ".join(str(d.id) for d in deals if d.campaign_id == c.id)}
        for c in (db.session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids)))
                  if campaign_ids else [])]
    _progress(progress, 3)
    out["imports"] = _imports(contact, message_ids, conv_ids)
    out["channel_events"] = _channel_events(who)
    out["replies_sent"] = [{"at": _value(s.created_at), "text": s.body, "status": s.status,
                            "error": s.error} for s in (db.session.scalars(
                                select(OutboundSend).where(
                                    OutboundSend.conversation_id.in_(conv_ids))
                                .order_by(OutboundSend.id)) if conv_ids else [])]
    about = or_(AuditEvent.contact_id == contact.id,
                (AuditEvent.entity_type == "contact") & (AuditEvent.entity_id == contact.id))
    out["audit_entries"] = [{"at": _value(a.at), "by": a.actor.name if a.actor else None,
                             "action": a.action, "record": f"{a.entity_type} {a.entity_id}",
                             "summary": a.summary, "changes": json.dumps(a.changes)}
                            for a in db.session.scalars(select(AuditEvent).where(about)
                                                        .order_by(AuditEvent.at, AuditEvent.id))]
    _progress(progress, 4)
    return out


def _progress(progress, step: int) -> None:
    if progress:
        progress(step, 5)


def _imports(contact: Contact, message_ids, conv_ids) -> list[dict]:
    """Import runs that brought their messages, or that the audit log says touched them."""
    run_ids = set()
    for start in range(0, len(conv_ids), 500):
        run_ids.update(db.session.scalars(select(Message.import_id).distinct().where(
            Message.conversation_id.in_(conv_ids[start:start + 500]),
            Message.import_id.is_not(None))))
    # A CSV import leaves an "import" entry on each contact it wrote, naming its file.
    files = {_file_of(s) for s in db.session.scalars(select(AuditEvent.summary).where(
        AuditEvent.action == "import", AuditEvent.entity_type == "contact",
        AuditEvent.entity_id == contact.id))} - {None}
    where = []
    if run_ids:
        where.append(ImportRun.id.in_(sorted(run_ids)))
    if files:
        where.append(ImportRun.filename.in_(sorted(files)) & (ImportRun.kind == "csv"))
    runs = list(db.session.scalars(select(ImportRun).where(or_(*where))
                                   .order_by(ImportRun.id))) if where else []
    return [{"id": r.id, "kind": r.kind_label, "file": r.filename, "status": r.status_label,
             "started": _value(r.created_at), "finished": _value(r.finished_at),
             "counts": json.dumps(r.counts)} for r in runs]


def _file_of(summary: str) -> str | None:
    """The file an import's audit summary names ("… imported from F", "Created by CSV
    import F")."""
    for marker in (" imported from ", "CSV import "):
        if marker in summary:
            return summary.rsplit(marker, 1)[1].split(":")[0].strip()
    return None


def _channel_events(who: Identity) -> list[dict]:
    dialect = db.session.connection().dialect.name
    found = {}
    for needle in sorted(who.person_ids):
        if len(needle) < 5:
            continue
        where = ("instr(body, :needle) > 0" if dialect == "sqlite"
                 else "position(:needle in body) > 0")
        ids = db.session.scalars(text(f"SELECT id FROM channel_events WHERE {where}")
                                 .bindparams(bindparam("needle", needle.encode(),
                                                       type_=LargeBinary))).all()
        for event in db.session.scalars(select(ChannelEvent).where(ChannelEvent.id.in_(ids))):
            found[event.id] = event
    return [{"id": e.id, "received_at": _value(e.received_at), "status": e.status,
             "payload": _value(e.body)} for _, e in sorted(found.items())]


# -- writing the zip ---------------------------------------------------------------------------
def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    names = list(rows[0]) if rows else ["(none)"]
    writer = csv.DictWriter(buf, fieldnames=names, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        # A cell that a spreadsheet would run as a formula is kept as text.
        writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v)
                         for k, v in row.items()})
    return buf.getvalue()


def write_zip(contact: Contact, data: dict, job_id: int) -> str:
    """The zip in the exports folder; returns its file name."""
    folder = exports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{job_id}-{secrets.token_hex(12)}.zip"
    made = utcnow()
    html = render_template("privacy/export_summary.html", contact=contact, data=data,
                           tables=TABLES, titles=TITLES, made=made)
    tmp = folder / (name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("summary.html", html)
        zf.writestr("data.json", json.dumps({"made_at": made.isoformat() + "Z",
                                             **{t: data[t] for t in TABLES}},
                                            ensure_ascii=False, indent=1))
        for table in TABLES:
            zf.writestr(f"csv/{table}.csv", _csv(data[table]))
    tmp.rename(folder / name)
    return name


def build(job, contact_id: int) -> dict:
    """Job: collect and write the zip; returns what the job row keeps."""
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.erased_at is not None:
        raise jobs.JobFailed("This person's data was erased; there is nothing to export.")
    data = collect(contact, progress=lambda done, total: jobs.report_progress(
        done, total, "collecting"))
    name = write_zip(contact, data, job.id)
    jobs.report_progress(5, 5, "done")
    counted = sum(len(data[t]) for t in TABLES)
    return {"summary": f"{counted:,} records in {len(TABLES)} files", "file": name,
            "counts": {t: len(data[t]) for t in TABLES}}


def forget_expired() -> int:
    """Delete export files whose links have expired (the daily privacy job)."""
    cutoff = utcnow() - timedelta(hours=hours())
    removed = 0
    for job in db.session.scalars(select(Job).where(Job.task == EXPORT_TASK,
                                                    Job.finished_at < cutoff)):
        name = (job.result or {}).get("file")
        if not name:
            continue
        (exports_folder() / name).unlink(missing_ok=True)
        job.result = {**job.result, "file": None, "summary": "Expired; the file was deleted"}
        removed += 1
    return removed
