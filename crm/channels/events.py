"""Meta's webhook payloads turned into plain records: what happened, in Rapport's words.

Pure functions (no database): one payload gives a list of DM, Deleted and Receipt records,
whatever the platform and whether the event came as `messaging`, `standby` or `changes`.
Reactions, postbacks and referrals are not messages and give nothing.
"""
from dataclasses import dataclass, field
from datetime import datetime, timezone

from crm.channels.models import WHATSAPP
from crm.conversations.models import INBOUND as IN
from crm.conversations.models import OUTBOUND as OUT


@dataclass(frozen=True)
class DM:
    """A message, received (in) or sent by the business from anywhere (out, an echo)."""
    external_id: str
    direction: str
    person_id: str          # the contact's platform-scoped id (IGSID, PSID, wa_id)
    sent_at: datetime
    body: str = ""
    media: str | None = None
    person_name: str | None = None
    person_user_id: str | None = None   # WhatsApp's business-scoped user id, when given
    metadata: str | None = None          # what Rapport attached when it sent the message
    account: str | None = None           # the business account it came for (routing)
    file: "MediaRef | None" = None       # WhatsApp: the media file to fetch


@dataclass(frozen=True)
class MediaRef:
    """A WhatsApp media file as the webhook names it: fetched later by its id."""
    media_id: str
    kind: str                      # image | audio | video | document | sticker
    mime_type: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class Deleted:
    """The sender deleted (unsent) a message: theirs (in) or, as an echo, the business's."""
    external_id: str
    person_id: str
    account: str | None = None
    direction: str = IN
    at: datetime | None = None


@dataclass(frozen=True)
class Receipt:
    """Delivery news about messages we sent: by ids, or everything up to a watermark."""
    status: str                       # sent | delivered | read | failed
    person_id: str
    at: datetime
    external_ids: tuple = ()
    watermark: datetime | None = None
    error: str | None = None
    account: str | None = None


@dataclass
class Parsed:
    records: list = field(default_factory=list)
    ignored: int = 0


def _ms(value) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, timezone.utc).replace(tzinfo=None)


def _seconds(value) -> datetime:
    return datetime.fromtimestamp(int(value), timezone.utc).replace(tzinfo=None)


def parse(kind: str, payload: dict) -> Parsed:
    out = Parsed()
    for entry in payload.get("entry") or ():
        if kind == WHATSAPP:
            for change in entry.get("changes") or ():
                _whatsapp_change(change, out)
            continue
        for item in (entry.get("messaging") or []) + (entry.get("standby") or []):
            _messaging(item, entry, out)
        for change in entry.get("changes") or ():
            # The app dashboard's test events: one messaging item under field "messages".
            if change.get("field") == "messages" and isinstance(change.get("value"), dict):
                _messaging(change["value"], entry, out)
            else:
                out.ignored += 1
    return out


# Instagram and Messenger -----------------------------------------------------------------
_ATTACHMENT_MEDIA = {"image": "photo", "video": "video", "audio": "audio", "file": "file",
                     "share": "share", "ig_reel": "share", "reel": "share", "template": "share",
                     "fallback": "share", "animated_image": "gif", "sticker": "sticker",
                     "story_mention": "media", "ig_post": "share", "location": "media"}


def _attachment_text(attachments: list) -> tuple[str | None, str]:
    media, lines = None, []
    for a in attachments:
        kind = a.get("type") or "file"
        payload = a.get("payload") or {}
        url = payload.get("url") or a.get("url") or ""
        if kind == "image" and payload.get("sticker_id"):
            kind = "sticker"
        media = media or _ATTACHMENT_MEDIA.get(kind, "media")
        if kind == "story_mention":
            lines.append("Mentioned you in their story" + (f": {url}" if url else ""))
        elif kind in ("share", "ig_reel", "reel", "ig_post", "template", "fallback"):
            title = payload.get("title") or a.get("title")
            lines.append(" — ".join(p for p in (title, url) if p) or "Shared a post")
        elif kind == "location":
            c = payload.get("coordinates") or {}
            lines.append(f"Location: {c.get('lat')}, {c.get('long')}")
    return media, "\n".join(lines)


def _messaging(item: dict, entry: dict, out: Parsed) -> None:
    if not isinstance(item, dict):
        out.ignored += 1
        return
    account = str(entry.get("id") or "") or None
    sender = str((item.get("sender") or {}).get("id") or "")
    recipient = str((item.get("recipient") or {}).get("id") or "")
    at = _ms(item.get("timestamp") or entry.get("time") or 0)
    message = item.get("message")
    if isinstance(message, dict) and message.get("mid"):
        echo = bool(message.get("is_echo"))
        person = recipient if echo else sender
        if message.get("is_deleted"):
            out.records.append(Deleted(str(message["mid"]), person, account,
                                       OUT if echo else IN, at))
            return
        media, extra = _attachment_text(message.get("attachments") or [])
        text = message.get("text") or ""
        reply = message.get("reply_to") or {}
        if reply.get("story"):
            story = reply["story"].get("url") or ""
            text = f"Replied to your story{': ' + story if story else ''}\n{text}".strip()
        if message.get("is_unsupported") and not text and not extra:
            text = "A message Rapport cannot show (open it in the app)."
        body = "\n".join(p for p in (text, extra) if p)
        if not body and not media:
            body = "A message Rapport cannot show (open it in the app)."
        out.records.append(DM(str(message["mid"]), OUT if echo else IN, person, at, body,
                              media, metadata=message.get("metadata"), account=account))
    elif isinstance(item.get("read"), dict):
        read = item["read"]
        ids = (str(read["mid"]),) if read.get("mid") else ()
        mark = _ms(read["watermark"]) if read.get("watermark") else None
        out.records.append(Receipt("read", sender, at, ids, mark, account=account))
    elif isinstance(item.get("delivery"), dict):
        d = item["delivery"]
        mark = _ms(d["watermark"]) if d.get("watermark") else None
        out.records.append(Receipt("delivered", sender, at,
                                   tuple(str(m) for m in d.get("mids") or ()), mark,
                                   account=account))
    else:
        out.ignored += 1   # reaction, postback, referral, optin …


# WhatsApp ----------------------------------------------------------------------------------
_WA_MEDIA = {"image": "photo", "video": "video", "audio": "audio", "document": "file",
             "sticker": "sticker"}


def _wa_file(m: dict) -> MediaRef | None:
    kind = m.get("type")
    obj = m.get(kind) if isinstance(m.get(kind), dict) else {}
    if kind not in _WA_MEDIA or not obj.get("id"):
        return None
    filename = obj.get("filename")
    return MediaRef(str(obj["id"])[:200], kind, (obj.get("mime_type") or None),
                    str(filename)[:255] if filename else None)


def _wa_body(m: dict) -> tuple[str, str | None]:
    kind = m.get("type")
    obj = m.get(kind) if isinstance(m.get(kind), dict) else {}
    if kind == "text":
        return obj.get("body") or "", None
    if kind in _WA_MEDIA:
        return obj.get("caption") or obj.get("filename") or "", _WA_MEDIA[kind]
    if kind == "location":
        where = ", ".join(p for p in (obj.get("name"), obj.get("address")) if p)
        return f"Location: {where or ''} ({obj.get('latitude')}, {obj.get('longitude')})", None
    if kind == "contacts":
        names = [(c.get("name") or {}).get("formatted_name") or "a contact"
                 for c in m.get("contacts") or []]
        return "Shared a contact: " + ", ".join(names), None
    if kind == "interactive":
        reply = obj.get("button_reply") or obj.get("list_reply") or {}
        return reply.get("title") or "", None
    if kind == "button":
        return obj.get("text") or "", None
    return "A message Rapport cannot show (open it in the app).", None


def _whatsapp_change(change: dict, out: Parsed) -> None:
    value = change.get("value") if isinstance(change.get("value"), dict) else {}
    field_name = change.get("field")
    if field_name not in ("messages", "smb_message_echoes"):
        out.ignored += 1
        return
    # One app may serve several numbers: the number it came for routes it.
    account = str((value.get("metadata") or {}).get("phone_number_id") or "") or None
    people = {str(c.get("wa_id")): c for c in value.get("contacts") or [] if c.get("wa_id")}
    for m in value.get("messages") or []:
        if m.get("type") in ("reaction", "system", "ephemeral", "request_welcome"):
            out.ignored += 1
            continue
        person = str(m.get("from") or "")
        who = people.get(person) or {}
        body, media = _wa_body(m)
        out.records.append(DM(str(m["id"]), IN, person, _seconds(m.get("timestamp") or 0),
                              body, media, person_name=(who.get("profile") or {}).get("name"),
                              person_user_id=who.get("user_id"), account=account,
                              file=_wa_file(m)))
    for m in value.get("message_echoes") or []:
        body, media = _wa_body(m)
        out.records.append(DM(str(m["id"]), OUT, str(m.get("to") or ""),
                              _seconds(m.get("timestamp") or 0), body, media, account=account,
                              file=_wa_file(m)))
    for s in value.get("statuses") or []:
        errors = s.get("errors") or []
        error = None
        if errors:
            e = errors[0]
            detail = (e.get("error_data") or {}).get("details") or e.get("message")
            error = " — ".join(str(p) for p in (e.get("title"), detail) if p)
            if e.get("code"):
                error += f" (code {e['code']})"
        out.records.append(Receipt(str(s.get("status")), str(s.get("recipient_id") or ""),
                                   _seconds(s.get("timestamp") or 0), (str(s.get("id")),),
                                   error=error, account=account))
