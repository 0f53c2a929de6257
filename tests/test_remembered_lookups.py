"""Small tables every write reads — the settings and the enabled webhook endpoints — are
remembered across requests in the figure cache (crm.core.cache.remember), forgotten when a
change to them commits, and never taken from the cache by the transaction changing them."""
import pytest

from crm.conversations import services as dms
from crm.core import cache
from crm.settings import services as settings
from crm.webhooks import addresses, outbox, services as webhooks
from crm.webhooks.models import WebhookDelivery
from tests import factories


def _statements_for(count_queries, read):
    with count_queries() as q:
        read()
    return [s for s in q.statements if "FROM settings" in s or "FROM webhook_endpoints" in s]


def test_settings_are_read_once_then_remembered_until_a_change_commits(app, db, remembering,
                                                                      count_queries):
    settings.put("response_target_hours", 12)
    db.session.commit()
    assert settings.get("response_target_hours") == 12
    db.session.commit()          # the next request: a new transaction
    assert _statements_for(count_queries, lambda: settings.get("response_target_hours")) == []
    db.session.commit()

    settings.put("response_target_hours", 6)
    # The transaction that changed them reads its own value, not the remembered one.
    assert settings.get("response_target_hours") == 6
    db.session.commit()
    assert settings.get("response_target_hours") == 6


def test_a_rolled_back_change_of_the_settings_is_not_remembered(app, db, remembering):
    settings.put("response_target_hours", 12)
    db.session.commit()
    settings.put("response_target_hours", 3)
    assert settings.get("response_target_hours") == 3
    db.session.rollback()
    assert settings.get("response_target_hours") == 12
    db.session.commit()
    assert settings.get("response_target_hours") == 12


def test_a_figure_read_after_a_change_in_its_transaction_is_not_kept(app, db, remembering):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    db.session.connection()      # a transaction under way, which changes the deals
    cache.changed(db.session, "deals")
    assert cache.remember("probe", (), compute, reads=("deals",)) == 1
    db.session.rollback()        # the change never happened: nothing of it may be kept
    assert cache.remember("probe", (), compute, reads=("deals",)) == 2
    assert cache.remember("probe", (), compute, reads=("deals",)) == 2


def test_an_endpoint_added_is_seen_by_the_next_dm(app, db, remembering, admin, rep,
                                                  count_queries):
    contact = factories.ContactFactory(owner_id=rep.id)
    db.session.commit()
    dms.log_message(rep, contact, platform="instagram", direction="in", body="Hi there")
    db.session.commit()
    assert db.session.query(WebhookDelivery).count() == 0
    # Nothing changed: the next DM reads no endpoints.
    assert _statements_for(count_queries, lambda: outbox._endpoints()) == []
    db.session.rollback()

    webhooks.register(admin, url="https://hooks.example.com/rapport",
                      events=["message.received"])
    db.session.commit()
    dms.log_message(rep, contact, platform="instagram", direction="in", body="Still there?")
    db.session.commit()
    assert db.session.query(WebhookDelivery).count() == 1


def test_a_page_of_text_messages_asks_for_no_media_files(auth, rep, db, count_queries):
    contact = factories.ContactFactory(owner_id=rep.id)
    db.session.commit()
    dms.log_message(rep, contact, platform="instagram", direction="in", body="Hello")
    db.session.commit()
    client = auth.login(rep)
    with count_queries() as q:
        assert client.get(f"/contacts/{contact.id}").status_code == 200
    assert not [s for s in q.statements if "message_media.message_id IN" in s]


@pytest.fixture(autouse=True)
def _public_address(monkeypatch):
    """The endpoint's host resolves to a public address (deliveries are only queued here)."""
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14"])
