"""Template rules: writing, archiving, filling in for a contact, and how well each works."""
from sqlalchemy import case, func, select

from crm import policy
from crm.audit import services as audit
from crm.campaigns.models import Campaign
from crm.contacts import consent
from crm.contacts.models import PLATFORM_LABELS, PLATFORMS
from crm.conversations.models import Message
from crm.core.errors import Conflict, ValidationFailed
from crm.core.timeutil import utcnow
from crm.dm_templates import placeholders
from crm.dm_templates.models import DMTemplate
from crm.extensions import db
from crm.pipeline.models import OPEN, Deal

MAX_BODY = 5000


def _clean(name: str | None, body: str | None, platform: str | None) -> dict:
    name = (name or "").strip()
    body = (body or "").replace("\r\n", "\n").strip()
    if not name:
        raise ValidationFailed("Give the template a name.", field="name")
    if len(name) > 120:
        raise ValidationFailed("Keep the name under 120 characters.", field="name")
    if not body:
        raise ValidationFailed("Write the message text.", field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"Keep the text under {MAX_BODY:,} characters.", field="body")
    errors = placeholders.problems(body)
    if errors:
        raise ValidationFailed(" ".join(errors), field="body")
    if platform and platform not in PLATFORMS:
        raise ValidationFailed(f"Unknown platform “{platform}”.", field="platform")
    return {"name": name, "body": body, "platform": platform or None}


def create_template(actor, *, name, body, platform=None) -> DMTemplate:
    """A new template, shared with the team."""
    template = DMTemplate(created_by_id=actor.id, **_clean(name, body, platform))
    db.session.add(template)
    db.session.flush()
    audit.record(actor, "create", template, summary=f"Template “{template.name}” created")
    return template


def _require_editor(actor, template) -> None:
    if not policy.can_edit_template(actor, template):
        raise ValidationFailed("Only its author or a manager can change this template.")


def update_template(actor, template: DMTemplate, *, name, body, platform=None,
                    expected_version: int | None = None) -> dict:
    """Save edits; refused when someone else saved the template in between."""
    _require_editor(actor, template)
    if expected_version is not None and expected_version != template.version:
        raise Conflict(f"“{template.name}” was changed by someone else since you opened it. "
                       "Your edit was not saved; the current text is shown.")
    for key, value in _clean(name, body, platform).items():
        setattr(template, key, value)
    changes = audit.changes_of(template, fields=("name", "body", "platform"))
    if changes:
        audit.record(actor, "update", template, summary=f"Template “{template.name}” edited",
                     changes=changes)
    return changes


def archive_template(actor, template: DMTemplate) -> None:
    """Hide a template from the pickers; its history and figures stay."""
    _require_editor(actor, template)
    if template.archived_at is None:
        template.archived_at = utcnow()
        audit.record(actor, "archive", template, summary=f"Template “{template.name}” archived")


def restore_template(actor, template: DMTemplate) -> None:
    _require_editor(actor, template)
    if template.archived_at is not None:
        template.archived_at = None
        audit.record(actor, "restore", template, summary=f"Template “{template.name}” restored")


def usage(template_ids) -> dict[int, tuple[int, int]]:
    """{template id: (times sent, times the contact replied)} from the covering index."""
    ids = list(template_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Message.template_id, func.count(), func.count(Message.replied_at))
        .where(Message.template_id.in_(ids), Message.deleted_at.is_(None))
        .group_by(Message.template_id))
    return {tid: (sent, replied) for tid, sent, replied in rows}


def active_templates(platform: str | None = None, limit: int = 200) -> list[DMTemplate]:
    """Templates to pick from, the ones made for `platform` first."""
    order = [DMTemplate.name]
    if platform:
        order.insert(0, case((DMTemplate.platform == platform, 0),
                             (DMTemplate.platform.is_(None), 1), else_=2))
    return db.session.scalars(select(DMTemplate).where(DMTemplate.archived_at.is_(None))
                              .order_by(*order).limit(limit)).all()


def _campaign_name(contact) -> str | None:
    return db.session.scalar(
        select(Campaign.name).join(Deal, Deal.campaign_id == Campaign.id)
        .where(Deal.contact_id == contact.id)
        .order_by(case((Deal.outcome == OPEN, 0), else_=1), Deal.updated_at.desc()).limit(1))


def values_for(actor, contact, platform: str | None, needed) -> dict:
    """What each placeholder means for this contact; None when there is no value."""
    values = {"first_name": contact.first_name, "name": contact.name,
              "platform": PLATFORM_LABELS.get(platform) if platform else None,
              "my_name": getattr(actor, "name", None), "handle": None, "campaign": None}
    if platform:
        handle = next((h for h in contact.handles if h.platform == platform), None)
        values["handle"] = handle.display if handle else None
    if "campaign" in needed:
        values["campaign"] = _campaign_name(contact)
    return values


def render_for_contact(actor, contact, template: DMTemplate, *, platform=None,
                       fills: dict | None = None) -> placeholders.Rendering:
    """The template personalised for `contact`; outreach, so consent is checked first.

    `fills` are values the user typed for placeholders this contact has no value for.
    """
    consent.require_may_contact(contact, action="template")
    needed = placeholders.used_in(template.body)
    values = values_for(actor, contact, platform, needed)
    for name, value in (fills or {}).items():
        if name in values and not values[name] and (value or "").strip():
            values[name] = value.strip()
    return placeholders.render(template.body, values)
