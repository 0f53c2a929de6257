"""The DM-export parsers: every platform layout, direction, UTC, filters, fingerprints, zips."""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crm.imports.dm_exports.parsers import (ExportError, ExportSource, Participant,
                                            ParsedMessage, ParsedThread, fix_mojibake,
                                            open_export, whatsapp_date_order)
from crm.imports.dm_exports.parsers.base import fingerprint

DATA = Path(__file__).parent / "data"
SAMPLES = DATA / "samples"          # copies of the shared samples, so the tests stand alone
ME = "Alex Rivera"
ROOT = Path(__file__).resolve().parents[2]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def parse(path, me=ME, **kw):
    """(source, {thread key: (thread, [messages])}) with the source already closed."""
    day_first = kw.pop("whatsapp_day_first", None)
    with open_export(path, **kw) as source:
        threads = {t.key: (t, list(source.messages(t, me, whatsapp_day_first=day_first)))
                   for t in source.threads()}
    return source, threads


def only(threads):
    assert len(threads) == 1
    return next(iter(threads.values()))


def bodies(messages):
    return [m.body for m in messages]


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def zip_tree(folder: Path, zip_path: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return zip_path


# --------------------------------------------------------------------------- Instagram
class TestInstagramCurrent:
    KEY = "mayalindqvist_17846512345678901"

    def test_summary(self):
        source, threads = parse(SAMPLES / "instagram")
        assert (source.platform, source.layout) == ("instagram", "instagram-json-2024")
        assert source.detected_me is None  # no personal_information in this sample
        thread, messages = threads[self.KEY]
        assert thread.platform == "instagram"
        assert thread.title == "Maya Lindqvist"
        assert [p.name for p in thread.participants] == ["Maya Lindqvist", "Alex Rivera"]
        assert thread.is_group is False
        assert thread.folder == "inbox"
        # 9 entries over two files, minus one "Reacted ❤️ to your message".
        assert thread.message_count == len(messages) == 8
        assert thread.first_at == utc(2024, 1, 5, 18, 2, 11, 417000)
        assert thread.last_at == utc(2024, 3, 14, 10, 5, 12, 777000)
        assert [p.name for p in thread.counterparts(ME)] == ["Maya Lindqvist"]
        assert source.candidates_for_me()[0] in ("Maya Lindqvist", ME)

    def test_messages_oldest_first_across_parts_with_mojibake_fixed(self):
        _, threads = parse(SAMPLES / "instagram")
        _, messages = threads[self.KEY]
        assert [m.sent_at for m in messages] == sorted(m.sent_at for m in messages)
        # message_2.json holds the older part: it comes first.
        assert bodies(messages)[:2] == ["Hi Alex! Loved your portfolio 📸", "Thank you so much!"]
        assert messages[-1].body == "See you Friday 😊"
        assert "Café on Friday? It's my treat ☕" in bodies(messages)
        assert "3. Lunch at Nørrebro Bistro" in messages[4].body
        assert not any(b.startswith("Reacted") for b in bodies(messages))
        for m in messages:
            assert m.sent_at.tzinfo is not None and m.sent_at.utcoffset().total_seconds() == 0
            assert m.external_id is None

    def test_share_media_and_direction(self):
        _, threads = parse(SAMPLES / "instagram")
        _, messages = threads[self.KEY]
        share = next(m for m in messages if m.media == "share")
        # Maya wrote nothing ("… sent an attachment." is the app's line): the link is the text.
        assert share.body == "https://www.instagram.com/reel/C4xYz12AbCd/?igsh=ZmFrZWlnc2g="
        photo = next(m for m in messages if m.media == "photo")
        assert photo.body == "" and photo.sender.name == "Maya Lindqvist"
        assert photo.sent_at == utc(2024, 3, 14, 9, 42, 30, 5000)
        assert [m.is_outbound for m in messages] == [
            m.sender.name == ME for m in messages]
        assert sum(m.is_outbound for m in messages) == 3

    def test_direction_is_case_insensitive(self):
        _, threads = parse(SAMPLES / "instagram", me="alex rivera")
        _, messages = threads[self.KEY]
        assert sum(m.is_outbound for m in messages) == 3

    def test_single_message_file(self):
        inbox = SAMPLES / "instagram/your_instagram_activity/messages/inbox"
        path = inbox / self.KEY / "message_1.json"
        source, threads = parse(path)
        assert (source.platform, source.layout) == ("instagram", "instagram-json-2024")
        # The key comes from thread_path, not from whatever folder the upload sat in.
        thread, messages = threads[self.KEY]
        assert thread.folder == "inbox"
        assert len(messages) == thread.message_count == 6
        assert messages[-1].body == "See you Friday 😊"


class TestInstagramLegacy:
    def test_layout_owner_and_folders(self):
        source, threads = parse(DATA / "instagram_legacy")
        assert (source.platform, source.layout) == ("instagram", "instagram-json-legacy")
        assert source.detected_me == ME
        assert source.me_aliases == [ME, "alexrivera.photo"]
        assert set(threads) == {"jordanlee_178400001", "shootcrew_178400002",
                                "brandcollabco_178400003"}
        assert threads["brandcollabco_178400003"][0].folder == "message_requests"
        assert threads["jordanlee_178400001"][0].folder == "inbox"
        assert source.candidates_for_me()[0] == ME

    def test_multi_part_reactions_unsent_calls_and_media(self):
        _, threads = parse(DATA / "instagram_legacy")
        thread, messages = threads["jordanlee_178400001"]
        assert thread.message_count == 7
        assert bodies(messages) == [
            "Hey! Loved the Renée shoot",
            "Thanks Jordan 😊",
            "He reacted badly to your message",   # looks like a reaction line, but is not one
            # "The video chat ended." is a call, not a message.
            "https://www.instagram.com/p/Cabc123/",   # the link: Jordan wrote nothing
            "", "", "",
        ]
        assert [m.media for m in messages] == [None, None, None, "share", "gif", "audio",
                                               "video"]
        assert messages[0].sent_at == utc(2020, 9, 13, 12, 26, 40)

    def test_group_thread(self):
        _, threads = parse(DATA / "instagram_legacy")
        thread, messages = threads["shootcrew_178400002"]
        assert thread.is_group is True
        assert thread.title == "Shoot crew"
        assert [p.name for p in thread.participants] == ["Renée Dubois", "Jordan Lee", ME]
        assert [p.name for p in thread.counterparts(ME)] == ["Renée Dubois", "Jordan Lee"]
        # "named the group" / "added … to the group" are housekeeping, not messages.
        assert bodies(messages) == ["Bonjour 😊", "Hi all", "Welcome, both!", ""]
        assert messages[-1].media == "sticker"

    def test_owner_username_counts_as_me(self):
        _, threads = parse(DATA / "instagram_legacy", me="alexrivera.photo")
        _, messages = threads["jordanlee_178400001"]
        assert [m.is_outbound for m in messages][:3] == [False, True, True]


# --------------------------------------------------------------------------- Facebook
class TestFacebook:
    def test_sample(self):
        source, threads = parse(SAMPLES / "facebook")
        assert (source.platform, source.layout) == ("facebook", "facebook-json-2024")
        thread, messages = threads["samokafor_10223344556677889"]
        # 9 entries minus "Sam Okafor unsent a message.", "Reacted 😆 to your message" and
        # the call ("The video call ended.").
        assert thread.message_count == len(messages) == 6
        assert bodies(messages) == [
            "Morning Alex! Are we still on for the quote review?",
            "Yes – 11:00 works.",
            "Agenda:\n- pricing tiers\n- delivery dates\n- next steps",
            "",
            "Grüße aus München! 🍺",
            "Updated quote: https://example.com/quotes/Q-2024-031",
        ]
        assert [m.media for m in messages] == [None, None, None, "photo", None, "share"]
        assert [m.is_outbound for m in messages] == [False, True, True, False, False, False]
        assert messages[0].sent_at == utc(2024, 3, 1, 8, 12, 9, 311000)

    def test_current_layout_every_folder_and_cutover_merge(self):
        source, threads = parse(DATA / "facebook_current")
        assert (source.platform, source.layout) == ("facebook", "facebook-json-2024")
        assert source.detected_me == ME
        folders = {t.folder for t, _ in threads.values()}
        assert folders == {"inbox", "archived_threads", "filtered_threads", "message_requests"}
        # inbox and e2ee_cutover hold the same thread: merged, the shared message once.
        thread, messages = threads["samokafor_10223344556677889"]
        assert thread.folder == "inbox"
        assert thread.message_count == len(messages) == 3
        assert bodies(messages) == ["Before the switch to encryption", "Great, talk soon",
                                    "Signed copy attached"]
        assert messages[-1].media == "file"
        assert len({m.fingerprint for m in messages}) == 3

    def test_2018_2022_keys(self):
        source, threads = parse(DATA / "facebook_legacy")
        assert (source.platform, source.layout) == ("facebook", "facebook-json-legacy")
        assert source.detected_me == ME
        _, messages = threads["jordanlee_a1b2c3d4e5"]
        # is_unsent: true is dropped; a Share without content keeps its link; a Call is not
        # a message.
        assert [(m.body, m.media) for m in messages] == [
            ("Zürich next week?", None),
            ("https://example.com/portfolio", "share"),
        ]
        group, group_messages = threads["teamlunch_f6g7h8i9j0"]
        assert group.is_group is True and group.title == "Team lunch"
        assert bodies(group_messages) == ["Lunch Friday?"]  # Subscribe/Unsubscribe dropped

    def test_legacy_detected_by_keys_without_profile(self, tmp_path):
        folder = copy_tree(DATA / "facebook_legacy", tmp_path / "fb")
        shutil.rmtree(folder / "profile_information")
        source, _ = parse(folder)
        assert source.platform == "facebook"
        assert source.detected_me is None

    def test_platform_hint_decides_ambiguous_legacy(self, tmp_path):
        folder = copy_tree(DATA / "instagram_legacy", tmp_path / "old")
        shutil.rmtree(folder / "personal_information")
        assert parse(folder)[0].platform == "instagram"
        assert parse(folder, platform="facebook")[0].platform == "facebook"

    def test_e2ee_download(self):
        source, threads = parse(DATA / "facebook_e2ee")
        assert (source.platform, source.layout) == ("facebook", "facebook-e2ee")
        thread, messages = threads["Sam Okafor_1"]
        assert thread.title == "Sam Okafor"
        # Clean UTF-8: no mojibake repair, and nothing double-decoded.
        assert [(m.body, m.media) for m in messages] == [
            ("Grüße zurück! 😊", None),
            ("https://example.com/moodboard", "share"),
            ("", "photo"),
        ]
        assert messages[0].is_outbound and not messages[1].is_outbound
        assert messages[0].sent_at == utc(2024, 4, 1, 19, 33, 20)
        assert bodies(threads["Renée Dubois_2"][1]) == ["Salut Alex, ça va ?"]


# --------------------------------------------------------------------------- X
class TestX:
    def test_sample(self):
        source, threads = parse(SAMPLES / "x_twitter", me="1462553211098765312")
        assert (source.platform, source.layout) == ("x", "x-archive")
        assert source.detected_me == "1462553211098765312"
        assert source.me_aliases == ["1462553211098765312", "alexrivera_photo", ME]
        thread, messages = threads["29847561-1462553211098765312"]
        assert thread.title == "29847561"
        maya = thread.counterparts("1462553211098765312")
        assert maya == [Participant("29847561", account_id="29847561")]
        assert [m.external_id for m in messages] == [
            "1768222451234567168", "1768222860987654144", "1768226890123456512",
            "1768230000000000005", "1768231104561234945"]
        assert messages[0].sent_at == utc(2024, 3, 14, 9, 15, 3, 512000)
        # t.co links are expanded; the one that only points at the attached photo goes.
        assert messages[1].body == ("Café on Friday? It's my treat ☕ "
                                    "https://www.example.com/cafe-lovehjerte")
        assert (messages[3].body, messages[3].media) == ("", "photo")
        assert [m.is_outbound for m in messages] == [False, False, True, False, True]
        assert messages[2].sender.handle == "alexrivera_photo"
        other = threads["1462553211098765312-1587766554433221100"][1]
        assert not any(m.is_outbound for m in other)

    @pytest.mark.parametrize("me", ["1462553211098765312", "alexrivera_photo", "@AlexRivera_Photo",
                                    "Alex Rivera"])
    def test_any_owner_alias_gives_the_same_direction(self, me):
        _, threads = parse(SAMPLES / "x_twitter", me=me)
        _, messages = threads["29847561-1462553211098765312"]
        assert [m.is_outbound for m in messages] == [False, False, True, False, True]

    def test_parts_and_group_events(self):
        _, threads = parse(DATA / "x_archive")
        thread, messages = threads["29847561-1462553211098765312"]
        # The conversation is split over direct-messages.js and -part1.js.
        assert bodies(messages) == ["Older, in part1", "Short clip", "Newest in part0"]
        assert messages[1].media == "video"
        gif = threads["1462553211098765312-3344556677"][1]
        assert [(m.body, m.media) for m in gif] == [("", "gif")]
        group, group_messages = threads["1790000000000000000"]
        assert group.is_group is True
        assert group.title == "Shoot crew"
        assert {p.account_id for p in group.participants} == {
            "1462553211098765312", "3344556677", "4455667788"}
        # join / leave / rename events are not messages.
        assert bodies(group_messages) == ["Welcome!", "Hi crew 👋"]
        assert group_messages[0].is_outbound and not group_messages[1].is_outbound

    def test_lone_file_has_no_owner(self):
        source, threads = parse(SAMPLES / "x_twitter/data/direct-messages.js")
        assert source.detected_me is None
        assert source.candidates_for_me()[0] == "1462553211098765312"
        assert len(threads) == 2


# --------------------------------------------------------------------------- LinkedIn
class TestLinkedIn:
    PRIYA = "2-MzU4YjQ2ZjItOTcxNi00YWU1LWI4OTQtNDk1ZWRmYTA1YzkxXzAxMA"

    def test_sample_drafts_multiline_archive(self):
        source, threads = parse(SAMPLES / "linkedin")
        assert (source.platform, source.layout) == ("linkedin", "linkedin-csv")
        # Alex sent most of the rows, but the file never says who the owner is.
        assert source.detected_me is None
        assert source.candidates_for_me()[0] == ME
        thread, messages = threads[self.PRIYA]
        assert thread.message_count == 2  # the draft row is not a sent message
        assert not any("Could we talk Tuesday" in m.body for m in messages)
        assert messages[1].body == ("Hi Alex,\n\nWe're hiring a Senior Photo Editor in Copenhagen."
                                    "\nWould you be open to a quick call?\n\nBest,\nPriya")
        assert messages[0].sent_at == utc(2024, 3, 12, 9, 5, 51)
        assert [m.is_outbound for m in messages] == [True, False]
        assert messages[1].sender == Participant(
            "Priya Shah", profile_url="https://www.linkedin.com/in/priya-shah-talent")
        archived = threads["2-ZTRhOWI3MTAtM2MyZC00OGYxLThmMjctNjFkMGM1YTllMmI0XzAxMA"][0]
        assert archived.folder == "ARCHIVE"
        assert archived.title == "Partnership opportunity"

    def test_sample_group_with_attachment(self):
        _, threads = parse(SAMPLES / "linkedin")
        thread, messages = threads["2-N2MxZTAyYWEtNTFkMy00ZjBlLTlhNmItMmQ4ZTRmOTBiMWMzXzAxMg"]
        assert thread.is_group is True
        assert thread.title == "Spring shoot planning"
        assert {p.profile_url for p in thread.counterparts(ME)} == {
            "https://www.linkedin.com/in/lenafischer",
            "https://www.linkedin.com/in/marco-bellini-studio"}
        assert [(m.sender.name, m.body, m.media) for m in messages] == [
            ("Marco Bellini", "Moodboard attached 🎨 – thoughts?", None),
            ("Lena Fischer", "", "photo"),
        ]

    def test_first_generation_headers_scattered_rows(self):
        _, threads = parse(DATA / "linkedin_gen1")
        thread, messages = threads["conv-A"]
        assert bodies(messages) == ["Hi Priya",
                                    'Line one\nLine two, with comma\n\n"Quoted" line four']
        jonas, jonas_messages = threads["conv-B"]
        assert jonas.folder == "ARCHIVE"
        assert bodies(jonas_messages) == ["Interested in growing?", "No thanks, Jonas."]
        # Profile URLs are normalised without the trailing slash.
        assert jonas_messages[1].sender.profile_url == (
            "https://www.linkedin.com/in/alex-rivera-photo")
        assert jonas_messages[1].is_outbound

    def test_owner_by_profile_url(self):
        _, threads = parse(DATA / "linkedin_gen1",
                           me="https://www.linkedin.com/in/alex-rivera-photo/")
        assert [m.is_outbound for m in threads["conv-B"][1]] == [False, True]

    def test_second_generation_crlf_attachments(self):
        _, threads = parse(DATA / "linkedin_gen2")
        thread, messages = threads["conv-C"]
        assert thread.title == "Brief"
        assert [(m.body, m.media) for m in messages] == [("Send the brief?", None), ("", "file")]

    def test_quoted_headers_conversation_draft(self):
        _, threads = parse(DATA / "linkedin_gen3_conversation_draft")
        # conv-D holds only a draft, so it is no thread at all.
        assert set(threads) == {"conv-E"}
        assert bodies(threads["conv-E"][1]) == ["Happy new year!", "Same to you 🎉"]

    def test_profile_csv_names_the_owner(self):
        source, _ = parse(DATA / "linkedin_with_profile")
        assert source.detected_me == ME

    def test_missing_column(self, tmp_path):
        bad = tmp_path / "messages.csv"
        bad.write_text("CONVERSATION ID,FROM,CONTENT\nc1,Alex,hi\n")
        with pytest.raises(ExportError) as err:
            open_export(bad)
        assert err.value.filename == "messages.csv"

    def test_bad_date_names_file_and_line(self, tmp_path):
        text = (SAMPLES / "linkedin/messages.csv").read_text(encoding="utf-8")
        bad = tmp_path / "messages.csv"
        bad.write_text(text.replace("2024-03-12 09:05:51 UTC", "yesterday"), encoding="utf-8")
        with pytest.raises(ExportError) as err:
            open_export(bad)
        assert err.value.filename == "messages.csv"
        assert "line 12" in str(err.value) and "DATE" in str(err.value)


# --------------------------------------------------------------------------- WhatsApp
class TestWhatsApp:
    SAMPLE = SAMPLES / "whatsapp/android_without_media/WhatsApp Chat with Priya Nair.txt"

    def test_android_sample(self):
        source, threads = parse(self.SAMPLE)
        assert (source.platform, source.layout) == ("whatsapp", "whatsapp-android")
        thread, messages = threads["WhatsApp Chat with Priya Nair.txt"]
        assert thread.title == "Priya Nair"
        assert thread.day_first is True
        assert thread.is_group is False
        assert [(m.sender.name, m.body, m.media) for m in messages] == [
            ("Priya Nair", "Hi Alex! Is the 14th still free for the shoot?", None),
            (ME, "Yes 👍", None),
            (ME, "Here's what I need:\n- shot list\n- venue address\n- parking info", None),
            ("Priya Nair", "", "media"),
            ("Priya Nair", "Venue is Café Løvehjerte, Nørrebrogade 12", None),
            (ME, "Perfect, see you there!", None),
        ]
        assert messages[0].sent_at == utc(2024, 3, 12, 14, 5)
        assert messages[-1].sent_at == utc(2024, 3, 13, 9, 1)
        assert [m.is_outbound for m in messages] == [False, True, True, False, False, True]

    def test_local_time_converted_to_utc(self):
        _, threads = parse(self.SAMPLE, tz="Europe/Copenhagen")
        thread, messages = only(threads)
        assert messages[0].sent_at == utc(2024, 3, 12, 13, 5)  # CET is UTC+1 in March
        assert thread.first_at == utc(2024, 3, 12, 13, 5)

    def test_fingerprint_ignores_the_chosen_zone(self):
        # Re-importing with another zone must not duplicate: the hash uses the wall clock.
        a = only(parse(self.SAMPLE)[1])[1]
        b = only(parse(self.SAMPLE, tz="America/New_York")[1])[1]
        assert [m.fingerprint for m in a] == [m.fingerprint for m in b]
        assert a[0].sent_at != b[0].sent_at

    def test_us_month_first_with_narrow_no_break_space(self):
        _, threads = parse(DATA / "whatsapp_us_narrow")
        thread, messages = threads["WhatsApp Chat with Sam Okafor.txt"]
        assert thread.day_first is False  # "3/14/24" can only be month-first
        assert [(m.sent_at, m.body) for m in messages[:3]] == [
            (utc(2024, 3, 9, 19, 45), "Are we still on for the 14th?"),
            (utc(2024, 3, 9, 23, 58), "Yes: 10am, bring the permits"),
            (utc(2024, 3, 14, 0, 5), "Running late"),  # 12:05 AM
        ]
        assert messages[3].media == "media"
        # Two identical "ok" in one minute are two messages with two fingerprints.
        assert bodies(messages[-2:]) == ["ok", "ok"]
        assert messages[-1].fingerprint != messages[-2].fingerprint

    def test_ambiguous_dates_default_day_first_or_callers_choice(self):
        path = DATA / "whatsapp_us_plain"
        thread, messages = only(parse(path)[1])
        assert thread.day_first is None
        assert messages[0].sent_at == utc(2024, 9, 3, 19, 45)  # documented default
        _, month_first = only(parse(path, whatsapp_day_first=False)[1])
        assert [m.sent_at for m in month_first] == [utc(2024, 3, 9, 19, 45),
                                                    utc(2024, 3, 10, 8, 0)]
        _, new_york = only(parse(path, whatsapp_day_first=False, tz="America/New_York")[1])
        assert new_york[0].sent_at == utc(2024, 3, 10, 0, 45)

    def test_file_evidence_beats_the_argument(self):
        _, messages = only(parse(self.SAMPLE, whatsapp_day_first=False)[1])
        assert messages[0].sent_at == utc(2024, 3, 12, 14, 5)

    def test_android_group_with_attached_media_and_system_lines(self):
        _, threads = parse(DATA / "whatsapp_android_media")
        thread, messages = threads["WhatsApp Chat with Shoot Crew.txt"]
        assert thread.is_group is True
        assert thread.title == "Shoot Crew"
        assert {p.name for p in thread.participants} == {ME, "Lena Fischer", "Marco Bellini"}
        assert [(m.sender.name, m.body, m.media) for m in messages] == [
            (ME, "Welcome! Call sheet below", None),
            (ME, "Call sheet for Thursday", "photo"),
            ("Lena Fischer", "", "video"),
            ("Marco Bellini", "", "audio"),
            ("Marco Bellini", "", "file"),
        ]

    def test_ios_crlf_lrm_lines(self):
        source, threads = parse(DATA / "whatsapp_ios")
        assert source.layout == "whatsapp-ios"
        thread, messages = threads["WhatsApp Chat - Priya Nair"]
        assert thread.title == "Priya Nair"
        assert thread.day_first is True
        assert [(m.body, m.media) for m in messages] == [
            ("Morning! Photos from yesterday?", None),
            ("Sending now\nsecond line of the same message", None),
            ("", "photo"),
            ("", "photo"),
            ("Thanks, they look great", None),
        ]
        assert messages[0].sent_at == utc(2024, 3, 14, 9, 21, 30)
        assert not any("\r" in m.body or "\u200e" in m.body for m in messages)

    def test_ios_zip_folder_and_lone_file_agree(self, tmp_path):
        folder = DATA / "whatsapp_ios/WhatsApp Chat - Priya Nair"
        zipped = zip_tree(folder, tmp_path / "WhatsApp Chat - Priya Nair.zip")
        lone = tmp_path / "upload" / "_chat.txt"
        lone.parent.mkdir()
        shutil.copy(folder / "_chat.txt", lone)
        results = [parse(p)[1] for p in (folder, zipped, lone)]
        assert all(set(r) == {"WhatsApp Chat - Priya Nair"} for r in results)
        prints = [[m.fingerprint for m in only(r)[1]] for r in results]
        assert prints[0] == prints[1] == prints[2]

    def test_android_zip_with_media(self, tmp_path, monkeypatch):
        made = _mkdtemp_spy(monkeypatch)
        zipped = zip_tree(DATA / "whatsapp_android_media",
                          tmp_path / "WhatsApp Chat with Shoot Crew.zip")
        with open_export(zipped) as source:
            assert source.layout == "whatsapp-android"
            assert [t.key for t in source.threads()] == ["WhatsApp Chat with Shoot Crew.txt"]
            assert not list(Path(made[0]).rglob("*.jpg"))  # media stays in the zip

    def test_two_copies_of_one_chat_stay_apart(self, tmp_path):
        for name in ("old", "new"):
            (tmp_path / name).mkdir()
            shutil.copy(self.SAMPLE, tmp_path / name)
        _, threads = parse(tmp_path)
        assert len(threads) == 2
        assert all(t.message_count == 6 for t, _ in threads.values())

    def test_date_order_helper(self):
        assert whatsapp_date_order(["12/03/2024, 14:05 - A: x", "13/03/2024, 09:00 - A: y"]) is True
        assert whatsapp_date_order(["3/9/24, 7:45\u202fPM - A: x",
                                    "3/14/24, 1:00 PM - A: y"]) is False
        assert whatsapp_date_order(["3/9/24, 7:45 PM - A: x", "not a message line"]) is None
        assert whatsapp_date_order(["[25/12/2023, 10:00:00] A: x"]) is True
        assert whatsapp_date_order(["\u200e[01/12/2023, 10:00:00] A: \u200eimage omitted",
                                    "[12/31/2023, 10:00:00] A: y"]) is False
        assert whatsapp_date_order(["2024-03-25, 10:00 - A: year first says nothing"]) is None

    def test_not_a_chat(self, tmp_path):
        notes = tmp_path / "notes.txt"
        notes.write_text("shopping list\n- milk\n")
        with pytest.raises(ExportError) as err:
            open_export(notes)
        assert err.value.filename == "notes.txt"


# --------------------------------------------------------------------------- TikTok
class TestTikTok:
    def test_current(self):
        source, threads = parse(SAMPLES / "tiktok", me="alex.rivera.photo")
        assert (source.platform, source.layout) == ("tiktok", "tiktok-json")
        assert source.detected_me == "alex.rivera.photo"
        thread, messages = threads["maya.lindqvist"]
        assert thread.title == "maya.lindqvist"
        assert thread.counterparts("alex.rivera.photo") == [
            Participant("maya.lindqvist", handle="maya.lindqvist")]
        assert [(m.body, m.media, m.is_outbound) for m in messages] == [
            ("Hey Alex! Long time no see 👋", None, False),
            ("https://www.tiktokv.com/share/video/7345678901234567890/", "share", False),
            ("Ha! We have to try that café.\nFriday 10am?", None, True),
            ("👍", None, False),
        ]
        assert messages[0].sent_at == utc(2024, 3, 14, 9, 15, 3)
        assert threads["trailrunner_jo"][0].message_count == 2

    def test_zone(self):
        _, threads = parse(SAMPLES / "tiktok", tz="Europe/Copenhagen")
        assert threads["maya.lindqvist"][1][0].sent_at == utc(2024, 3, 14, 8, 15, 3)

    def test_legacy(self):
        source, threads = parse(DATA / "tiktok_legacy", me="alex.rivera.photo")
        assert (source.platform, source.layout) == ("tiktok", "tiktok-json-legacy")
        assert source.detected_me == "alex.rivera.photo"
        _, messages = threads["trailrunner_jo"]
        assert [(m.body, m.is_outbound) for m in messages] == [("Race photos ready?", False),
                                                               ("Tomorrow 🙂", True)]


# --------------------------------------------------------------------------- text helpers
def test_fix_mojibake():
    assert fix_mojibake("\u00f0\u009f\u0098\u008a") == "😊"
    assert fix_mojibake("Ren\u00c3\u00a9e") == "Renée"
    # Latin-1, not cp1252: U+0080..U+009F must map back to bytes 0x80..0x9F.
    assert fix_mojibake("\u00e2\u0080\u0093") == "–"
    assert fix_mojibake("plain ascii") == "plain ascii"
    assert fix_mojibake("café") == "café"        # real latin-1 text, not valid UTF-8 bytes
    assert fix_mojibake("日本語 😊") == "日本語 😊"  # not latin-1 at all: kept
    assert fix_mojibake("") == ""


# --------------------------------------------------------------------------- fingerprints
def _all_prints(path, **kw):
    return [(t.key, m.fingerprint) for t, ms in parse(path, **kw)[1].values() for m in ms]


@pytest.mark.parametrize("path", [SAMPLES / "instagram", SAMPLES / "facebook",
                                  SAMPLES / "x_twitter", SAMPLES / "linkedin",
                                  SAMPLES / "tiktok", DATA / "whatsapp_android_media",
                                  DATA / "facebook_e2ee", DATA / "instagram_legacy",
                                  DATA / "whatsapp_ios", DATA / "x_archive"])
def test_fingerprints_stable_and_distinct(path):
    first, second = _all_prints(path), _all_prints(path)
    assert first == second
    prints = [fp for _, fp in first]
    assert len(set(prints)) == len(prints)
    assert all(len(fp) == 40 and int(fp, 16) >= 0 for fp in prints)


def test_fingerprint_survives_a_re_export_with_another_root(tmp_path):
    # Same messages, different upload: a zip with a dated top folder, as Meta names them.
    zipped = zip_tree(SAMPLES / "instagram", tmp_path / "instagram-alex-2024-05-01.zip",
                      prefix="instagram-alex-2024-05-01/")
    assert _all_prints(zipped) == _all_prints(SAMPLES / "instagram")


def test_fingerprint_recipe():
    _, threads = parse(SAMPLES / "x_twitter")
    thread, messages = threads["29847561-1462553211098765312"]
    m = messages[0]
    assert m.fingerprint == fingerprint("x", thread.key, m.sender, m.sent_at.isoformat(),
                                        m.body, m.media)


def test_fingerprints_differ_between_threads_with_same_text(tmp_path):
    # The X sample and its DM text also appear in the Instagram sample: platform and
    # thread key keep them apart.
    x_prints = {fp for _, fp in _all_prints(SAMPLES / "x_twitter")}
    ig_prints = {fp for _, fp in _all_prints(SAMPLES / "instagram")}
    assert not x_prints & ig_prints


# --------------------------------------------------------------------------- zips
def _mkdtemp_spy(monkeypatch):
    made = []
    real = tempfile.mkdtemp

    def spy(*args, **kwargs):
        path = real(*args, **kwargs)
        made.append(path)
        return path

    monkeypatch.setattr("crm.imports.dm_exports.parsers.detect.tempfile.mkdtemp", spy)
    return made


class TestZip:
    def test_good_zip_matches_folder_and_cleans_up(self, tmp_path, monkeypatch):
        made = _mkdtemp_spy(monkeypatch)
        zipped = zip_tree(SAMPLES / "instagram", tmp_path / "instagram.zip")
        source = open_export(zipped)
        assert len(made) == 1 and os.path.isdir(made[0])
        extracted = {p.name for p in Path(made[0]).rglob("*") if p.is_file()}
        assert extracted == {"message_1.json", "message_2.json"}  # photos are not unpacked
        key = "mayalindqvist_17846512345678901"
        thread = next(source.threads())
        assert thread.key == key
        assert len(list(source.messages(thread, ME))) == 8
        source.close()
        assert not os.path.exists(made[0])
        source.close()  # twice is harmless

    def test_context_manager_removes_folder(self, tmp_path, monkeypatch):
        made = _mkdtemp_spy(monkeypatch)
        with open_export(zip_tree(SAMPLES / "x_twitter", tmp_path / "x.zip")) as source:
            assert source.platform == "x" and os.path.isdir(made[0])
        assert not os.path.exists(made[0])

    def _zip_with(self, path, name, data=b"{}", **info):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zi = zipfile.ZipInfo(name)
            zi.compress_type = zipfile.ZIP_DEFLATED
            for key, value in info.items():
                setattr(zi, key, value)
            zf.writestr(zi, data)
        return path

    def test_path_traversal(self, tmp_path, monkeypatch):
        made = _mkdtemp_spy(monkeypatch)
        bad = self._zip_with(tmp_path / "evil.zip", "../evil.json")
        with pytest.raises(ExportError) as err:
            open_export(bad)
        assert "evil.json" in err.value.filename and ".." in str(err.value)
        assert not (tmp_path / "evil.json").exists()
        assert made and not any(os.path.exists(p) for p in made)  # cleaned up after failing

    def test_nested_traversal(self, tmp_path):
        bad = self._zip_with(tmp_path / "evil.zip", "messages/inbox/../../../../etc/x.json")
        with pytest.raises(ExportError, match="traversal"):
            open_export(bad)

    def test_absolute_path(self, tmp_path):
        bad = self._zip_with(tmp_path / "abs.zip", "/tmp/abs.json")
        with pytest.raises(ExportError, match="absolute"):
            open_export(bad)

    def test_symlink_member(self, tmp_path):
        bad = self._zip_with(tmp_path / "link.zip", "messages/inbox/x_1/message_1.json",
                             b"/etc/passwd", external_attr=(stat.S_IFLNK | 0o777) << 16)
        with pytest.raises(ExportError, match="symbolic link"):
            open_export(bad)

    def test_zip_bomb_ratio(self, tmp_path, monkeypatch):
        made = _mkdtemp_spy(monkeypatch)
        bomb = self._zip_with(tmp_path / "bomb.zip", "messages/inbox/x_1/message_1.json",
                              b" " * (4 * 1024 * 1024))
        with pytest.raises(ExportError) as err:
            open_export(bomb)
        assert "ratio" in str(err.value) and err.value.filename.endswith("message_1.json")
        assert not any(os.path.exists(p) for p in made)

    def test_too_big(self, tmp_path):
        zipped = zip_tree(SAMPLES / "instagram", tmp_path / "instagram.zip")
        with pytest.raises(ExportError, match="exceeds 1000 bytes"):
            open_export(zipped, max_total_bytes=1000)

    def test_too_many_members(self, tmp_path):
        zipped = zip_tree(SAMPLES / "instagram", tmp_path / "instagram.zip")
        with pytest.raises(ExportError, match="members"):
            open_export(zipped, max_members=2)

    def test_encrypted_member(self, tmp_path):
        bad = self._zip_with(tmp_path / "locked.zip", "messages.csv", b"x")
        raw = bytearray(bad.read_bytes())
        # zipfile cannot write encrypted members: set the flag bit in both headers instead.
        raw[6] |= 0x1
        central = raw.index(b"PK\x01\x02")
        raw[central + 8] |= 0x1
        bad.write_bytes(bytes(raw))
        with pytest.raises(ExportError, match="encrypted"):
            open_export(bad)

    def test_not_a_zip(self, tmp_path):
        fake = tmp_path / "export.zip"
        fake.write_bytes(b"this is not a zip file at all")
        with pytest.raises(ExportError) as err:
            open_export(fake)
        assert err.value.filename == "export.zip" and "zip" in str(err.value)

    def test_empty_zip(self, tmp_path):
        empty = tmp_path / "empty.zip"
        zipfile.ZipFile(empty, "w").close()
        with pytest.raises(ExportError, match="not a DM export"):
            open_export(empty)


# --------------------------------------------------------------------------- errors
class TestErrors:
    def test_malformed_json_names_the_file(self, tmp_path):
        folder = copy_tree(SAMPLES / "instagram", tmp_path / "ig")
        broken = next(folder.rglob("message_2.json"))
        broken.write_text(broken.read_text()[:-40])
        with pytest.raises(ExportError) as err:
            open_export(folder)
        assert err.value.filename == ("your_instagram_activity/messages/inbox/"
                                      "mayalindqvist_17846512345678901/message_2.json")
        assert "malformed JSON" in str(err.value) and "line" in str(err.value)

    def test_malformed_json_inside_zip(self, tmp_path):
        folder = copy_tree(SAMPLES / "facebook", tmp_path / "fb")
        broken = next(folder.rglob("message_1.json"))
        broken.write_text('{"participants": [}')
        with pytest.raises(ExportError) as err:
            open_export(zip_tree(folder, tmp_path / "fb.zip"))
        assert err.value.filename.endswith("samokafor_10223344556677889/message_1.json")

    def test_bad_timestamp_names_the_file(self, tmp_path):
        folder = copy_tree(SAMPLES / "instagram", tmp_path / "ig")
        target = next(folder.rglob("message_1.json"))
        data = json.loads(target.read_text())
        data["messages"][2]["timestamp_ms"] = "yesterday"
        target.write_text(json.dumps(data))
        with pytest.raises(ExportError, match=r"message_1\.json: messages\[2\]"):
            open_export(folder)

    def test_lone_surrogate_in_text_does_not_break_anything(self, tmp_path):
        folder = copy_tree(SAMPLES / "instagram", tmp_path / "ig")
        target = next(folder.rglob("message_1.json"))
        target.write_text(target.read_text().replace("See you Friday", "See you \\ud83d"))
        _, threads = parse(folder)
        _, messages = only(threads)
        assert messages[-1].body.startswith("See you \ud83d")

    def test_malformed_x_file(self, tmp_path):
        folder = copy_tree(SAMPLES / "x_twitter", tmp_path / "x")
        (folder / "data/direct-messages.js").write_text('[{"dmConversation": {}}]')
        with pytest.raises(ExportError) as err:
            open_export(folder)
        assert err.value.filename == "data/direct-messages.js"

    def test_unknown_json(self, tmp_path):
        other = tmp_path / "settings.json"
        other.write_text('{"theme": "dark"}')
        with pytest.raises(ExportError, match="settings.json"):
            open_export(other)

    def test_unknown_extension(self, tmp_path):
        pdf = tmp_path / "export.pdf"
        pdf.write_bytes(b"%PDF-1.4")
        with pytest.raises(ExportError, match="export.pdf"):
            open_export(pdf)

    def test_folder_without_messages(self, tmp_path):
        (tmp_path / "photos").mkdir()
        (tmp_path / "photos/a.jpg").write_bytes(b"\xff\xd8")
        (tmp_path / "readme.txt").write_text("hello")
        with pytest.raises(ExportError, match="not a DM export"):
            open_export(tmp_path)

    def test_html_export_asks_for_json(self, tmp_path):
        thread = tmp_path / "messages/inbox/maya_1"
        thread.mkdir(parents=True)
        (thread / "message_1.html").write_text("<html></html>")
        with pytest.raises(ExportError, match="JSON"):
            open_export(tmp_path)

    def test_html_export_in_zip_asks_for_json(self, tmp_path):
        zipped = tmp_path / "facebook-alex.zip"
        with zipfile.ZipFile(zipped, "w") as zf:
            zf.writestr("your_facebook_activity/messages/inbox/sam_1/message_1.html", "<html>")
        with pytest.raises(ExportError, match="HTML format"):
            open_export(zipped)

    def test_missing_path(self, tmp_path):
        with pytest.raises(ExportError, match="no such file"):
            open_export(tmp_path / "nope.zip")

    def test_two_kinds_in_one_upload(self, tmp_path):
        folder = copy_tree(SAMPLES / "instagram", tmp_path / "mixed")
        shutil.copy(TestWhatsApp.SAMPLE, folder)
        with pytest.raises(ExportError, match="more than one kind"):
            open_export(folder)

    def test_wrong_platform_asked(self):
        with pytest.raises(ExportError, match="Instagram export, not X"):
            open_export(SAMPLES / "instagram", platform="x")

    def test_bad_zone_and_foreign_thread(self):
        with pytest.raises(ValueError):
            open_export(SAMPLES / "tiktok", tz="Mars/Olympus")
        with open_export(SAMPLES / "tiktok") as tiktok, open_export(SAMPLES / "instagram") as ig:
            thread = next(ig.threads())
            with pytest.raises(ValueError):
                list(tiktok.messages(thread, ME))


@pytest.mark.skipif(not Path("/work/shared/fixtures/dm_exports").is_dir(),
                    reason="shared samples not mounted here")
def test_sample_copies_match_the_shared_samples():
    shared = Path("/work/shared/fixtures/dm_exports")
    for original in shared.rglob("*"):
        if original.is_file():
            copy = SAMPLES / original.relative_to(shared)
            assert copy.read_bytes() == original.read_bytes(), copy


# --------------------------------------------------------------------------- API shape
def test_public_types():
    with open_export(SAMPLES / "instagram") as source:
        assert isinstance(source, ExportSource)
        thread = next(source.threads())
        assert isinstance(thread, ParsedThread)
        message = next(source.messages(thread, ME))
        assert isinstance(message, ParsedMessage)
        assert isinstance(message.sender, Participant)
    with pytest.raises(Exception):
        Participant("x").name = "y"  # frozen


def test_messages_after_close_is_a_clear_error():
    source = open_export(SAMPLES / "linkedin")
    thread = next(source.threads())
    source.close()
    with pytest.raises(ValueError, match="closed"):
        list(source.messages(thread, ME))


def test_interleaved_and_forked_readers_see_their_own_threads():
    with open_export(SAMPLES / "linkedin") as source:
        threads = list(source.threads())
        expected = {t.key: [m.fingerprint for m in source.messages(t, ME)] for t in threads}
        # Two generators at once share nothing mutable.
        a, b = source.messages(threads[0], ME), source.messages(threads[1], ME)
        assert [next(a).fingerprint, next(b).fingerprint] == [expected[threads[0].key][0],
                                                              expected[threads[1].key][0]]
        if not hasattr(os, "fork"):
            return
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: read every thread, report the fingerprints
            try:
                out = {t.key: [m.fingerprint for m in source.messages(t, ME)] for t in threads}
                os.write(writer, json.dumps(out).encode())
            finally:
                os._exit(0)
        os.close(writer)
        # Meanwhile the parent reads too: positions must not leak between processes.
        mine = {t.key: [m.fingerprint for m in source.messages(t, ME)] for t in threads}
        data = b""
        while chunk := os.read(reader, 65536):
            data += chunk
        os.close(reader)
        os.waitpid(pid, 0)
        assert mine == expected == json.loads(data)


def test_threads_can_be_listed_twice_and_messages_replayed():
    with open_export(SAMPLES / "linkedin") as source:
        assert [t.key for t in source.threads()] == [t.key for t in source.threads()]
        thread = next(source.threads())
        assert list(source.messages(thread, ME)) == list(source.messages(thread, ME))


# --------------------------------------------------------------------------- generator
def test_generator_output_parses(tmp_path):
    script = ROOT / "bench/gen_dm_export.py"
    # Two threads over 25,000 messages force a thread past 10,000, so message_2.json exists.
    for out, thread_count in ((tmp_path / "folder", 2), (tmp_path / "export.zip", 30)):
        done = subprocess.run([sys.executable, str(script), "--messages", "25000", "--threads",
                               str(thread_count), str(out)], capture_output=True, text=True,
                              check=True)
        expected = json.loads(done.stdout)
        with open_export(out) as source:
            assert (source.platform, source.layout) == ("instagram", "instagram-json-2024")
            assert source.detected_me == ME
            threads = list(source.threads())
            assert len(threads) == expected["threads"] == thread_count
            total = 0
            for thread in threads:
                messages = list(source.messages(thread, ME))
                assert len(messages) == thread.message_count
                assert all(a.sent_at <= b.sent_at for a, b in zip(messages, messages[1:]))
                total += len(messages)
            assert total == expected["messages"]
            assert expected["entries"] == 25000 > total  # reaction pseudo-messages dropped
        if out.is_dir():
            assert list(out.rglob("message_2.json"))
