"""API fixtures: a personal token for a user, and a client that sends it."""
import pytest

from crm.accounts import tokens
from crm.extensions import db


def make_token(user, **kwargs) -> str:
    """A working token for `user` (committed, so the request's own connection sees it)."""
    made = tokens.create_token(user, user, kwargs.pop("name", "test"), **kwargs)
    db.session.commit()
    return made.secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


class Api:
    """The test client with one user's token on every request."""

    def __init__(self, client, secret: str):
        self.client = client
        self.headers = bearer(secret)

    def get(self, url, **kwargs):
        return self.client.get(url, headers=self.headers, **kwargs)

    def post(self, url, json=None, **kwargs):
        return self.client.post(url, json=json, headers=self.headers, **kwargs)

    def patch(self, url, json=None, **kwargs):
        return self.client.patch(url, json=json, headers=self.headers, **kwargs)


@pytest.fixture
def api_as(client):
    """`api_as(user)`: a client acting as `user` through a token of theirs."""
    def make(user, **kwargs):
        return Api(client, make_token(user, **kwargs))
    return make
