"""A big Messenger message_1.json written as a stream (for the bounded-memory tests)."""
from __future__ import annotations

import json
import random
from pathlib import Path

ME = "Alex Rivera"
OTHER = "Sam Okafor"
WORDS = ("caf\u00c3\u00a9 shoot brief invoice friday rates collab usage rights deadline "
         "permits moodboard studio lunch").split()


def write_message_file(path: Path, target_bytes: int, body_chars: int = 900,
                       seed: int = 7) -> int:
    """message_1.json of about target_bytes, newest first, in Meta's layout with its
    escaping; ~2% of the entries are notices that are not messages. Returns the number of
    real messages."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    bodies = []
    for _ in range(997):
        words, size = [], 0
        while size < body_chars:
            word = rng.choice(WORDS)
            words.append(word)
            size += len(word) + 1
        bodies.append(json.dumps(" ".join(words)))
    senders = (json.dumps(ME), json.dumps(OTHER))
    real = written = 0
    ms = 1_700_000_000_000
    with open(path, "w", encoding="ascii") as fh:
        fh.write('{"participants": [{"name": "%s"}, {"name": "%s"}], "messages": [\n'
                 % (OTHER, ME))
        sep = ""
        while written < target_bytes:
            lines = []
            for n in range(1000):
                ms -= 1_000 + (n * 7919 + real) % 600_000
                sender = senders[(n * 31 + real) % 2]
                if n % 50 == 7:
                    lines.append('{"sender_name": %s, "timestamp_ms": %d, "content": '
                                 '"The video call ended.", "call_duration": 60}' % (sender, ms))
                else:
                    lines.append('{"sender_name": %s, "timestamp_ms": %d, "content": %s, '
                                 '"is_geoblocked_for_viewer": false}'
                                 % (sender, ms, bodies[(real + n) % len(bodies)]))
                    real += 1
            block = sep + ",\n".join(lines)
            sep = ",\n"
            fh.write(block)
            written += len(block)
        fh.write('\n], "title": "Sam Okafor", "is_still_participant": true, '
                 '"thread_path": "inbox/samokafor_10223344556677889", "magic_words": []}\n')
    return real
