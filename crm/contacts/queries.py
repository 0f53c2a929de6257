"""Listing and searching contacts: filters on indexes, keyset pages, no growing counts."""
import base64
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, bindparam, column, exists, func, or_, select, table, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import lazyload
from sqlalchemy.sql.selectable import Join

from crm import policy
from crm.accounts.models import User
from crm.contacts.handles import search_term
from crm.contacts.models import (KIND_LABELS, Contact, SocialHandle, Tag, contact_tags,
                                 display_handle)
from crm.core.plans import inline
from crm.extensions import db

SORTS = {
    "name": ("Name A–Z", Contact.sort_name, False),
    "newest": ("Newest first", Contact.created_at, True),
    "updated": ("Recently updated", Contact.updated_at, True),
}
COUNT_CAP = 1000
# A search matching at most this many contacts is read from the search index outwards and
# ordered in Python; more matches are found faster by walking the ordered name index.
FEW_MATCHES = 1000
CONTACTS_FTS = table("contacts_fts", column("rowid"))


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


@dataclass
class HandleRow:
    platform: str
    handle: str

    @property
    def display(self) -> str:
        return display_handle(self.platform, self.handle)


@dataclass
class ContactRow:
    """A row of the contacts list: what it shows, read as plain rows rather than as full
    Contact objects (a page of those costs more in the ORM than in the database)."""
    id: int
    name: str
    kind: str
    company: str | None
    consent_status: str
    do_not_contact: bool
    owner_name: str | None
    sort_key: object
    handles: list = field(default_factory=list)     # HandleRow, in the order added
    tags: list = field(default_factory=list)        # tag names, A–Z

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def _with_handles_and_tags(rows: list[ContactRow]) -> list[ContactRow]:
    by_id = {r.id: r for r in rows}
    if not by_id:
        return rows
    ids = {"ids": list(by_id)}
    for contact_id, platform, handle in db.session.execute(_HANDLES_OF, ids):
        by_id[contact_id].handles.append(HandleRow(platform, handle))
    for contact_id, name in db.session.execute(_TAGS_OF, ids):
        by_id[contact_id].tags.append(name)
    return rows


# A page of rows' handles and tags: built once, the page's contact ids bound at each use.
_HANDLES_OF = (select(SocialHandle.contact_id, SocialHandle.platform, SocialHandle.handle)
               .where(SocialHandle.contact_id.in_(bindparam("ids", expanding=True)))
               .order_by(SocialHandle.id))
_TAGS_OF = (select(contact_tags.c.contact_id, Tag.name).join(Tag, Tag.id == contact_tags.c.tag_id)
            .where(contact_tags.c.contact_id.in_(bindparam("ids", expanding=True)))
            .order_by(Tag.name))


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


class CrossJoin(Join):
    """A join that SQLite must run left table first (its CROSS JOIN); a plain JOIN elsewhere."""

    inherit_cache = True


@compiles(CrossJoin, "sqlite")
def _cross_join(element, compiler, **kw):
    kw["asfrom"] = True
    return (compiler.process(element.left, **kw) + " CROSS JOIN "
            + compiler.process(element.right, **kw) + " ON "
            + compiler.process(element.onclause, **kw))


@dataclass
class Search:
    """A search as WHERE clauses; on SQLite also its FTS5 query and whether few contacts
    match it (at most FEW_MATCHES, going by the index)."""

    clauses: list
    match: str | None = None
    few: bool = False
    short: list = field(default_factory=list)   # terms under three characters (LIKE)

    def from_index(self):
        """FROM the search index outwards: each match is then one primary-key lookup."""
        return CrossJoin(CONTACTS_FTS, Contact.__table__, Contact.id == CONTACTS_FTS.c.rowid)

    def match_clause(self):
        return text("contacts_fts MATCH :fts_q").bindparams(fts_q=self.match)


def _search(q: str) -> Search:
    terms = [search_term(t) for t in q.lower().replace('"', " ").split() if t]
    if not terms:
        return Search([])
    if db.engine.dialect.name != "sqlite":
        # pg_trgm's GIN index serves LIKE '%…%'.
        return Search([Contact.search_text.contains(t, autoescape=True) for t in terms])
    # FTS5's trigram tokenizer finds substrings of three characters and more.
    short = [Contact.search_text.contains(t, autoescape=True) for t in terms if len(t) < 3]
    long_terms = [t for t in terms if len(t) >= 3]
    if not long_terms:
        return Search(short)
    match = " ".join('"' + t + '"' for t in long_terms)
    hits = db.session.scalar(
        text("SELECT count(*) FROM (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH "
             ":fts_q LIMIT :few)").bindparams(fts_q=match, few=FEW_MATCHES + 1))
    # The unary + keeps SQLite from fetching thousands of matches by id to sort them: with
    # many matches, walking the name index finds a page of them sooner.
    fts = text("+contacts.id IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH "
               ":fts_q)").bindparams(fts_q=match)
    return Search([fts] + short, match=match, few=hits <= FEW_MATCHES, short=short)


def search_clause(q: str):
    """Substring search over name, handles, email and company, through an index."""
    clauses = _search(q).clauses
    return and_(*clauses) if clauses else None


def filtered(user, f: ContactFilters):
    """The WHERE clauses for the current user and filters."""
    where, search = _filtered(user, f)
    return where + search.clauses


def _filtered(user, f: ContactFilters) -> tuple[list, Search]:
    """(WHERE clauses but the search, the search)."""
    where = [policy.contact_scope(user)]
    where.append(Contact.archived_at.is_not(None) if f.archived else Contact.archived_at.is_(None))
    search = _search(f.q) if f.q else Search([])
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
    return where, search


PAGE_SIZE = 25


def _row_columns(sort_column) -> list:
    """What a row of the list shows, plus the sort key the next page starts from."""
    return [Contact.id, Contact.name, Contact.kind, Contact.company, Contact.consent_status,
            Contact.do_not_contact, User.name.label("owner_name"), sort_column.label("sort_key")]


def list_contacts(user, f: ContactFilters, cursor: str | None = None,
                  page_size: int = PAGE_SIZE) -> ContactPage:
    """One page of contacts, keyset-paginated on the chosen sort."""
    _, column, desc = SORTS[f.sort]
    where, search = _filtered(user, f)
    order = [column.desc(), Contact.id.desc()] if desc else [column.asc(), Contact.id.asc()]
    if search.few:
        # Few matches: start from the search index and sort them; walking the ordered name
        # index would look at every contact to find them (see bench/README.md).
        stmt = (select(*_row_columns(column)).select_from(search.from_index())
                .where(search.match_clause(), *where, *search.short))
    else:
        stmt = select(*_row_columns(column)).where(*where, *search.clauses)
    decoded = _decode(cursor, is_time=f.sort != "name") if cursor else None
    if decoded:
        value, row_id = decoded
        if desc:
            stmt = stmt.where(or_(column < value, and_(column == value, Contact.id < row_id)))
        else:
            stmt = stmt.where(or_(column > value, and_(column == value, Contact.id > row_id)))
    stmt = (stmt.outerjoin(User, User.id == Contact.owner_id)
            .order_by(*order).limit(page_size + 1))
    rows = [ContactRow(*row) for row in db.session.execute(stmt)]
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = _encode(last.sort_key, last.id)
    _with_handles_and_tags(rows)
    counted = select(Contact.id).where(*where, *search.clauses)
    if db.engine.dialect.name == "sqlite":
        # In name order SQLite reads the page's partial index, which holds owner_id, rather
        # than an arbitrary one; PostgreSQL picks well alone (its trigram index for a search).
        counted = counted.order_by(Contact.sort_name)
    if search.match:
        # Count outwards from the search index rather than testing every live contact.
        counted = (select(Contact.id).select_from(search.from_index())
                   .where(search.match_clause(), *where, *search.short))
    capped = counted.limit(inline(COUNT_CAP + 1)).subquery()
    count = db.session.scalar(select(func.count()).select_from(capped))
    return ContactPage(rows=rows, next_cursor=next_cursor, count=min(count, COUNT_CAP),
                       count_capped=count > COUNT_CAP, first=not decoded, filters=f)


def suggest_contacts(user, q: str, limit: int = 10):
    """A few contacts for a picker (name or handle search)."""
    search = _search(q)
    if not search.clauses:
        return []
    stmt = (select(Contact).options(lazyload(Contact.tags))
            .where(policy.contact_scope(user), Contact.archived_at.is_(None)))
    if search.few:
        stmt = stmt.select_from(search.from_index()).where(search.match_clause(), *search.short)
    else:
        stmt = stmt.where(*search.clauses)
    return list(db.session.scalars(stmt.order_by(Contact.sort_name).limit(limit)))


def find_contacts(user, q: str, limit: int = 5) -> list[ContactRow]:
    """The first few live contacts, A–Z, whose name, handle, email or company matches `q`
    (a handle may be typed with its "@" or pasted as a profile URL), within the user's scope."""
    search = _search(q)
    if not search.clauses:
        return []
    stmt = select(*_row_columns(Contact.sort_name))
    if search.few:
        stmt = stmt.select_from(search.from_index()).where(search.match_clause(), *search.short)
    else:
        stmt = stmt.where(*search.clauses)
    stmt = (stmt.where(policy.contact_scope(user), Contact.archived_at.is_(None))
            .outerjoin(User, User.id == Contact.owner_id)
            .order_by(Contact.sort_name, Contact.id).limit(limit))
    rows = [ContactRow(*row) for row in db.session.execute(stmt)]
    by_id = {r.id: r for r in rows}
    if by_id:
        for contact_id, platform, handle in db.session.execute(
                select(SocialHandle.contact_id, SocialHandle.platform, SocialHandle.handle)
                .where(SocialHandle.contact_id.in_(by_id)).order_by(SocialHandle.id)):
            by_id[contact_id].handles.append(HandleRow(platform, handle))
    return rows
