"""Meta's Graph API: the Send API, the profile API and WhatsApp media, at META_GRAPH_URL."""
import json
import urllib.error
import urllib.parse
import urllib.request

from flask import current_app

from crm.channels import secrets
from crm.channels.models import WHATSAPP, Channel

TIMEOUT = 15
TOKEN_INVALID = 190   # "the access token is no longer valid": the channel must be reconnected


class GraphError(Exception):
    """The platform refused; `words` is what the user reads."""

    def __init__(self, code: int | None, message: str, *, subcode: int | None = None):
        super().__init__(message)
        self.code, self.subcode, self.message = code, subcode, message

    @property
    def token_revoked(self) -> bool:
        return self.code == TOKEN_INVALID

    @property
    def words(self) -> str:
        if self.token_revoked:
            return ("The platform no longer accepts this channel's access token; an admin "
                    "must reconnect it.")
        if self.code in (10, 2018278, 2534022) or self.subcode == 2018278 or \
                self.code == 131047:
            return ("The platform refused: the reply window has closed (" + self.message + ").")
        if self.code in (551, 2018001) or self.subcode == 1545041:
            return "The platform refused: this person cannot be reached (" + self.message + ")."
        if self.code is None:
            return "The platform could not be reached: " + self.message
        return f"The platform refused: {self.message} (code {self.code})."


def _call(channel: Channel, method: str, path: str, body: dict | None = None) -> dict:
    url = current_app.config["META_GRAPH_URL"].rstrip("/") + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": "Bearer " + secrets.decrypt(channel.access_token),
        "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            error = json.loads(e.read() or b"{}").get("error") or {}
        except ValueError:
            error = {}
        raise GraphError(error.get("code") or e.code, error.get("message") or str(e.reason),
                         subcode=error.get("error_subcode")) from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise GraphError(None, str(getattr(e, "reason", e))) from None


def send_text(channel: Channel, recipient_id: str, text: str, *, human_agent: bool = False,
              metadata: str | None = None) -> str:
    """Send a text reply; returns the platform's message id (mid / wamid)."""
    if channel.kind == WHATSAPP:
        answer = _call(channel, "POST", f"/{channel.phone_number_id}/messages", {
            "messaging_product": "whatsapp", "recipient_type": "individual",
            "to": recipient_id, "type": "text", "text": {"body": text, "preview_url": False}})
        return _whatsapp_id(answer)
    message = {"text": text}
    if metadata:
        message["metadata"] = metadata
    body = {"recipient": {"id": recipient_id}, "message": message,
            "messaging_type": "MESSAGE_TAG" if human_agent else "RESPONSE"}
    if human_agent:
        body["tag"] = "HUMAN_AGENT"
    answer = _call(channel, "POST", f"/{channel.account_id}/messages", body)
    if not answer.get("message_id"):
        raise GraphError(None, "the answer carried no message id")
    return str(answer["message_id"])


def send_template(channel: Channel, recipient_id: str, name: str, language: str,
                  params: list[str]) -> str:
    """Send an approved WhatsApp template with its body variables; returns the wamid."""
    template = {"name": name, "language": {"code": language}}
    if params:
        template["components"] = [{"type": "body", "parameters": [
            {"type": "text", "text": p} for p in params]}]
    answer = _call(channel, "POST", f"/{channel.phone_number_id}/messages", {
        "messaging_product": "whatsapp", "to": recipient_id, "type": "template",
        "template": template})
    return _whatsapp_id(answer)


def _whatsapp_id(answer: dict) -> str:
    messages = answer.get("messages") or []
    if not messages or not messages[0].get("id"):
        raise GraphError(None, "the answer carried no message id")
    return str(messages[0]["id"])


def profile(channel: Channel, person_id: str) -> dict:
    """Name and username of someone who wrote to the channel (Instagram, Messenger)."""
    fields = "name,username" if channel.kind == "instagram" else "first_name,last_name,name"
    answer = _call(channel, "GET", f"/{urllib.parse.quote(person_id)}?fields={fields}")
    name = answer.get("name") or " ".join(
        p for p in (answer.get("first_name"), answer.get("last_name")) if p)
    return {"name": name or None, "username": answer.get("username")}


def media_info(channel: Channel, media_id: str) -> dict:
    """WhatsApp: the short-lived URL (about 5 minutes), type and size of a media file."""
    answer = _call(channel, "GET", f"/{urllib.parse.quote(media_id)}")
    if not answer.get("url"):
        raise GraphError(None, "the answer carried no media URL")
    return answer


def download(channel: Channel, url: str, limit: int) -> tuple[bytes | None, str | None]:
    """The file at a media URL, fetched with the access token: (bytes, Content-Type), or
    (None, type) when it is larger than `limit` bytes (nothing more is read)."""
    request = urllib.request.Request(url, headers={
        "Authorization": "Bearer " + secrets.decrypt(channel.access_token)})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            served = response.headers.get("Content-Type")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limit:
                return None, served
            data = response.read(limit + 1)
            return (None if len(data) > limit else data), served
    except urllib.error.HTTPError as e:
        raise GraphError(404 if e.code in (404, 410) else e.code, str(e.reason)) from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise GraphError(None, str(getattr(e, "reason", e))) from None
