"""Every GET of the API, with a token, writes nothing but the token's last use (the same
detector as tests/test_no_writes_on_get.py)."""
from flask import url_for

from tests.api.test_api_resources import world  # noqa: F401 (fixture)
from tests.test_no_writes_on_get import writes  # noqa: F401 (fixture)


def test_no_api_get_writes(app, world, rep, manager, api_as, writes):  # noqa: F811
    ids = {"contact_id": world["mine"]["contact"], "conversation_id":
           world["mine"]["conversation"], "deal_id": world["mine"]["deal"],
           "task_id": world["mine"]["task"], "campaign_id": world["campaign"]}
    extra = {"api.deals": {"stage": world["mine"]["stage"]}}
    with app.test_request_context():
        urls = [(rule.endpoint, url_for(rule.endpoint, **{a: ids[a] for a in rule.arguments},
                                        **extra.get(rule.endpoint, {})))
                for rule in app.url_map.iter_rules()
                if rule.endpoint.startswith("api.") and "GET" in rule.methods]
    assert len(urls) >= 12
    for user in (rep, manager):
        api = api_as(user)
        for endpoint, url in urls:
            writes.endpoint = endpoint
            try:
                resp = api.get(url)
            finally:
                writes.endpoint = None
            assert resp.status_code == 200, (url, resp.json)
    assert writes.found == [], "\n".join(f"{e}: {s}" for e, s in writes.found)
