"""Channels for tests, and Meta's signed deliveries as recorded payloads."""
import json
from pathlib import Path

from crm.channels import services
from crm.channels.receiving import signature_of

PAYLOADS = Path(__file__).parent / "payloads"
APP_SECRET = "app-secret-0123456789abcdef"
VERIFY_TOKEN = "verify-token-for-tests"
ACCESS_TOKEN = "EAAG-access-token-for-tests-0001"
IDS = {"instagram": "17841400000000001", "messenger": "106000000000001",
       "whatsapp": "102000000000001"}
PHONE_NUMBER_ID = "109000000000001"


def make_channel(kind="instagram", name=None, **extra):
    return services.add_channel(
        None, kind=kind, name=name or f"Brand {kind}", app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN, access_token=ACCESS_TOKEN, account_id=IDS[kind],
        phone_number_id=PHONE_NUMBER_ID if kind == "whatsapp" else None, **extra)


def payload(name: str) -> bytes:
    """A recorded payload, as bytes exactly as stored (escapes and emoji untouched)."""
    return (PAYLOADS / name).read_bytes()


def post_signed(client, channel, body, secret=APP_SECRET, **headers):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return client.post(f"/webhooks/meta/{channel.key}", data=body,
                       headers={"X-Hub-Signature-256": signature_of(secret, body),
                                "Content-Type": "application/json", **headers})


def run_worker(db):
    """Process every stored event as the worker does."""
    from crm.channels import worker

    return worker.drain(idle_wait=0)


def deliver(client, db, channel, body):
    """Meta posts a signed event and the worker processes it."""
    response = post_signed(client, channel, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    run_worker(db)
    return response


def dm_event(kind, person, mid, text, *, at, echo=False, account=None):
    """A one-message event of the given kind, `at` a naive UTC datetime."""
    from datetime import timezone
    account = account or IDS[kind]
    stamp = int(at.replace(tzinfo=timezone.utc).timestamp())
    if kind == "whatsapp":
        value = {"messaging_product": "whatsapp",
                 "metadata": {"display_phone_number": "15550001111",
                              "phone_number_id": PHONE_NUMBER_ID}}
        if echo:
            value["message_echoes"] = [{"from": "15550001111", "to": person, "id": mid,
                                        "timestamp": str(stamp), "type": "text",
                                        "text": {"body": text}}]
            field = "smb_message_echoes"
        else:
            value["contacts"] = [{"profile": {"name": "Kerry Fisher"}, "wa_id": person}]
            value["messages"] = [{"from": person, "id": mid, "timestamp": str(stamp),
                                  "type": "text", "text": {"body": text}}]
            field = "messages"
        return {"object": "whatsapp_business_account",
                "entry": [{"id": account, "changes": [{"field": field, "value": value}]}]}
    message = {"mid": mid, "text": text}
    if echo:
        message["is_echo"] = True
    sender, recipient = (account, person) if echo else (person, account)
    return {"object": "instagram" if kind == "instagram" else "page",
            "entry": [{"id": account, "time": stamp * 1000, "messaging": [
                {"sender": {"id": sender}, "recipient": {"id": recipient},
                 "timestamp": stamp * 1000, "message": message}]}]}


def events_received(db, pending: bool = False) -> int:
    """Events acknowledged so far (`pending`: not applied yet): stored for the worker
    (channel_events) or, on SQLite, still in the spool it moves them from."""
    from sqlalchemy import func, select

    from crm.channels import spool
    from crm.channels.models import ChannelEvent

    query = select(func.count()).select_from(ChannelEvent)
    if pending:
        query = query.where(ChannelEvent.status == "pending")
    stored = db.session.scalar(query)
    return stored + (spool.waiting() if spool.enabled() else 0)


def latest_event_id(db) -> int:
    """The id of the newest stored event, once the worker's first step has moved what the
    spool holds (SQLite) into channel_events."""
    from sqlalchemy import func, select

    from crm.channels import spool
    from crm.channels.models import ChannelEvent

    if spool.enabled():
        spool.move_in()
    return db.session.scalar(select(func.max(ChannelEvent.id)))

