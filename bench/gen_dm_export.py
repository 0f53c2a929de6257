"""Write a synthetic Instagram DM export (folder or zip) with N messages across M threads.

    python bench/gen_dm_export.py --messages 1000000 --threads 5000 OUT
    python bench/gen_dm_export.py --messages 1000000 --threads 5000 --zip OUT.zip

The layout is the current one (your_instagram_activity/messages/inbox/<folder>/message_N.json,
newest part first, 10,000 messages per file) with Meta's per-byte \\u00XX escaping, so the
parsers do the same work as on a real export. Files are written one at a time; memory stays
at one file's worth of messages. About 2% of the entries are reaction pseudo-messages, which
the parser drops: the summary line says how many real messages to expect.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import zipfile
from pathlib import Path

ME = "Alex Rivera"
PER_FILE = 10_000
FIRST_NAMES = ["Maya", "Jordan", "Renée", "Sam", "Priya", "Lena", "Marco", "Jonas", "Zoë", "Kai",
               "Aiyana", "Björn", "Chloé", "Dmitri", "Eun-ji", "Farah", "Göran", "Hana"]
LAST_NAMES = ["Lindqvist", "Lee", "Dubois", "Okafor", "Shah", "Fischer", "Bellini", "Berg",
              "Núñez", "Park", "Søndergaard", "Kowalski", "O'Brien", "Tanaka", "Haddad"]
LINES = ["Hey! Loved your latest post 😊", "Are you open to a paid collab in May?",
         "Sure — send me the brief.", "Rates attached, let me know 👍", "Café on Friday?",
         "Thanks so much!", "Can we move the shoot to 10am?", "Deal 🎉", "Sounds good",
         "Quick question about usage rights…", "Invoice sent.", "Grüße aus München!",
         "What's the deadline?", "Perfect, see you there!\nBring the permits."]


def meta_escape(text: str) -> str:
    """Meta writes every UTF-8 byte as its own code point (later \\u00XX in the file)."""
    return text.encode("utf-8").decode("latin-1")


ESCAPED_LINES = [meta_escape(line) for line in LINES]
REACTION = meta_escape("Reacted ❤️ to your message ")


def split_counts(total: int, threads: int, rng: random.Random) -> list[int]:
    """Messages per thread: a few long threads and many short ones, summing to total."""
    threads = max(1, min(threads, total))
    weights = [rng.paretovariate(1.2) for _ in range(threads)]
    scale = (total - threads) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    counts[0] += total - sum(counts)
    return counts


def thread_files(index: int, count: int, rng: random.Random, start_ms: int):
    """(folder, [(file name, json text)]) for one thread, generated a file at a time."""
    group = index % 25 == 24
    people = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
              for _ in range(3 if group else 1)]
    title = ", ".join(people) if group else people[0]
    slug = "".join(ch for ch in people[0].lower() if ch.isalnum())
    folder = f"{slug}_{17840000000000000 + index}"
    participants = [{"name": meta_escape(p)} for p in people + [ME]]
    nfiles = (count + PER_FILE - 1) // PER_FILE
    ts = start_ms
    stats = {"real": 0, "pseudo": 0}

    def files():
        nonlocal ts
        for chunk in range(nfiles):  # oldest chunk first; it is the highest message_N
            size = min(PER_FILE, count - chunk * PER_FILE)
            batch = []
            for _ in range(size):
                ts += rng.randint(1_000, 3_600_000)
                if rng.random() < 0.45:
                    sender = meta_escape(ME)
                else:
                    sender = participants[rng.randrange(len(people))]["name"]
                roll = rng.random()
                msg = {"sender_name": sender, "timestamp_ms": ts}
                if roll < 0.02:
                    msg["content"] = REACTION
                    stats["pseudo"] += 1
                else:
                    stats["real"] += 1
                    if roll < 0.05:
                        uri = f"your_instagram_activity/messages/inbox/{folder}/photos/{ts}.jpg"
                        msg["photos"] = [{"uri": uri, "creation_timestamp": ts // 1000}]
                    elif roll < 0.06:
                        msg["content"] = meta_escape(f"{people[0]} sent an attachment.")
                        msg["share"] = {"link": f"https://www.instagram.com/reel/{ts}/",
                                        "share_text": ESCAPED_LINES[0]}
                    else:
                        msg["content"] = ESCAPED_LINES[rng.randrange(len(LINES))]
                msg["is_geoblocked_for_viewer"] = False
                batch.append(msg)
            batch.reverse()  # newest first, as Instagram writes them
            doc = {"participants": participants, "messages": batch, "title": meta_escape(title),
                   "is_still_participant": True, "thread_path": f"inbox/{folder}",
                   "magic_words": []}
            if group:
                doc["joinable_mode"] = {"mode": 1, "link": ""}
            yield f"message_{nfiles - chunk}.json", json.dumps(doc, indent=2, ensure_ascii=True)

    return folder, files(), stats


def personal_information() -> str:
    return json.dumps({"profile_user": [{"string_map_data": {
        "Name": {"value": ME}, "Username": {"value": "alexrivera.photo"}}}]}, indent=2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="output folder, or .zip file with --zip")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--zip", action="store_true", help="write a zip instead of a folder")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    out = Path(args.out)
    as_zip = args.zip or out.suffix.lower() == ".zip"
    root = "your_instagram_activity/messages/inbox"
    zf = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) if as_zip else None

    def put(name: str, text: str) -> None:
        if zf is not None:
            zf.writestr(name, text)
        else:
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="ascii")

    real = pseudo = 0
    try:
        put("personal_information/personal_information/personal_information.json",
            personal_information())
        start = 1_500_000_000_000
        for index, count in enumerate(split_counts(args.messages, args.threads, rng)):
            folder, files, stats = thread_files(index, count, rng, start + index * 1000)
            for name, text in files:
                put(f"{root}/{folder}/{name}", text)
            real += stats["real"]
            pseudo += stats["pseudo"]
    finally:
        if zf is not None:
            zf.close()
    print(f"wrote {real + pseudo} entries ({real} messages, {pseudo} reaction pseudo-messages) "
          f"in {min(args.threads, args.messages)} threads to {out}", file=sys.stderr)
    print(json.dumps({"entries": real + pseudo, "messages": real, "threads":
                      min(args.threads, args.messages)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
