"""Consent: the one place that answers "may we contact this person now?".

Every outreach path — logging an outbound DM, rendering a template, creating an outreach
task, adding someone to a campaign — calls `require_may_contact`, and nothing else decides.
"""
from dataclasses import dataclass
from datetime import datetime

from crm.audit import services as audit
from crm.contacts.models import CONSENT_LABELS, CONSENT_STATES, ConsentEvent, Contact
from crm.core.errors import OutreachRefused, ValidationFailed
from crm.core.models import conflict_if_changed_meanwhile
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.tasks.models import Task
from crm.webhooks import outbox


@dataclass(frozen=True)
class ContactPermission:
    allowed: bool
    reason: str
    since: datetime | None = None

    def __bool__(self) -> bool:
        return self.allowed


def may_contact(contact: Contact) -> ContactPermission:
    """Whether outreach to `contact` is allowed now, and why not when it is not."""
    since = contact.consent_changed_at
    when = f" on {since:%d %b %Y}" if since else ""
    if contact.do_not_contact:
        return ContactPermission(False, f"{contact.name} is marked do-not-contact{when}.", since)
    if contact.consent_status == "opted_out":
        return ContactPermission(False, f"{contact.name} opted out{when}.", since)
    if contact.is_archived:
        return ContactPermission(False, f"{contact.name} is archived.", contact.archived_at)
    return ContactPermission(True, "", None)


def require_may_contact(contact: Contact, action: str = "outreach") -> None:
    """Raise OutreachRefused (naming the reason and date) unless outreach is allowed."""
    verdict = may_contact(contact)
    if not verdict.allowed:
        raise OutreachRefused(f"Refused: {verdict.reason} No {action} is possible.",
                              contact_id=contact.id, action=action)


def require_reopt_in_grounds(contact: Contact, status: str | None, source: str,
                             confirmed: bool) -> None:
    """Someone who opted out is opted in again only on their word: a confirmation and a
    source saying what they said, where and when."""
    if contact.consent_status != "opted_out" or status != "opted_in":
        return
    if not (source or "").strip():
        raise ValidationFailed(f"{contact.name} opted out. Say what they said, where and when "
                               "to opt them in again.", field="source")
    if not confirmed:
        raise ValidationFailed(f"Confirm that {contact.name} asked to hear from you again.",
                               field="confirm")


def record_refusal(actor, contact_id: int | None, action: str, reason: str) -> None:
    """Keep a trace of what the consent gate refused (the dashboard counts these)."""
    audit.record(actor, "outreach_refused", None, summary=reason, entity_type="contact",
                 entity_id=contact_id, changes={"action": action})


def change_consent(actor, contact: Contact, *, status: str | None = None,
                   do_not_contact: bool | None = None, source: str = "",
                   note: str | None = None, evidence_message_id: int | None = None,
                   at: datetime | None = None) -> ConsentEvent | None:
    """Change a contact's consent and append the event; returns None when nothing changed."""
    new_status = contact.consent_status if status is None else status
    new_dnc = contact.do_not_contact if do_not_contact is None else bool(do_not_contact)
    if new_status not in CONSENT_STATES:
        raise ValidationFailed(f"Unknown consent status “{new_status}”.", field="status")
    if new_status == contact.consent_status and new_dnc == contact.do_not_contact:
        return None
    message = (f"{contact.name}'s consent was changed by someone else at the same time. "
               "Your change was not saved; the current consent is shown.")
    with conflict_if_changed_meanwhile(message):
        at = at or utcnow()
        event = ConsentEvent(
            contact_id=contact.id, actor_id=getattr(actor, "id", None), at=at,
            from_status=contact.consent_status, to_status=new_status,
            from_dnc=contact.do_not_contact, to_dnc=new_dnc,
            source=(source or "Changed on the contact page")[:200], note=note or None,
            evidence_message_id=evidence_message_id,
        )
        db.session.add(event)
        before = (contact.consent_status, contact.do_not_contact)
        contact.consent_status = new_status
        contact.do_not_contact = new_dnc
        contact.consent_changed_at = at
        audit.record(actor, "consent", contact,
                     summary=f"Consent: {describe(*before)} → {describe(new_status, new_dnc)}",
                     changes={"consent_status": [before[0], new_status],
                              "do_not_contact": [before[1], new_dnc], "source": event.source},
                     at=at)
        if not may_contact(contact).allowed:
            cancel_outreach_tasks(actor, contact)
        outbox.consent_changed(contact, event)
    return event


def describe(status: str, dnc: bool) -> str:
    label = CONSENT_LABELS.get(status, status)
    return f"{label}, do-not-contact" if dnc else label


def cancel_outreach_tasks(actor, contact: Contact) -> None:
    """Open outreach tasks for someone who may no longer be contacted (opted out, marked
    do-not-contact, archived) are cancelled, with the reason."""
    reason = may_contact(contact).reason
    tasks = db.session.scalars(
        db.select(Task).where(Task.contact_id == contact.id, Task.status == "open",
                              Task.is_outreach.is_(True))
    ).all()
    for task in tasks:
        task.status = "cancelled"
        task.cancelled_at = utcnow()
        task.cancel_note = f"Cancelled: {reason}"[:255]
        audit.record(actor, "cancel", task, summary=f"Task cancelled: {reason}"[:255])
