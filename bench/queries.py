"""SQL statements per request, counted in-process: the Flask test client against the same
database, with a listener on the engine (as the tests' count_queries fixture does)."""
from sqlalchemy import event

from crm.extensions import db

SKIPPED = ("SAVEPOINT", "RELEASE", "ROLLBACK")


def signed_in_client(app, session_secret: str):
    """A test client in the session whose secret crm.accounts.sessions.start returned."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_secret
        session["_fresh"] = True
    return client


def count(app, client, method: str, path: str, form: dict | None = None,
          headers: dict | None = None) -> tuple[int, int]:
    """(statements, HTTP status) of one request."""
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(SKIPPED):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        resp = client.open(path, method=method, data=form, headers=headers or {})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements), resp.status_code
