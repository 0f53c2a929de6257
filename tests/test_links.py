"""Row links built once per page (crm/core/links.py) match url_for."""
import pytest
from flask import url_for

from crm.core.links import RowUrl


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
