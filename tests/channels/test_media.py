"""WhatsApp media: the worker fetches each file from the stand-in Graph API (a local
stand-in for Meta's servers: `GET /<media-id>`, then the URL with the access token), keeps
it in MEDIA_FOLDER, and the thread shows it through the policy; failures say why."""
import pytest
from sqlalchemy import func, select

from crm.channels import media, worker
from crm.channels.events import Deleted
from crm.conversations.models import Conversation, Message, MessageMedia
from crm.core.timeutil import utcnow
from crm.jobs.models import Job
from tests.channels.helpers import PHONE_NUMBER_ID, deliver, make_channel, payload
from tests.channels.standin import graph  # noqa: F401  (the fixture)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 100
PDF = b"%PDF-1.7\n" + b"x" * 300
PERSON = "16315551234"


@pytest.fixture(autouse=True)
def media_folder(app, tmp_path):
    old = app.config["MEDIA_FOLDER"]
    app.config["MEDIA_FOLDER"] = str(tmp_path / "media")
    yield tmp_path / "media"
    app.config["MEDIA_FOLDER"] = old


def _media_event(mid, kind, media_id, mime, *, caption=None, filename=None):
    obj = {"id": media_id, "mime_type": mime, "sha256": "abc"}
    if caption:
        obj["caption"] = caption
    if filename:
        obj["filename"] = filename
    stamp = str(int(utcnow().timestamp()) - 60)
    return {"object": "whatsapp_business_account", "entry": [{"id": "102000000000001", "changes": [
        {"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": PERSON}],
            "messages": [{"from": PERSON, "id": mid, "timestamp": stamp, "type": kind,
                          kind: obj}]}}]}]}


def _fetch_all(db):
    """What the held "channels.media" jobs do."""
    for row_id in db.session.scalars(select(MessageMedia.id).where(
            MessageMedia.status == "pending")).all():
        media.fetch(row_id)
        db.session.commit()
    db.session.expire_all()


def _file(db, mid):
    return db.session.scalar(select(MessageMedia).join(Message, Message.id == MessageMedia.message_id)
                             .where(Message.external_id == mid))


def test_image_and_sticker_are_fetched_stored_and_shown_inline(auth, manager, client, db, graph,
                                                                held_jobs, media_folder):
    graph.media["1003383421387256"] = (PNG, "image/png")
    graph.media["1003383421387257"] = (WEBP, "image/webp")
    channel = make_channel("whatsapp")
    db.session.commit()
    for _ in range(2):          # Meta retries: one file row, one fetch each
        deliver(client, db, channel, payload("whatsapp_media.json"))
    assert db.session.scalar(select(func.count()).select_from(MessageMedia)) == 2
    assert db.session.scalar(select(func.count()).select_from(Job)
                             .where(Job.task == "channels.media")) == 2
    _fetch_all(db)
    image = _file(db, "wamid.image0001")
    assert (image.status, image.content_type, image.size) == ("stored", "image/png", len(PNG))
    assert (media_folder / image.path).read_bytes() == PNG
    # Two steps, each with the channel's token: the media id, then its URL.
    gets = [(path, token) for method, path, _, token in graph.requests if method == "GET"]
    assert ("/v23.0/1003383421387256", "Bearer EAAG-access-token-for-tests-0001") in gets
    assert ("/files/1003383421387256", "Bearer EAAG-access-token-for-tests-0001") in gets
    conv = db.session.scalars(select(Conversation)).one()
    auth.login(manager)
    page = client.get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert f'<img class="msg-image" src="/media/{image.id}"' in page and "Our moodboard" in page
    served = client.get(f"/media/{image.id}")
    assert served.status_code == 200 and served.data == PNG
    assert served.mimetype == "image/png"
    assert "attachment" not in served.headers.get("Content-Disposition", "")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Cache-Control"] == "no-store"      # as every signed-in page
    served.close()


def test_a_document_is_a_download_and_only_for_who_may_see_the_conversation(
        auth, rep, other_rep, client, db, graph):
    graph.media["doc-1"] = (PDF, "application/pdf")
    channel = make_channel("whatsapp")
    db.session.commit()
    deliver(client, db, channel, _media_event("wamid.doc1", "document", "doc-1",
                                              "application/pdf", filename="Rates 2027.pdf"))
    _fetch_all(db)
    doc = _file(db, "wamid.doc1")
    conv = db.session.scalars(select(Conversation)).one()
    auth.login(rep)
    page = client.get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert f'href="/media/{doc.id}" download>Download Rates 2027.pdf</a>' in page
    served = client.get(f"/media/{doc.id}")
    assert served.data == PDF and served.mimetype == "application/pdf"
    assert served.headers["Content-Disposition"].startswith("attachment")
    served.close()
    conv.contact.owner_id = other_rep.id        # no longer the rep's to see
    db.session.commit()
    assert client.get(f"/media/{doc.id}").status_code == 404
    assert client.get("/media/999999").status_code == 404


def test_expired_media_and_a_file_too_big_say_so_on_the_message(auth, manager, client, db,
                                                                 graph, app):
    graph.expired.add("gone-1")
    graph.media["big-1"] = (b"\x00" * 5000, "video/mp4")
    graph.media["big-2"] = (b"\x00" * 5000, "audio/ogg; codecs=opus")
    graph.media_declared_size["big-2"] = 10         # announced small, streamed large
    app.config["WHATSAPP_MEDIA_MAX_MB"] = 2000 / 1024 / 1024
    channel = make_channel("whatsapp")
    db.session.commit()
    for mid, kind, media_id, mime in (("wamid.gone", "image", "gone-1", "image/jpeg"),
                                      ("wamid.big1", "video", "big-1", "video/mp4"),
                                      ("wamid.big2", "audio", "big-2", "audio/ogg")):
        deliver(client, db, channel, _media_event(mid, kind, media_id, mime))
    _fetch_all(db)
    gone, big1, big2 = (_file(db, m) for m in ("wamid.gone", "wamid.big1", "wamid.big2"))
    assert gone.status == "failed" and "no longer has this file" in gone.error
    assert big1.status == "failed" and "Rapport keeps files up to" in big1.error
    assert big2.status == "failed" and "larger than the limit" in big2.error
    assert not any(p.is_file() for p in (media.folder()).iterdir())
    # The stand-in was never asked for the big file announced as too big.
    assert ("GET", "/files/big-1") not in {(m, p) for m, p, _, _ in graph.requests}
    conv = db.session.scalars(select(Conversation)).one()
    auth.login(manager)
    page = client.get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert "File not kept: WhatsApp no longer has this file" in page
    assert page.count("File not kept:") == 3


def test_a_file_whose_type_or_bytes_do_not_match_is_not_kept(client, db, graph):
    graph.media["html-1"] = (b"<html><script>alert(1)</script></html>", "text/html")
    graph.media["fake-png"] = (b"<svg onload=alert(1)>", "image/png")
    channel = make_channel("whatsapp")
    db.session.commit()
    deliver(client, db, channel, _media_event("wamid.h1", "image", "html-1", "image/jpeg"))
    deliver(client, db, channel, _media_event("wamid.h2", "image", "fake-png", "image/png"))
    _fetch_all(db)
    assert "(text/html) is not one Rapport keeps for a image" in _file(db, "wamid.h1").error
    assert "not the image/png it claims" in _file(db, "wamid.h2").error


def test_a_deleted_media_message_loses_its_file(auth, manager, client, db, graph, media_folder):
    graph.media["img-9"] = (PNG, "image/png")
    channel = make_channel("whatsapp")
    db.session.commit()
    deliver(client, db, channel, _media_event("wamid.img9", "image", "img-9", "image/png"))
    _fetch_all(db)
    row = _file(db, "wamid.img9")
    assert (media_folder / row.path).is_file()
    conv = db.session.scalars(select(Conversation)).one()
    worker._mark_deleted(db.session.get(Conversation, conv.id), Deleted("wamid.img9", PERSON))
    db.session.commit()
    assert not (media_folder / row.path).exists()
    assert db.session.scalar(select(func.count()).select_from(MessageMedia)) == 0
    auth.login(manager)
    page = client.get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert "This message was deleted" in page and "/media/" not in page


def test_a_media_message_deleted_by_hand_loses_its_file(auth, manager, client, db, graph,
                                                        media_folder):
    """A manager deletes the message in Rapport: the row and, once that commits, the file."""
    graph.media["img-10"] = (PNG, "image/png")
    channel = make_channel("whatsapp")
    db.session.commit()
    deliver(client, db, channel, _media_event("wamid.img10", "image", "img-10", "image/png"))
    _fetch_all(db)
    row = _file(db, "wamid.img10")
    path = media_folder / row.path
    assert path.is_file()
    message_id = row.message_id
    auth.login(manager)
    response = client.post(f"/messages/{message_id}/delete")
    assert response.status_code in (200, 302, 303)
    db.session.expire_all()
    assert db.session.get(Message, message_id) is None
    assert db.session.scalar(select(func.count()).select_from(MessageMedia)) == 0
    assert not path.exists()


def test_a_delete_that_is_rolled_back_keeps_the_file(db, client, graph, media_folder):
    graph.media["img-11"] = (PNG, "image/png")
    channel = make_channel("whatsapp")
    db.session.commit()
    deliver(client, db, channel, _media_event("wamid.img11", "image", "img-11", "image/png"))
    _fetch_all(db)
    row = _file(db, "wamid.img11")
    path = media_folder / row.path
    from crm.conversations import ingest
    ingest.delete(db.session.get(Message, row.message_id))
    db.session.rollback()
    assert path.is_file()
    assert db.session.scalar(select(func.count()).select_from(MessageMedia)) == 1
