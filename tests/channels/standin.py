"""A stand-in for Meta's Graph API: a small WSGI app on a local port that answers like the
Send and profile APIs and WhatsApp's media endpoints (`GET /<media-id>` gives a short-lived
URL on the stand-in itself, which serves the file only with the access token), and records
every request Rapport made. Tests use it in place of Meta's servers."""
import itertools
import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


class StandInGraph:
    def __init__(self, token: str = "EAAG-access-token-for-tests-0001"):
        self.token = token          # what the media URLs require
        self.requests = []          # (method, path, json body or None, authorization)
        self.fail_with = None       # an {"error": …} answer to give next, once
        self.profiles = {}          # person id → {"name": …, "username": …}
        # WhatsApp media id → (bytes, Content-Type served); ids not here are unknown (expired).
        self.media = {}
        self.media_declared_size = {}   # media id → the file_size GET /<media-id> announces
        self.expired = set()        # media ids Meta no longer knows (kept 7 days)
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
        elif request.method == "GET" and request.path.startswith("/files/"):
            return self._file(request, environ, start_response)
        elif request.method == "GET" and request.path.rsplit("/", 1)[-1] in self.media:
            media_id = request.path.rsplit("/", 1)[-1]
            data, content_type = self.media[media_id]
            answer = {"messaging_product": "whatsapp", "id": media_id,
                      "url": f"{request.host_url}files/{media_id}?ext=1",
                      "mime_type": content_type, "sha256": "0" * 64,
                      "file_size": self.media_declared_size.get(media_id, len(data))}
        elif request.method == "GET" and request.path.rsplit("/", 1)[-1] in self.expired:
            answer = {"error": {"code": 100, "type": "GraphMethodException",
                                "message": "Unsupported get request. Object does not exist."}}
            return Response(json.dumps(answer), status=400, content_type="application/json")(
                environ, start_response)
        elif request.method == "GET":
            person = request.path.rsplit("/", 1)[-1]
            answer = {"id": person, **self.profiles.get(person, {})}
        else:
            answer = {"error": {"code": 100, "message": "Unsupported request"}}
        return Response(json.dumps(answer), content_type="application/json")(
            environ, start_response)

    def _file(self, request, environ, start_response):
        """The media URL: the file, only with the channel's token (404 once gone)."""
        media_id = request.path.split("/")[2]
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return Response("no token", status=401)(environ, start_response)
        if media_id not in self.media:
            return Response("gone", status=404)(environ, start_response)
        data, content_type = self.media[media_id]
        return Response(data, content_type=content_type)(environ, start_response)

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
