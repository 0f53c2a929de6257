"""Row links built once per page (crm/core/links.py) match url_for."""
import pytest
from flask import url_for

from crm.core.links import RowUrl, local_path


def test_row_url_matches_url_for(app):
    with app.test_request_context():
        thread = RowUrl("contacts.show", "contact_id", "conversation", _anchor="conversations")
        assert thread(5, 70) == url_for("contacts.show", contact_id=5, conversation=70,
                                        _anchor="conversations")
        close = RowUrl("conversations.close", "conversation_id")
        assert [close(1), close(22)] == [url_for("conversations.close", conversation_id=i)
                                         for i in (1, 22)]


def test_row_url_takes_only_integers(app):
    with app.test_request_context():
        close = RowUrl("conversations.close", "conversation_id")
        with pytest.raises(ValueError):
            close("1/../../admin")


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/", "/\\evil.test/",
                                    "/\t/evil.test/", "javascript:alert(1)", "inbox", ""])
def test_next_never_leaves_the_site(target):
    assert local_path(target, "/home") == "/home"


def test_next_keeps_a_local_path_with_its_query():
    assert local_path("/inbox?view=awaiting&page=2", "/home") == "/inbox?view=awaiting&page=2"


def test_a_bulk_action_with_a_backslash_next_goes_back_to_the_list(auth, rep, db):
    """Browsers read "/\\evil.test" as "//evil.test": the bulk bar's `next` must not send
    anyone there (it did, as did the inbox's, tasks' and deals' copies of the check)."""
    response = auth.login(rep).post("/bulk/inbox", data={
        "scope": "selected", "action": "close", "next": "/\\evil.test/"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/inbox")
