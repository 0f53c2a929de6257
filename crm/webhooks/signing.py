"""The signature every delivery carries, as Stripe signs its webhooks: an HMAC-SHA256,
keyed with the endpoint's secret, of the timestamp, a dot and the raw body.

    Rapport-Timestamp: 1767225600
    Rapport-Signature: v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

The README shows how a receiver checks it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

SCHEME = "v1"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def headers(secret: str, timestamp: int, body: bytes, *, event_id: str,
            event_type: str, delivery_id: int) -> dict[str, str]:
    return {"Content-Type": "application/json",
            "User-Agent": "Rapport-Webhooks/1",
            "Rapport-Event-Id": event_id,
            "Rapport-Event-Type": event_type,
            "Rapport-Delivery-Id": str(delivery_id),
            "Rapport-Timestamp": str(timestamp),
            "Rapport-Signature": f"{SCHEME}={signature(secret, timestamp, body)}"}
