"""Listing and searching contacts: filters on indexes, keyset pages, no growing counts."""
import base64
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, text
from sqlalchemy.orm import noload

from crm import policy
from crm.contacts.models import Contact, SocialHandle, Tag, contact_tags
from crm.extensions import db

SORTS = {
    "name": ("Name A–Z", Contact.sort_name, False),
    "newest": ("Newest first", Contact.created_at, True),
    "updated": ("Recently updated", Contact.updated_at, True),
}
COUNT_CAP = 1000


@dataclass
class ContactFilters:
    q: str = ""
    kind: str = ""
    owner: str = ""      # "", "me", "none", or a user id
    platform: str = ""
    consent: str = ""    # "", unknown, opted_in, opted_out, dnc
    tag: str = ""
    archived: bool = False
    sort: str = "name"

    @classmethod
    def from_args(cls, args) -> "ContactFilters":
        sort = args.get("sort", "name")
        return cls(q=(args.get("q") or "").strip()[:100], kind=args.get("kind", ""),
                   owner=args.get("owner", ""), platform=args.get("platform", ""),
                   consent=args.get("consent", ""), tag=(args.get("tag") or "").strip().lower(),
                   archived=args.get("archived") == "1",
                   sort=sort if sort in SORTS else "name")

    def as_args(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if v and k != "archived"}
        if self.archived:
            out["archived"] = "1"
        if out.get("sort") == "name":
            out.pop("sort")
        return out


@dataclass
class ContactPage:
    rows: list
    next_cursor: str | None
    count: int
    count_capped: bool
    first: bool
    filters: ContactFilters = field(default_factory=ContactFilters)


def _encode(value, row_id) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    return base64.urlsafe_b64encode(json.dumps([value, row_id]).encode()).decode().rstrip("=")


def _decode(cursor: str, is_time: bool):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, row_id = json.loads(raw)
        if is_time:
            value = datetime.fromisoformat(value)
        return value, int(row_id)
    except (ValueError, TypeError):
        return None


def search_clause(q: str):
    """Substring search over name, handles, email and company, through an index."""
    terms = [t for t in q.lower().replace('"', " ").split() if t]
    if not terms:
        return None
    clauses = []
    if db.engine.dialect.name == "sqlite":
        # FTS5's trigram tokenizer finds substrings of three characters and more.
        long_terms = [t for t in terms if len(t) >= 3]
        if long_terms:
            match = " ".join('"' + t + '"' for t in long_terms)
            clauses.append(Contact.id.in_(
                text("SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH :fts_q")
                .bindparams(fts_q=match)))
        clauses += [Contact.search_text.contains(t, autoescape=True)
                    for t in terms if len(t) < 3]
    else:
        # pg_trgm's GIN index serves LIKE '%…%'.
        clauses += [Contact.search_text.contains(t, autoescape=True) for t in terms]
    return and_(*clauses)


def filtered(user, f: ContactFilters):
    """The WHERE clauses for the current user and filters."""
    where = [policy.contact_scope(user)]
    where.append(Contact.archived_at.is_not(None) if f.archived else Contact.archived_at.is_(None))
    if f.q:
        clause = search_clause(f.q)
        if clause is not None:
            where.append(clause)
    if f.kind:
        where.append(Contact.kind == f.kind)
    if f.owner == "me":
        where.append(Contact.owner_id == user.id)
    elif f.owner == "none":
        where.append(Contact.owner_id.is_(None))
    elif f.owner.isdigit():
        where.append(Contact.owner_id == int(f.owner))
    if f.platform:
        where.append(exists().where(SocialHandle.contact_id == Contact.id,
                                    SocialHandle.platform == f.platform))
    if f.consent == "dnc":
        where.append(Contact.do_not_contact.is_(True))
    elif f.consent:
        where.append(Contact.consent_status == f.consent)
    if f.tag:
        where.append(Contact.id.in_(
            select(contact_tags.c.contact_id).join(Tag, Tag.id == contact_tags.c.tag_id)
            .where(Tag.name == f.tag)))
    return where


def list_contacts(user, f: ContactFilters, cursor: str | None = None,
                  page_size: int = 50) -> ContactPage:
    """One page of contacts, keyset-paginated on the chosen sort."""
    _, column, desc = SORTS[f.sort]
    where = filtered(user, f)
    order = [column.desc(), Contact.id.desc()] if desc else [column.asc(), Contact.id.asc()]
    stmt = select(Contact).where(*where)
    decoded = _decode(cursor, is_time=f.sort != "name") if cursor else None
    if decoded:
        value, row_id = decoded
        if desc:
            stmt = stmt.where(or_(column < value, and_(column == value, Contact.id < row_id)))
        else:
            stmt = stmt.where(or_(column > value, and_(column == value, Contact.id > row_id)))
    stmt = stmt.order_by(*order).limit(page_size + 1)
    rows = list(db.session.scalars(stmt).unique())
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = _encode(getattr(last, column.key), last.id)
    capped = select(Contact.id).where(*filtered(user, f)).limit(COUNT_CAP + 1).subquery()
    count = db.session.scalar(select(func.count()).select_from(capped))
    return ContactPage(rows=rows, next_cursor=next_cursor, count=min(count, COUNT_CAP),
                       count_capped=count > COUNT_CAP, first=not decoded, filters=f)


def suggest_contacts(user, q: str, limit: int = 10):
    """A few contacts for a picker (name or handle search)."""
    clause = search_clause(q)
    if clause is None:
        return []
    stmt = (select(Contact).options(noload(Contact.tags))
            .where(policy.contact_scope(user), Contact.archived_at.is_(None), clause)
            .order_by(Contact.sort_name).limit(limit))
    return list(db.session.scalars(stmt))
