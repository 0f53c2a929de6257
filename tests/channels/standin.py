"""A stand-in for Meta's Graph API: a small WSGI app on a local port that answers like the
Send and profile APIs and records every request Rapport made."""
import itertools
import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


class StandInGraph:
    def __init__(self):
        self.requests = []          # (method, path, json body or None, authorization)
        self.fail_with = None       # an {"error": …} answer to give next, once
        self.profiles = {}          # person id → {"name": …, "username": …}
        self._ids = itertools.count(1)
        self._server = None

    # the WSGI app ------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_json(silent=True)
        self.requests.append((request.method, request.path, body,
                              request.headers.get("Authorization")))
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            return Response(json.dumps(error), status=400,
                            content_type="application/json")(environ, start_response)
        if request.method == "POST" and request.path.endswith("/messages"):
            n = next(self._ids)
            if (body or {}).get("messaging_product") == "whatsapp":
                answer = {"messaging_product": "whatsapp",
                          "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                          "messages": [{"id": f"wamid.standin{n:04d}"}]}
            else:
                answer = {"recipient_id": body["recipient"]["id"], "message_id": f"m_standin{n:04d}"}
        elif request.method == "GET":
            person = request.path.rsplit("/", 1)[-1]
            answer = {"id": person, **self.profiles.get(person, {})}
        else:
            answer = {"error": {"code": 100, "message": "Unsupported request"}}
        return Response(json.dumps(answer), content_type="application/json")(
            environ, start_response)

    # running it ----------------------------------------------------------------------
    def start(self) -> str:
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_port}/v23.0"

    def stop(self):
        if self._server is not None:
            self._server.shutdown()

    @property
    def sent(self):
        """The messages Rapport sent, as posted."""
        return [body for method, path, body, _ in self.requests
                if method == "POST" and path.endswith("/messages")]


TOKEN_EXPIRED = {"error": {"message": "Error validating access token: Session has expired.",
                           "type": "OAuthException", "code": 190, "error_subcode": 463}}
OUTSIDE_WINDOW = {"error": {"message": "(#10) This message is sent outside of allowed window.",
                            "type": "OAuthException", "code": 10, "error_subcode": 2018278}}


@pytest.fixture
def graph(app):
    """The stand-in, started for one test, with META_GRAPH_URL pointing at it."""
    standin = StandInGraph()
    old, app.config["META_GRAPH_URL"] = app.config["META_GRAPH_URL"], standin.start()
    yield standin
    app.config["META_GRAPH_URL"] = old
    standin.stop()
