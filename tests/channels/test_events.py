"""Meta's payloads (recorded from the documented examples) as plain records."""
import json

from crm.channels.events import DM, Deleted, Receipt, parse
from tests.channels.helpers import payload


def _parse(kind, name):
    return parse(kind, json.loads(payload(name)))


def test_instagram_text_keeps_emoji_and_escaped_unicode():
    [dm] = _parse("instagram", "instagram_text.json").records
    assert isinstance(dm, DM) and dm.direction == "in" and dm.person_id == "1200000000000001"
    assert dm.body == "Hi! Love your work 😍 — are you open to a collab? Café at 5?"
    assert dm.sent_at.year == 2025 and dm.external_id.startswith("aWdf")


def test_echo_is_outbound_to_the_recipient():
    [dm] = _parse("instagram", "instagram_echo.json").records
    assert dm.direction == "out" and dm.person_id == "1200000000000001"


def test_instagram_attachments_story_replies_mentions_shares_unsupported_stickers():
    records = _parse("instagram", "instagram_attachments.json").records
    by_id = {r.external_id: r for r in records}
    assert by_id["ig-mid-image"].media == "photo"
    assert by_id["ig-mid-story-mention"].body.startswith("Mentioned you in their story")
    assert by_id["ig-mid-story-reply"].body.startswith("Replied to your story")
    assert by_id["ig-mid-story-reply"].body.endswith("So good!")
    assert by_id["ig-mid-share"].media == "share" and "instagram.com/p/" in \
        by_id["ig-mid-share"].body
    assert "cannot show" in by_id["ig-mid-unsupported"].body
    assert by_id["ig-mid-sticker"].media == "sticker"


def test_reactions_are_not_messages_and_read_is_a_receipt():
    parsed = _parse("instagram", "instagram_reaction_read.json")
    assert parsed.ignored == 1
    [receipt] = parsed.records
    assert isinstance(receipt, Receipt) and receipt.status == "read"
    assert receipt.external_ids == ("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAy",)


def test_deleted_message():
    [record] = _parse("instagram", "instagram_deleted.json").records
    assert isinstance(record, Deleted) and record.person_id == "1200000000000001"


def test_dashboard_test_event_under_changes():
    [dm] = _parse("instagram", "instagram_dashboard_test.json").records
    assert dm.body == "random_text" and dm.person_id == "12334" and dm.external_id == "random_mid"


def test_messenger_echo_delivery_and_read_watermark():
    echo, delivery, read = _parse("messenger", "messenger_echo_delivery_read.json").records
    assert echo.direction == "out" and echo.metadata == "from-the-phone"
    assert delivery.status == "delivered" and delivery.external_ids == ("m_echo_0001",)
    assert read.status == "read" and read.watermark is not None and not read.external_ids


def test_messenger_standby_counts_and_postbacks_do_not():
    parsed = _parse("messenger", "messenger_standby_postback.json")
    assert [r.body for r in parsed.records] == ["Seen by the secondary receiver"]
    assert parsed.ignored == 1


def test_whatsapp_text_with_profile_name():
    [dm] = _parse("whatsapp", "whatsapp_text.json").records
    assert dm.person_id == "16315551234" and dm.person_name == "Kerry Fisher"
    assert dm.body == "Hi, is the collab still open?" and dm.external_id.startswith("wamid.")


def test_whatsapp_media_sticker_unsupported_and_reaction_ignored():
    parsed = _parse("whatsapp", "whatsapp_media.json")
    assert [(r.media, r.body) for r in parsed.records] == [
        ("photo", "Our moodboard"), ("sticker", ""),
        (None, "A message Rapport cannot show (open it in the app).")]
    assert parsed.ignored == 1


def test_whatsapp_statuses_keep_their_error_in_words():
    read, delivered, failed = _parse("whatsapp", "whatsapp_statuses.json").records
    assert (read.status, delivered.status) == ("read", "delivered")
    assert failed.status == "failed" and "24 hours" in failed.error and "131047" in failed.error


def test_whatsapp_business_app_echo_is_outbound():
    [dm] = _parse("whatsapp", "whatsapp_smb_echo.json").records
    assert dm.direction == "out" and dm.person_id == "16315551234"
