"""Helpers shared by the import tests: test data, uploads, hand-built exports, counts.

(It holds no tests; the name keeps it beside the import tests.)
"""
import io
import json
import re
import zipfile
from datetime import timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.contacts.models import ConsentEvent, Contact, SocialHandle
from crm.conversations.models import Conversation, Message
from crm.extensions import db
from crm.imports.dm_exports.parsers import open_export
from crm.tasks.models import Task

DATA = Path(__file__).parent / "imports" / "data"
FIXTURES = DATA / "samples"   # copies of ../shared/fixtures/dm_exports, checked by the parser tests
ME = "Alex Rivera"


@pytest.fixture(autouse=True)
def import_storage(app, tmp_path, monkeypatch):
    """Uploads wait in a temporary folder, not in the repository's instance/ folder.
    (Import this fixture into a test module to use it there.)"""
    monkeypatch.setitem(app.config, "IMPORT_STORAGE_DIR", str(tmp_path / "uploads"))
    yield


def zip_bytes(folder: Path) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    buf.seek(0)
    return buf


def upload_dm(client, path: Path, *, name: str | None = None, **form):
    """POST an export (a folder is zipped first) to the DM upload form."""
    if isinstance(path, (bytes, io.BytesIO)):
        data = path if isinstance(path, io.BytesIO) else io.BytesIO(path)
    elif path.is_dir():
        data, name = zip_bytes(path), name or f"{path.name}.zip"
    else:
        data, name = io.BytesIO(path.read_bytes()), name or path.name
    fields = {"tz": "UTC", "new_kind": "contact", **form, "file": (data, name)}
    return client.post("/imports/dm", data=fields, content_type="multipart/form-data")


def upload_csv(client, text: str | bytes, name: str = "contacts.csv", **form):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return client.post("/imports/csv", data={**form, "file": (io.BytesIO(raw), name)},
                       content_type="multipart/form-data")


def run_id(response) -> int:
    assert response.status_code == 302, response.data[:2000]
    fresh()
    return int(re.search(r"/imports/(\d+)", response.headers["Location"]).group(1))


def import_dm(client, path, *, me=ME, day_first=None, choices=None, **form) -> int:
    """Upload, answer the preview's questions, confirm; returns the run id."""
    rid = run_id(upload_dm(client, path, **form))
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    if "Who are you in this export?" in page and "named in the export" not in page:
        assert client.post(f"/imports/{rid}/me", data={"me": me}).status_code == 302
    if day_first is not None:
        client.post(f"/imports/{rid}/dates", data={"order": "day" if day_first else "month"})
    resp = client.post(f"/imports/{rid}/confirm", data=choices or {})
    assert resp.status_code == 302
    fresh()
    return rid


def fresh() -> None:
    """Forget what the session holds: test requests share it, and jobs commit in their own."""
    db.session.expire_all()


def parsed(path: Path, me: str | None = ME, day_first=None) -> list[tuple]:
    """What the parsers read: (sent_at naive UTC, direction, body, media) sorted."""
    out = []
    with open_export(path) as src:
        who = src.detected_me or me
        for thread in src.threads():
            for m in src.messages(thread, who, whatsapp_day_first=day_first):
                out.append((m.sent_at.astimezone(timezone.utc).replace(tzinfo=None),
                            "out" if m.is_outbound else "in", m.body, m.media))
    return sorted(out, key=lambda r: (r[0], r[1], r[2], r[3] or ""))


def stored() -> list[tuple]:
    rows = db.session.execute(select(Message.sent_at, Message.direction, Message.body,
                                     Message.media)).all()
    return sorted((tuple(r) for r in rows), key=lambda r: (r[0], r[1], r[2], r[3] or ""))


def counts() -> dict:
    def n(model):
        return db.session.scalar(select(func.count()).select_from(model))
    return {"contacts": n(Contact), "handles": n(SocialHandle), "conversations": n(Conversation),
            "messages": n(Message), "consent_events": n(ConsentEvent), "tasks": n(Task)}


def nothing_written() -> bool:
    c = counts()
    return c["contacts"] == c["conversations"] == c["messages"] == c["handles"] == 0


def audit_actions() -> list[str]:
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


# -- hand-built exports ---------------------------------------------------------------------
def meta_escape(text: str) -> str:
    """Meta's mojibake: each UTF-8 byte becomes its own \\u00XX code point."""
    return text.encode("utf-8").decode("latin-1")


def ig_message(sender: str, ms: int, content: str | None = None, **extra) -> dict:
    m = {"sender_name": meta_escape(sender), "timestamp_ms": ms}
    if content is not None:
        m["content"] = meta_escape(content)
    m.update(extra)
    return m


def ig_export(root: Path, threads: dict, owner: str | None = ME) -> Path:
    """A current-layout Instagram export: {folder: (title, [people], [messages oldest first])}."""
    for folder, (title, people, messages) in threads.items():
        target = root / "your_instagram_activity" / "messages" / "inbox" / folder
        target.mkdir(parents=True, exist_ok=True)
        doc = {"participants": [{"name": meta_escape(p)} for p in people],
               "messages": list(reversed(messages)), "title": meta_escape(title),
               "is_still_participant": True, "thread_path": f"inbox/{folder}",
               "magic_words": []}
        (target / "message_1.json").write_text(json.dumps(doc, ensure_ascii=True))
    if owner:
        info = root / "personal_information" / "personal_information"
        info.mkdir(parents=True, exist_ok=True)
        (info / "personal_information.json").write_text(json.dumps({"profile_user": [
            {"string_map_data": {"Name": {"value": meta_escape(owner)}}}]}))
    return root


def tiktok_export(path: Path, chats: dict, owner: str = "alex.rivera.photo") -> Path:
    """user_data_tiktok.json: {username: [(from, "YYYY-MM-DD HH:MM:SS", text)]}."""
    history = {f"Chat History with {user}:": [{"Date": d, "From": who, "Content": text}
                                              for who, d, text in msgs]
               for user, msgs in chats.items()}
    doc = {"Profile": {"Profile Information": {"ProfileMap": {"userName": owner}}},
           "Direct Message": {"Direct Messages": {"ChatHistory": history}}}
    path.write_text(json.dumps(doc))
    return path
