"""WhatsApp media files: a media message carries only Meta's media id; a job asks the Graph
API for the file's short-lived URL (`GET /<media-id>`), downloads it with the channel's
access token, checks its size and type, and keeps it in MEDIA_FOLDER. The thread shows an
image inline and anything else as a download link, both served through the policy
(crm.channels.media_views), never from a public URL; a file that could not be kept says
why in words on its message.
"""
import os
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from crm.channels import graph, services
from crm.channels.events import MediaRef
from crm.channels.models import Channel
from crm.conversations import ingest
from crm.conversations.models import (MEDIA_FAILED, MEDIA_PENDING, MEDIA_STORED, Message,
                                      MessageMedia)
from crm.extensions import db

# What WhatsApp sends for each kind (Meta's supported media types), and the file names kept.
ALLOWED = {
    "image": {"image/jpeg": ".jpg", "image/png": ".png"},
    "sticker": {"image/webp": ".webp"},
    "audio": {"audio/aac": ".aac", "audio/amr": ".amr", "audio/mpeg": ".mp3",
              "audio/mp4": ".m4a", "audio/ogg": ".ogg"},
    "video": {"video/mp4": ".mp4", "video/3gpp": ".3gp"},
    "document": {
        "application/pdf": ".pdf", "text/plain": ".txt", "application/msword": ".doc",
        "application/vnd.ms-excel": ".xls", "application/vnd.ms-powerpoint": ".ppt",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx"},
}
# Shown inline in the thread, once the bytes are seen to be what the type says.
INLINE = {"image/jpeg", "image/png", "image/webp"}
_MAGIC = {"image/jpeg": lambda b: b.startswith(b"\xff\xd8\xff"),
          "image/png": lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"),
          "image/webp": lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"}
EXPIRED_CODES = {100, 404, 131052, 131053}
KIND_WORDS = {"image": "image", "sticker": "sticker", "audio": "voice message",
              "video": "video", "document": "document"}


class MediaProblem(Exception):
    """The file cannot be kept; the message says why, in words."""


def folder() -> Path:
    return ingest.media_folder()


def limit_bytes() -> int:
    return int(current_app.config["WHATSAPP_MEDIA_MAX_MB"] * 1024 * 1024)


def attach(channel: Channel, message_id: int, ref: MediaRef) -> int | None:
    """The media row of a message just stored (created once, however often Meta retries);
    its id when a fetch should be queued, else None."""
    values = {"message_id": message_id, "channel_id": channel.id, "media_id": ref.media_id,
              "kind": ref.kind, "declared_type": (ref.mime_type or "")[:120] or None,
              "filename": ref.filename, "status": MEDIA_PENDING}
    make = postgresql.insert if db.session.connection().dialect.name == "postgresql" \
        else sqlite.insert
    inserted = db.session.execute(make(MessageMedia.__table__).values(**values)
                                  .on_conflict_do_nothing(index_elements=["message_id"])
                                  .returning(MessageMedia.__table__.c.id)).scalar()
    return inserted


def fetch(media_row_id: int) -> str:
    """Fetch, check and keep one file (the job); returns its status. Idempotent: a file
    already stored or failed is left as it is."""
    row = db.session.get(MessageMedia, media_row_id)
    if row is None or row.status != MEDIA_PENDING:
        return row.status if row else "gone"
    message = db.session.get(Message, row.message_id)
    if message is None or message.deleted_at is not None:
        db.session.delete(row)
        return "gone"
    channel = db.session.get(Channel, row.channel_id)
    try:
        info = graph.media_info(channel, row.media_id)
        limit = limit_bytes()
        if int(info.get("file_size") or 0) > limit:
            raise MediaProblem(_too_big(int(info["file_size"]), limit))
        data, served = graph.download(channel, info["url"], limit)
        if data is None:
            raise MediaProblem(_too_big(None, limit))
        content_type = _checked_type(row, served or info.get("mime_type"), data)
        name = f"{row.id}{ALLOWED[row.kind][content_type]}"
        _write(folder() / name, data)
    except MediaProblem as e:
        return _fail(row, str(e))
    except graph.GraphError as e:
        if e.token_revoked:
            services.mark_needs_reconnecting(channel, e.message)
        if e.code in EXPIRED_CODES:
            return _fail(row, "WhatsApp no longer has this file (it keeps media for 7 days); "
                              "ask them to send it again.")
        return _fail(row, "The file could not be fetched from WhatsApp: " + e.words)
    row.status, row.path, row.content_type, row.size, row.error = (
        MEDIA_STORED, name, content_type, len(data), None)
    return MEDIA_STORED


def _too_big(size: int | None, limit: int) -> str:
    mb = lambda n: f"{n / 1024 / 1024:.1f} MB"  # noqa: E731
    what = f"The file is {mb(size)}" if size else "The file is larger than the limit"
    return (f"{what}; Rapport keeps files up to {mb(limit)} (WHATSAPP_MEDIA_MAX_MB). "
            "Open it in WhatsApp.")


def _checked_type(row: MessageMedia, served: str | None, data: bytes) -> str:
    content_type = (served or "").split(";")[0].strip().lower()
    allowed = ALLOWED.get(row.kind, {})
    if content_type not in allowed:
        raise MediaProblem(f"The file's type ({content_type or 'none given'}) is not one Rapport "
                           f"keeps for a {KIND_WORDS.get(row.kind, row.kind)}; open it in "
                           "WhatsApp.")
    check = _MAGIC.get(content_type)
    if check is not None and not check(data[:16]):
        raise MediaProblem(f"The file is not the {content_type} it claims to be; it was not "
                           "kept.")
    return content_type


def _write(path: Path, data: bytes) -> None:
    """All or nothing: a temporary file renamed into place."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".fetching-")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _fail(row: MessageMedia, words: str) -> str:
    row.status, row.error = MEDIA_FAILED, words[:300]
    return MEDIA_FAILED


def files_of(message_ids) -> dict:
    """{message id: its media row} for the messages of a thread page (one query)."""
    ids = [i for i in message_ids if i is not None]
    if not ids:
        return {}
    return {r.message_id: r for r in db.session.scalars(_FILES_OF, {"ids": ids})}


# Asked by every page of a thread: built once, the page's message ids bound at each use.
_FILES_OF = select(MessageMedia).where(
    MessageMedia.message_id.in_(bindparam("ids", expanding=True)))


def is_inline(row: MessageMedia) -> bool:
    return row.status == MEDIA_STORED and row.content_type in INLINE


def stored_path(row: MessageMedia) -> Path | None:
    if row.status != MEDIA_STORED or not row.path:
        return None
    path = folder() / row.path
    return path if path.is_file() else None
