"""Saved views: save a page's filters (as its query string, once the page's filter form has
checked them: crm.saved_views.forms.clean_query) under a name, rename, share and delete —
through the policy, audited."""
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import bindparam, select

from crm import policy
from crm.audit import services as audit
from crm.core.errors import ValidationFailed
from crm.core.versions import flush_or_conflict
from crm.extensions import db
from crm.saved_views.models import SavedView


@dataclass(frozen=True)
class Page:
    endpoint: str
    label: str


PAGES = {"contacts": Page("contacts.index", "contacts list"),
         "inbox": Page("conversations.inbox", "inbox"),
         "board": Page("pipeline.board", "board")}
# Where a page of the list starts is not a filter: it is left out of a saved view.
NOT_FILTERS = {"after"}
MAX_PER_PAGE = 50


def page_of(key: str) -> Page:
    if key not in PAGES:
        raise ValidationFailed("Views are saved from the contacts list, the inbox or the board.",
                               field="page")
    return PAGES[key]


def filter_pairs(query: str) -> list[tuple[str, str]]:
    """The filters of a page's query string: no empty ones, and not where a list starts."""
    return [(k, v) for k, v in parse_qsl((query or "").lstrip("?"), keep_blank_values=True)
            if k not in NOT_FILTERS and v != ""]


def _clean_name(actor, key: str, name: str, view: SavedView | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("Name the view.", field="name")
    if len(name) > 80:
        raise ValidationFailed("A view's name has at most 80 characters.", field="name")
    owner_id = view.owner_id if view is not None else actor.id
    taken = db.session.scalar(select(SavedView.id).where(
        SavedView.owner_id == owner_id, SavedView.page == key, SavedView.name == name))
    if taken is not None and (view is None or taken != view.id):
        raise ValidationFailed(f"There is already a view named “{name}” here.", field="name")
    return name


def save_view(actor, key: str, name: str, query: str, shared: bool = False) -> SavedView:
    """Save the page's filters (`query`, as clean_query gave it) under a name: the user's
    own, and shared with the team when asked."""
    page = page_of(key)
    name = _clean_name(actor, key, name)
    count = db.session.scalar(select(db.func.count()).where(
        SavedView.owner_id == actor.id, SavedView.page == key))
    if count >= MAX_PER_PAGE:
        raise ValidationFailed(f"You have {MAX_PER_PAGE} views of the {page.label} already; "
                               "delete one first.", field="name")
    view = SavedView(owner_id=actor.id, page=key, name=name, query=query, shared=bool(shared))
    db.session.add(view)
    db.session.flush()
    audit.record(actor, "create", view, summary=f"View “{name}” of the {page.label} saved"
                 + (" and shared" if shared else ""), changes={"query": query})
    return view


def _require_edit(actor, view: SavedView) -> None:
    if not policy.can_edit_saved_view(actor, view):
        raise ValidationFailed("Only the person who saved this view (or an admin, for a shared "
                               "one) can change it.")


def _conflict(view: SavedView) -> str:
    return f"“{view.name}” was changed by someone else meanwhile; nothing was saved."


def rename_view(actor, view: SavedView, name: str) -> None:
    _require_edit(actor, view)
    old, view.name = view.name, _clean_name(actor, view.page, name, view)
    flush_or_conflict(_conflict(view))
    audit.record(actor, "update", view, summary=f"View “{old}” renamed “{view.name}”",
                 changes={"name": [old, view.name]})


def share_view(actor, view: SavedView, shared: bool) -> None:
    _require_edit(actor, view)
    if view.shared != bool(shared):
        view.shared = bool(shared)
        flush_or_conflict(_conflict(view))
        audit.record(actor, "update", view, summary=f"View “{view.name}” "
                     + ("shared with the team" if shared else "no longer shared"))


def delete_view(actor, view: SavedView) -> None:
    _require_edit(actor, view)
    audit.record(actor, "delete", view, summary=f"View “{view.name}” deleted",
                 changes={"query": view.query})
    db.session.delete(view)
    flush_or_conflict(_conflict(view))


# Every list page shows its saved views: built once, the viewer and the page bound at each use.
_VISIBLE_TO = select(SavedView).where(policy.saved_view_scope(bindparam("viewer_id")))
_VISIBLE = _VISIBLE_TO.order_by(SavedView.page, SavedView.name)
_VISIBLE_OF_PAGE = (_VISIBLE_TO.where(SavedView.page == bindparam("page"))
                    .order_by(SavedView.page, SavedView.name))


def visible_views(user, key: str | None = None) -> list[SavedView]:
    """The user's own views and the team's shared ones (of one page), own first, A–Z."""
    if key is None:
        views = db.session.scalars(_VISIBLE, {"viewer_id": user.id}).all()
    else:
        views = db.session.scalars(_VISIBLE_OF_PAGE, {"viewer_id": user.id, "page": key}).all()
    return sorted(views, key=lambda v: (v.page, v.owner_id != user.id, v.name.lower()))


@dataclass
class Strip:
    """What a page's saved-views strip shows: its quick links and the filters to save."""
    page: str
    query: str
    views: list
    current: set      # the ids of the views whose filters are the ones shown


def strip(user, key: str, filters: dict, query_string: bytes | str = "") -> Strip:
    """The quick links of `key`'s page for `user`, and the filters to save: the page's own
    canonical ones (`filters`, its filters' as_args()). A link is marked as the one shown
    when its filters are those, or those of the address as typed (two views may hold the
    same filters: both are marked)."""
    query = urlencode([(k, v) for k, v in filters.items() if v not in ("", None)])
    raw = query_string.decode() if isinstance(query_string, bytes) else query_string
    shown = [sorted(filter_pairs(query)), sorted(filter_pairs(raw))]
    views = visible_views(user, key)
    current = {v.id for v in views if v.query and sorted(filter_pairs(v.query)) in shown}
    return Strip(page=key, query=query, views=views, current=current)
