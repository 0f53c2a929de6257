"""Imports exactly as the platforms wrote them: system notices, media-only rows, shares,
WhatsApp's date order from the file's own evidence, and threads too big to sort in memory."""
import json
from pathlib import Path

import pytest

from crm.imports.dm_exports.parsers import base, open_export, whatsapp_date_order

ME = "Alex Rivera"
SAM = "Sam Okafor"


def meta_escape(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def parse(path, me=ME, **kw):
    with open_export(path, **kw) as source:
        return source, {t.key: (t, list(source.messages(t, me))) for t in source.threads()}


def only_messages(path, **kw):
    _, threads = parse(path, **kw)
    assert len(threads) == 1
    return next(iter(threads.values()))[1]


# Every notice the apps write as if someone had typed it: (sender, content).
NOTICES = [
    (SAM, "The video call ended."), (SAM, "The video chat ended."), (SAM, "The call ended."),
    (SAM, "Video chat ended"), (SAM, "Audio call ended"), (SAM, "Missed video call"),
    (ME, "You called Sam."), (SAM, "Sam called you."), (SAM, "Sam Okafor missed your call."),
    (SAM, "Sam missed your video chat."), (ME, "You missed a call from Sam Okafor."),
    (ME, "You missed a video chat with Sam Okafor."), (SAM, "Sam Okafor started a video chat."),
    (ME, "You started an audio call"), (SAM, "Sam Okafor started a call."),
    (SAM, "Sam Okafor joined the video chat."), (SAM, "Sam Okafor joined the call."),
    (ME, "You are now connected on Messenger."),
    (ME, "You can now message and call each other and see info like Active Status and when "
         "you've read messages."),
    (ME, "You can now call each other and see information such as Active Status and when "
         "you've read messages."),
    (SAM, "Say hi to your new Facebook friend, Sam."),
    (SAM, "Sam Okafor added Jordan Lee to the group."), (ME, "You removed Jordan Lee from the group."),
    (SAM, "Sam Okafor left the group."), (SAM, "Sam Okafor named the group Team lunch."),
    (SAM, "Sam Okafor changed the group photo."), (SAM, "Sam Okafor created the group."),
    (SAM, "Sam Okafor unsent a message."), (ME, "You unsent a message."),
    (SAM, "This message was unsent."),
    (SAM, meta_escape("Reacted 😆 to your message ")), (SAM, "Liked a message"),
    (SAM, meta_escape("Sam Okafor reacted ❤️ to your message.")),
    (SAM, "Sam Okafor pinned a message."), (SAM, "Sam Okafor created a poll: Friday?"),
    (SAM, 'Sam Okafor voted for "Yes" in the poll.'), (SAM, "Sam Okafor waved at you!"),
    (SAM, meta_escape("Sam Okafor set the emoji to 👍.")),
    (SAM, "Sam Okafor set the nickname for Alex Rivera to Lex."),
    (SAM, "Sam Okafor changed the theme to Love."),
]
# Real messages that look a little like notices.
LOOKALIKES = ["He reacted badly to your message", "Call me when you land",
              "The call ended badly, can we talk?", "My mum missed your call yesterday, sorry",
              "Let's chat tomorrow", "Who left the group chat open on the laptop?"]


def meta_thread(folder: Path, messages, *, legacy=False, platform="facebook") -> Path:
    """One message_1.json in the current or the legacy layout, newest first."""
    prefix = "" if legacy else f"your_{platform}_activity/"
    where = folder / f"{prefix}messages/inbox/samokafor_1"
    where.mkdir(parents=True)
    entries = []
    for n, (sender, extra) in enumerate(messages):
        entry = {"sender_name": meta_escape(sender), "timestamp_ms": 1709280000000 + n * 1000,
                 "is_geoblocked_for_viewer": False}
        if legacy:
            entry.update({"type": "Generic", "is_unsent": False})
        entry.update(extra)
        entries.append(entry)
    data = {"participants": [{"name": SAM}, {"name": ME}],
            "messages": list(reversed(entries)), "title": SAM, "thread_path": "inbox/samokafor_1"}
    (where / "message_1.json").write_text(json.dumps(data))
    return folder


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
@pytest.mark.parametrize("legacy", [False, True], ids=["current", "legacy"])
def test_calls_and_system_notices_are_not_messages(tmp_path, platform, legacy):
    rows = [(SAM, {"content": "Morning!"})]
    rows += [(sender, {"content": text}) for sender, text in NOTICES]
    rows += [(SAM, {"content": text}) for text in LOOKALIKES]
    rows += [(ME, {"content": "See you"})]
    messages = only_messages(meta_thread(tmp_path, rows, legacy=legacy, platform=platform),
                             platform=platform)
    assert [m.body for m in messages] == ["Morning!", *LOOKALIKES, "See you"]


@pytest.mark.parametrize("legacy", [False, True], ids=["current", "legacy"])
def test_call_entries_are_dropped_whatever_their_text(tmp_path, legacy):
    rows = [(SAM, {"content": "Hi"}),
            (SAM, {"content": "Sam Okafor called you.", "call_duration": 65,
                   **({"type": "Call"} if legacy else {})}),
            (SAM, {"content": "Missed call", "call_duration": 0}),
            (SAM, {"call_duration": 12}),
            (SAM, {"content": "Sam joined", "type": "Subscribe"} if legacy else
             {"content": "Sam Okafor added Jordan Lee to the group."}),
            (SAM, {"content": "gone", "is_unsent": True}),
            (ME, {"content": "Bye"})]
    messages = only_messages(meta_thread(tmp_path, rows, legacy=legacy))
    assert [m.body for m in messages] == ["Hi", "Bye"]


def test_e2ee_download_drops_notices(tmp_path):
    folder = tmp_path / "messages"
    folder.mkdir()
    entries = [{"senderName": SAM, "text": "Hi", "timestamp": 1, "type": "text"},
               {"senderName": SAM, "text": "The video call ended.", "timestamp": 2,
                "type": "text"},
               {"senderName": ME, "text": "You are now connected on Messenger.",
                "timestamp": 3, "type": "text"},
               {"senderName": SAM, "text": "", "timestamp": 4, "type": "placeholder"},
               {"senderName": ME, "text": "Bye", "timestamp": 5, "type": "text"}]
    (folder / "Sam Okafor_1.json").write_text(json.dumps(
        {"participants": [SAM, ME], "threadName": SAM, "messages": entries}))
    assert [m.body for m in only_messages(tmp_path)] == ["Hi", "Bye"]


def test_a_share_is_one_message_with_the_senders_words_or_the_link(tmp_path):
    share = {"link": "https://www.instagram.com/p/Cabc/", "share_text": "Someone else's caption",
             "original_content_owner": "nordic.eats"}
    rows = [(SAM, {"content": "Sam Okafor sent an attachment.", "share": share}),
            (SAM, {"content": "Look at this one!", "share": share}),
            (SAM, {"share": {"link": "https://example.com/x"}}),
            (ME, {"content": "You sent an attachment."})]
    messages = only_messages(meta_thread(tmp_path, rows, platform="instagram"),
                             platform="instagram")
    assert [(m.body, m.media) for m in messages] == [
        ("https://www.instagram.com/p/Cabc/", "share"),
        ("Look at this one!", "share"),
        ("https://example.com/x", "share"),
        ("", "media"),      # the attachment itself is not in the export
    ]


HEADERS = {
    "first": "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,"
             "RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER",
    "attachments": "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,"
                   "RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER,ATTACHMENTS",
    "draft": "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,"
             "RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER,ATTACHMENTS,IS MESSAGE DRAFT",
    "quoted": '"CONVERSATION ID","CONVERSATION TITLE","FROM","SENDER PROFILE URL","TO",'
              '"RECIPIENT PROFILE URLS","DATE","SUBJECT","CONTENT","FOLDER","ATTACHMENTS",'
              '"IS CONVERSATION DRAFT"',
}


@pytest.mark.parametrize("layout", list(HEADERS))
def test_linkedin_empty_content_is_a_media_only_message(tmp_path, layout):
    header = HEADERS[layout]
    width = header.count(",") + 1
    lena = "Lena Fischer,https://www.linkedin.com/in/lenafischer"
    alex = "Alex Rivera,https://www.linkedin.com/in/alex-rivera-photo"

    def row(sender, to, when, content, attachment=""):
        cells = ["c1", "", *sender.split(","), *to.split(","), when, "", content, "INBOX"]
        if width > 10:
            cells.append(attachment)
        if width > 11:
            cells.append("No")
        return ",".join(cells)

    lines = [header, row(lena, alex, "2024-03-14 16:20:05 UTC", ""),
             row(alex, lena, "2024-03-14 16:10:00 UTC", "Send it over?")]
    if width > 10:
        lines.append(row(lena, alex, "2024-03-14 16:25:00 UTC", "",
                         "https://www.linkedin.com/dms/prv/image/v2/x/messaging-attachmentFile/0"))
    (tmp_path / "messages.csv").write_text("\n".join(lines) + "\n")
    messages = only_messages(tmp_path / "messages.csv")
    expected = [("Send it over?", None), ("", "media")]
    if width > 10:
        expected.append(("", "photo"))
    assert [(m.body, m.media) for m in messages] == expected


# --------------------------------------------------------------------------- WhatsApp
@pytest.mark.parametrize("lines, order", [
    (["03/04/2024, 10:00 - Priya: hi"], None),
    (["13/04/2024, 10:00 - Priya: hi"], True),
    (["04/13/2024, 10:00 - Priya: hi"], False),
    # A dated media name on a line of the same day.
    (["02/11/2023, 10:00 - Priya: IMG-20231102-WA0012.jpg (file attached)"], True),
    (["11/02/2023, 10:00 - Priya: IMG-20231102-WA0012.jpg (file attached)"], False),
    (["[02/11/2023, 10:00:01] Priya: \u200e<attached: 00000012-PHOTO-2023-11-02-10-00-01.jpg>"],
     True),
    # Only one order keeps the timestamps in sequence (01/02 → 02/01 → 03/01 …).
    (["01/02/2024, 10:00 - Priya: a", "02/01/2024, 10:00 - Priya: b",
      "03/01/2024, 10:00 - Priya: c"], False),
    (["02/01/2024, 10:00 - Priya: a", "01/02/2024, 10:00 - Priya: b",
      "01/03/2024, 10:00 - Priya: c"], True),
    # An order under which a date does not exist (30 February).
    (["02/03/2024, 10:00 - Priya: a", "02/30/2024, 10:00 - Priya: b"], False),
    # A clock change of an hour is not evidence.
    (["03/04/2024, 02:30 - Priya: a", "03/04/2024, 01:45 - Priya: b"], None),
])
def test_whatsapp_date_order_from_evidence(lines, order):
    assert whatsapp_date_order(lines) is order


def test_whatsapp_file_ordered_only_one_way_needs_no_question(tmp_path):
    chat = tmp_path / "WhatsApp Chat with Priya Nair.txt"
    chat.write_text("01/02/2024, 10:00 - Priya Nair: New year plans?\n"
                    "02/01/2024, 09:00 - Alex Rivera: Skiing!\n"
                    "03/01/2024, 09:30 - Priya Nair: Nice\n")
    source, threads = parse(chat)
    thread, messages = threads[chat.name]
    assert thread.day_first is False
    assert [m.sent_at.day for m in messages] == [2, 1, 1]


# --------------------------------------------------------------------------- big threads
def test_a_thread_sorted_in_runs_gives_the_same_messages(tmp_path, monkeypatch):
    rows = [(SAM if n % 3 else ME, {"content": f"message {n % 7}"}) for n in range(500)]
    rows += [(SAM, {"content": "same"})] * 3      # identical: kept apart by ordinal
    folder = meta_thread(tmp_path / "a", rows)
    whole = only_messages(folder)
    monkeypatch.setattr(base, "SORT_RUN_RECORDS", 37)
    monkeypatch.setattr(base, "SPOOL_CHUNK_ROWS", 11)
    in_runs = only_messages(folder)
    assert in_runs == whole and len(whole) == 503
    assert len({m.fingerprint for m in whole}) == 503


def test_a_big_message_file_is_streamed(tmp_path, monkeypatch):
    from crm.imports.dm_exports.parsers import files, meta

    rows = [(SAM, {"content": "Hi"}), (SAM, {"content": "The video call ended."}),
            (ME, {"content": meta_escape("Café?")})]
    folder = meta_thread(tmp_path, rows)
    whole = only_messages(folder)
    monkeypatch.setattr(meta, "STREAM_BYTES", 10)
    monkeypatch.setattr(files, "STREAM_BYTES", 10)
    calls = []
    real = files.json_items
    monkeypatch.setattr(meta, "json_items", lambda *a: calls.append(a) or real(*a))
    source, threads = parse(folder)
    assert calls and threads["samokafor_1"][1] == whole
    assert [m.body for m in whole] == ["Hi", "Café?"]
    assert threads["samokafor_1"][0].title == SAM


def test_a_broken_big_message_file_names_the_file(tmp_path, monkeypatch):
    from crm.imports.dm_exports.parsers import ExportError, files, meta

    folder = meta_thread(tmp_path, [(SAM, {"content": "Hi"})])
    path = next(folder.rglob("message_1.json"))
    path.write_text(path.read_text()[:-30])
    monkeypatch.setattr(meta, "STREAM_BYTES", 10)
    monkeypatch.setattr(files, "STREAM_BYTES", 10)
    with pytest.raises(ExportError) as err:
        open_export(folder)
    assert "message_1.json" in str(err.value) and "malformed JSON" in str(err.value)


# --------------------------------------------------------------------------- the owner
DATA = Path(__file__).parent / "data"
SAMPLES = DATA / "samples"
X_ID = "1462553211098765312"


@pytest.mark.parametrize("given, platform", [
    (SAMPLES / "x_twitter/data/direct-messages.js", "x"),
    (DATA / "instagram_legacy/messages/inbox/jordanlee_178400001/message_1.json", "instagram"),
    (DATA / "instagram_legacy/messages/inbox", "instagram"),
    (DATA / "facebook_current/your_facebook_activity/messages/inbox/samokafor_10223344556677889"
            "/message_1.json", "facebook"),
    (DATA / "linkedin_with_profile/messages.csv", "linkedin"),
])
def test_one_file_or_folder_out_of_an_export_finds_its_owner_beside_it(given, platform):
    with open_export(given) as alone:
        assert alone.platform == platform and alone.detected_me is None
    with open_export(given, look_beside=True) as source:
        assert source.detected_me == (X_ID if platform == "x" else ME)
        assert ME in source.me_aliases


def test_the_x_owner_found_beside_is_left_out_of_titles():
    with open_export(SAMPLES / "x_twitter/data/direct-messages.js", look_beside=True) as source:
        titles = {t.key: t.title for t in source.threads()}
        assert titles["29847561-1462553211098765312"] == "29847561"
        thread = next(t for t in source.threads() if t.key == "29847561-1462553211098765312")
        # The handle means the account id the export names.
        assert [m.is_outbound for m in source.messages(thread, "@alexrivera_photo")] == \
            [m.is_outbound for m in source.messages(thread, X_ID)]


def _everything(path, me=ME):
    source, threads = parse(path, me=me)
    return (source.layout, source.detected_me, [(t.key, t.title, t.message_count)
                                                for t, _ in threads.values()],
            {key: [(m.sender, m.sent_at, m.body, m.media, m.fingerprint, m.is_outbound)
                   for m in messages] for key, (_, messages) in threads.items()})


@pytest.mark.parametrize("path", [SAMPLES / "tiktok/user_data_tiktok.json",
                                  DATA / "tiktok_legacy"])
def test_a_big_tiktok_file_is_streamed_with_the_same_result(path, monkeypatch):
    from crm.imports.dm_exports.parsers import files, tiktok

    whole = _everything(path, me="alex.rivera.photo")
    monkeypatch.setattr(tiktok, "STREAM_BYTES", 10)
    monkeypatch.setattr(files, "STREAM_BYTES", 10)
    assert _everything(path, me="alex.rivera.photo") == whole and whole[3]


def test_x_conversations_split_over_part_files_are_one_thread(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "account.js").write_text((SAMPLES / "x_twitter/data/account.js").read_text())

    def message(n, sender, text):
        return {"messageCreate": {"id": str(1000 + n), "senderId": sender,
                                  "recipientId": "7" if sender == X_ID else X_ID,
                                  "text": text, "createdAt": f"2024-03-0{n}T10:00:00.000Z",
                                  "mediaUrls": [], "urls": []}}

    def part(name, messages):
        body = json.dumps([{"dmConversation": {"conversationId": f"7-{X_ID}",
                                               "messages": messages}}])
        (data / name).write_text(f"window.YTD.direct_messages.part0 = {body}")

    part("direct-messages.js", [message(3, X_ID, "three"), message(2, "7", "two")])
    part("direct-messages-part1.js", [message(1, "7", "one")])
    source, threads = parse(tmp_path, me=X_ID)
    (thread, messages), = threads.values()
    assert [m.body for m in messages] == ["one", "two", "three"]
    assert [m.is_outbound for m in messages] == [False, False, True]
    assert thread.title == "7" and source.detected_me == X_ID


def test_a_big_e2ee_chat_is_streamed_with_the_same_result(tmp_path, monkeypatch):
    from crm.imports.dm_exports.parsers import facebook_e2ee, files

    folder = tmp_path / "messages"
    folder.mkdir()
    entries = [{"senderName": SAM if n % 2 else ME, "text": f"line {n}", "timestamp": 1000 - n,
                "type": "text"} for n in range(50)]
    entries.insert(5, {"senderName": SAM, "text": "The video call ended.", "timestamp": 995,
                       "type": "text"})
    (folder / "Sam Okafor_1.json").write_text(json.dumps(
        {"participants": [SAM, ME], "threadName": SAM, "messages": entries}))
    whole = _everything(tmp_path)
    monkeypatch.setattr(facebook_e2ee, "STREAM_BYTES", 10)
    monkeypatch.setattr(files, "STREAM_BYTES", 10)
    assert _everything(tmp_path) == whole and whole[2] == [("Sam Okafor_1", SAM, 50)]


def test_a_zip_with_too_much_message_data_is_refused_naming_the_limit(tmp_path):
    import zipfile

    from crm.imports.dm_exports.parsers import ExportError

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("messages.csv", "CONVERSATION ID,FROM,DATE,CONTENT\n" + "c1,A,2024-01-01,"
                    + "x" * 5000 + "\n")
    with pytest.raises(ExportError) as err:
        open_export(archive, max_total_bytes=1000)
    assert err.value.filename == "export.zip"
    assert "IMPORT_MAX_UNCOMPRESSED_MB" in str(err.value) and "nothing was read" in str(err.value)
