"""Statements kept per process under the values they are built from."""
from sqlalchemy import select

from crm.accounts.models import User
from crm.core import statements
from crm.core.memo import Memo


def test_a_statement_is_built_once_per_key_and_the_oldest_go(monkeypatch):
    monkeypatch.setattr(statements, "_kept", Memo(2))
    built = []

    def build(n):
        built.append(n)
        return select(User.id).where(User.id == n)

    first = statements.kept(("t", 1), lambda: build(1))
    assert statements.kept(("t", 1), lambda: build(1)) is first
    statements.kept(("t", 2), lambda: build(2))
    statements.kept(("t", 1), lambda: build(1))      # used: now the newest
    statements.kept(("t", 3), lambda: build(3))      # pushes out ("t", 2)
    statements.kept(("t", 1), lambda: build(1))
    statements.kept(("t", 2), lambda: build(2))
    assert built == [1, 2, 3, 2]
