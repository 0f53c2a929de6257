"""Errors as problem documents (RFC 9457, application/problem+json): a title, the status, a
detail a person can act on, and for bad input the fields at fault."""
from flask import Response, current_app, json, request
from werkzeug.exceptions import HTTPException, NotFound

MEDIA_TYPE = "application/problem+json"
TITLES = {400: "Bad request", 401: "Not signed in", 403: "Forbidden", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Body too large",
          415: "Unsupported media type", 422: "Invalid input", 429: "Too many requests",
          500: "Server error"}


def problem(status: int, detail: str | None = None, *, title: str | None = None,
            errors: list[dict] | None = None, headers: dict | None = None,
            **extra) -> Response:
    """A problem document: `errors` lists {"field": …, "detail": …} for bad input."""
    body = {"type": "about:blank", "title": title or TITLES.get(status, "Error"),
            "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(messages, location: str = "json") -> list[dict]:
    """Marshmallow's nested messages as a flat list naming each field by its path
    ("messages.0.body"); the location ("json", "query") is left out of the path."""
    out: list[dict] = []

    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, [*path, str(key)])
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            for text in value:
                out.append({"field": ".".join(path) or None, "detail": text})
        elif isinstance(value, (list, tuple)):
            for inner in value:
                walk(inner, path)
        else:
            out.append({"field": ".".join(path) or None, "detail": str(value)})

    if isinstance(messages, dict) and set(messages) <= {"json", "query", "path", "headers",
                                                        "form", "files", "cookies"}:
        for where, inner in messages.items():
            walk(inner, [] if where == "json" else [where])
    else:
        walk(messages, [])
    return out


def from_http_exception(e: HTTPException) -> Response:
    """A problem document for an HTTP error raised while answering an API request."""
    messages = (getattr(e, "data", None) or {}).get("messages")
    if e.code == 400 and messages:          # webargs: the body is not JSON
        return problem(400, "The body is not valid JSON.",
                       errors=[{"field": None, "detail": "The body is not valid JSON."}])
    if e.code == 413:
        limit = current_app.config["API_MAX_BODY_BYTES"]
        return problem(413, f"The body is larger than {limit:,} bytes; send fewer messages "
                            "at a time.")
    if e.code == 404:
        said = e.description if e.description != NotFound.description else None
        return problem(404, said or "There is no such record, or it is not yours to see.")
    headers = {k: v for k, v in e.get_headers() if k.lower() != "content-type"}
    return problem(e.code or 500, e.description, headers=headers)
