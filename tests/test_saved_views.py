"""Saved views: a page's filters under a name, checked by the page's filter form, as quick
links on that page; shared with the team, edited by their owner (or an admin)."""
import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.pipeline.defaults import ensure_default_pipelines
from crm.saved_views.forms import clean_query
from crm.saved_views.models import SavedView
from tests import factories


def save(client, page="contacts", name="My leads", query="kind=lead", shared=False, **kw):
    data = {"page": page, "name": name, "query": query, **kw}
    if shared:
        data["shared"] = "y"
    return client.post("/views", data=data, follow_redirects=True)


def views() -> list:
    from crm.extensions import db
    db.session.expire_all()
    return db.session.scalars(select(SavedView).order_by(SavedView.id)).all()


@pytest.mark.parametrize("page,query,url", [
    ("contacts", "kind=lead&owner=me&sort=newest", "/contacts"),
    ("inbox", "view=awaiting&platform=x", "/inbox"),
    ("board", "owner=none&platform=instagram", "/board"),
])
def test_save_the_filters_and_find_the_quick_link_on_the_page(auth, rep, db, page, query, url):
    ensure_default_pipelines()   # as migration 0025 seeds them: the board shows one
    db.session.commit()
    client = auth.login(rep)
    html = save(client, page=page, name="Mine", query=query).get_data(as_text=True)
    assert "View “Mine” saved." in html
    view, = views()
    assert (view.page, view.query, view.owner_id, view.shared) == (page, query, rep.id, False)
    html = client.get(f"{url}?{query}").get_data(as_text=True)
    assert f'href="{url}?{query.replace("&", "&amp;")}" aria-current="true">Mine</a>' in html
    # The filters to save are the page's own (the board's include the pipeline shown).
    assert f'{query.replace("&", "&amp;")}"' in html.split('name="query" value="')[1][:200]
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.entity_type == "saved_view", AuditEvent.action == "create")) == 1


def test_every_view_of_the_filters_shown_is_marked(auth, rep, db):
    client = auth.login(rep)
    save(client, name="Leads")
    save(client, name="Leads again")
    save(client, name="Influencers", query="kind=influencer")
    html = client.get("/contacts?kind=lead").get_data(as_text=True)
    assert html.count('aria-current="true">Leads') == 2
    assert 'aria-current="true">Influencers' not in html


def test_where_the_list_starts_is_not_saved(auth, rep, db):
    save(auth.login(rep), query="?tag=vip&after=abc")
    assert views()[0].query == "tag=vip"


@pytest.mark.parametrize("query,message", [
    ("kind=robot", "Kind: Not a valid choice."),
    ("sort=shoesize", "Sort: Not a valid choice."),
    ("owner=everyone", "Owner: Choose anyone, me, unassigned or a team member."),
    ("colour=blue", "“colour” is not a filter of the contacts list; nothing was saved."),
])
def test_bad_filters_are_refused_naming_the_field_and_nothing_is_saved(auth, rep, db, query,
                                                                        message):
    html = save(auth.login(rep), query=query).get_data(as_text=True)
    assert message in html
    assert views() == []


def test_names_are_required_and_unique_per_page(auth, rep, db):
    client = auth.login(rep)
    assert "Name: Name the view. Nothing was saved." in save(client, name="").get_data(as_text=True)
    save(client, name="Leads")
    html = save(client, name="Leads", query="kind=influencer").get_data(as_text=True)
    assert "There is already a view named “Leads” here." in html
    save(client, page="inbox", name="Leads", query="")     # another page: fine
    assert [v.page for v in views()] == ["contacts", "inbox"]


def test_a_private_view_is_the_owners_alone(auth, rep, other_rep, db):
    save(auth.login(rep), name="Private")
    view, = views()
    auth.logout()
    client = auth.login(other_rep)
    assert "Private" not in client.get("/contacts").get_data(as_text=True)
    for action in ("rename", "share", "delete"):
        assert client.post(f"/views/{view.id}/{action}", data={"name": "x"}).status_code == 404
    assert views()[0].name == "Private"


def test_a_shared_view_is_seen_by_all_and_edited_by_its_owner_or_an_admin(auth, rep, other_rep,
                                                                          admin, db):
    save(auth.login(rep), name="Team leads", shared=True)
    view, = views()
    auth.logout()
    client = auth.login(other_rep)
    html = client.get("/contacts").get_data(as_text=True)
    assert ">Team leads <span class=\"view-shared\">by Rae Rep</span></a>" in html
    html = client.post(f"/views/{view.id}/rename", data={"name": "Mine now"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Only the person who saved this view" in html and views()[0].name == "Team leads"
    assert "Rename" not in client.get("/views").get_data(as_text=True)
    auth.logout()
    client = auth.login(admin)
    html = client.post(f"/views/{view.id}/rename", data={"name": "Leads (all)"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Renamed “Leads (all)”." in html
    client.post(f"/views/{view.id}/delete")
    assert views() == []


def test_the_owner_renames_unshares_and_deletes(auth, rep, other_rep, db):
    client = auth.login(rep)
    save(client, name="Old", shared=True)
    view, = views()
    client.post(f"/views/{view.id}/rename", data={"name": "New"})
    client.post(f"/views/{view.id}/share", data={"shared": "0"})
    assert (views()[0].name, views()[0].shared) == ("New", False)
    html = client.post(f"/views/{view.id}/rename", data={"name": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "New name: Name the view." in html and views()[0].name == "New"
    html = client.get("/views").get_data(as_text=True)
    assert "New" in html and "Only you" in html
    client.post(f"/views/{view.id}/delete")
    assert views() == []


def test_the_strip_follows_filters_changed_in_place(auth, rep, db, hx):
    client = auth.login(rep)
    fragment = client.get("/contacts?kind=lead", headers={**hx, "HX-Target": "contact-results"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="saved-views"' in html and 'hx-swap-oob="true"' in html
    assert 'name="query" value="kind=lead"' in html
    html = client.get("/inbox?platform=x", headers={**hx, "HX-Target": "inbox-results"}).get_data(
        as_text=True)
    assert 'name="query" value="platform=x"' in html and "<html" not in html


def test_no_writes_on_get_and_posts_only(auth, rep, db):
    client = auth.login(rep)
    save(client)
    view, = views()
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    for url in ("/views", "/contacts", "/inbox", "/board"):
        assert client.get(url).status_code == 200
    for url in (f"/views/{view.id}/rename", f"/views/{view.id}/delete"):
        assert client.get(url).status_code == 405
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_the_manage_page_lists_own_and_shared_views(auth, rep, other_rep, db):
    save(auth.login(rep), name="Shared one", shared=True)
    auth.logout()
    client = auth.login(other_rep)
    save(client, page="board", name="My board", query="owner=me")
    html = client.get("/views").get_data(as_text=True)
    assert "Shared one" in html and "Shared by Rae Rep" in html and "My board" in html


def test_saving_needs_the_csrf_token(app, db, rep):
    from config import TestConfig
    from crm import create_app
    from crm.accounts import sessions

    csrf_app = create_app(type("C", (TestConfig,), {
        "WTF_CSRF_ENABLED": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}))
    client = csrf_app.test_client()
    secret = sessions.start(rep)
    db.session.commit()
    with client.session_transaction() as s:
        s["_user_id"] = secret
    with csrf_app.app_context():
        resp = client.post("/views", data={"page": "contacts", "name": "X", "query": ""})
        assert resp.status_code == 400
    assert views() == []


def test_clean_query_is_the_pages_own_form(db):
    assert clean_query("board", "pipeline=3&campaign=7") == "pipeline=3&campaign=7"
    with pytest.raises(Exception, match="Campaign: Choose a campaign"):
        clean_query("board", "campaign=spring")
    with pytest.raises(Exception, match="View: Not a valid choice"):
        clean_query("inbox", "view=everything")
