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
