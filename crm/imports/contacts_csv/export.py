"""The contacts list as CSV, with the list's filters, in a layout the CSV import reads back.

Streams in keyset batches (never the whole result in memory), only what the user may see.
"""
from __future__ import annotations

import csv
import io

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from crm.contacts.models import Contact
from crm.contacts.queries import SORTS, ContactFilters, filtered
from crm.extensions import db
from crm.imports.contacts_csv.read import EXPORT_ORDER, field_label, guard_cell

BATCH = 1000


def money_text(minor: int | None) -> str:
    if minor is None:
        return ""
    return f"{minor // 100}" if minor % 100 == 0 else f"{minor / 100:.2f}"


def row_of(c: Contact) -> list[str]:
    handles: dict[str, list[str]] = {}
    for h in c.handles:
        handles.setdefault(h.platform, []).append(h.handle)
    values = {
        "name": c.name, "first_name": c.first_name, "kind": c.kind, "email": c.email,
        "phone": c.phone, "company": c.company, "location": c.location,
        "owner_email": c.owner.email if c.owner else "",
        "tags": ", ".join(sorted(t.name for t in c.tags)),
        "consent": c.consent_status, "do_not_contact": "yes" if c.do_not_contact else "",
        "niche": c.niche, "rate_per_post": money_text(c.rate_per_post_minor),
        "currency": c.currency, "lead_source": c.lead_source,
        "estimated_value": money_text(c.estimated_value_minor), "notes": c.notes,
        "rapport_id": c.id,
    }
    for key in EXPORT_ORDER:
        if key.startswith("handle:"):
            values[key] = "; ".join(handles.get(key.split(":", 1)[1], []))
    return [guard_cell(values.get(key)) for key in EXPORT_ORDER]


def contacts_in_order(where: list, sort: str):
    """The contacts matching `where` in the list's order `sort`, BATCH at a time (keyset, not
    offset)."""
    _, column, desc = SORTS[sort]
    order = [column.desc(), Contact.id.desc()] if desc else [column.asc(), Contact.id.asc()]
    last = None
    while True:
        stmt = (select(Contact).options(selectinload(Contact.handles), selectinload(Contact.tags),
                                        selectinload(Contact.owner))
                .where(*where).order_by(*order).limit(BATCH))
        if last is not None:
            value, row_id = last
            after = (or_(column < value, and_(column == value, Contact.id < row_id)) if desc else
                     or_(column > value, and_(column == value, Contact.id > row_id)))
            stmt = stmt.where(after)
        rows = list(db.session.scalars(stmt).unique())
        yield from rows
        if len(rows) < BATCH:
            return
        # The session holds loaded rows weakly: once written out, a batch is let go.
        last = (getattr(rows[-1], column.key), rows[-1].id)


def export_lines(user, f: ContactFilters):
    """CSV text, a batch at a time: a UTF-8 BOM (so Excel reads accents), header, rows.

    The scope and filters are read from `user` here, while the request runs: a server reads
    the body after the view returned, when the user's row may no longer be loadable."""
    return lines_where(filtered(user, f), f.sort)


def lines_where(where: list, sort: str):
    """CSV text of the contacts matching `where` (clauses that already hold the policy's
    scope), in the list's order `sort`: what a bulk export of a selection streams."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([field_label(k) for k in EXPORT_ORDER])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for n, contact in enumerate(contacts_in_order(where, sort), 1):
        writer.writerow(row_of(contact))
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
