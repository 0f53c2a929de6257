"""DM conversations and their messages, in realistic bursts, with the reply state the app
keeps (state, last_*_at, waiting_since, message_count, ResponseTime rows, replied_at)
computed by the app's own replay of the rules in crm.conversations.reply_state."""
import math
from datetime import timedelta
from typing import NamedTuple

from bench.dataset import load, words
from bench.dataset.world import ConversationSummary, World
from crm.conversations.models import INBOUND, OUTBOUND
from crm.conversations.optout import find_stop_phrase
from crm.conversations.reply_state import preview_of, replay
from crm.settings.services import DEFAULT_STOP_PHRASES

CHUNK = 1000          # conversations generated and written together
BIG_CONVERSATION = 2000
MAX_WEIGHT = 300      # the longest ordinary thread is a few hundred messages
EARLIEST = timedelta(days=3 * 365)
# The words of each opt-out line that the app quotes as the reason (crm.conversations.services).
STOP_QUOTES = {line: find_stop_phrase(line, DEFAULT_STOP_PHRASES).text
               for line in words.STOP_LINES}


class _Msg(NamedTuple):
    """What the reply-state replay reads from a message (direction, sent_at, author_id first)."""
    direction: str
    sent_at: object
    author_id: int | None
    id: int


def add_templates(conn, world: World) -> None:
    rows = []
    for i, name in enumerate(words.TEMPLATE_NAMES, start=1):
        body = words.PITCHES[(i - 1) % len(words.PITCHES)].replace("{first}", "{first_name}")
        author = world.users["manager"][0]
        rows.append({"id": i, "name": name, "body": body, "platform": None,
                     "created_by_id": author, "archived_at": None, "version": 1,
                     "created_at": world.now - timedelta(days=400),
                     "updated_at": world.now - timedelta(days=400)})
        world.templates.append((i, name, body))
    load.insert(conn, "dm_templates", rows)


def add_import_runs(conn, world: World) -> None:
    rows = []
    for i, (platform, days) in enumerate((("instagram", 300), ("instagram", 45),
                                          ("tiktok", 120), ("x", 200), ("linkedin", 60)), 1):
        at = world.now - timedelta(days=days)
        rows.append({"id": i, "kind": "dm", "platform": platform, "layout": None,
                     "filename": f"{platform}-export-{at:%Y%m%d}.zip", "status": "done",
                     "created_by_id": world.users["admin"][0], "owner_id": world.reps[0],
                     "created_at": at, "finished_at": at + timedelta(minutes=4),
                     "progress_done": 0, "progress_total": 0, "counts": {}, "problems": [],
                     "options": {}, "stored_path": None})
        world.import_runs.append((i, platform, at))
    load.insert(conn, "import_runs", rows)


def split_counts(world: World, conversations: int, messages: int, big: int) -> list[int]:
    """Messages per conversation: one of `big`, then a long tail summing to the rest."""
    rng = world.rng
    rest, others = messages - big, conversations - 1
    if rest < others:
        raise ValueError(f"{messages} messages cannot fill {conversations} conversations "
                         f"(one of them with {big})")
    weights = [min(rng.paretovariate(1.4), MAX_WEIGHT) for _ in range(others)]
    scale = (rest - others) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    for _ in range(rest - sum(counts)):
        counts[rng.randrange(others)] += 1
    return [big] + counts


def _pairs(world: World, count: int):
    """(person, platform, thread number) for `count` conversations, on the contacts' handles."""
    rng = world.rng
    pairs = [(p, platform) for p in world.people for platform, _ in p.handles]
    rng.shuffle(pairs)
    out, thread = [], 0
    while len(out) < count:
        out.extend((p, platform, thread) for p, platform in pairs[:count - len(out)])
        thread += 1
    # The benchmark's long conversation: a contact of the first rep who may be contacted.
    owner = world.reps[0]
    for i, (p, _, _) in enumerate(out):
        if p.owner_id == owner and p.may_contact and p.blocked_at is None:
            out[0], out[i] = out[i], out[0]
            break
    return out


def _ending(world: World, p, big: bool):
    """(last direction, time of the last message, closed_at, ends with an opt-out)."""
    rng, now = world.rng, world.now
    if p.consent == "opted_out" and not p.opt_out_by_dm and rng.random() < 0.6:
        p.opt_out_by_dm = True
        end = p.blocked_at - timedelta(minutes=rng.uniform(2, 60))
        return INBOUND, end, p.blocked_at, True
    roll = rng.random()
    if big:
        roll, end = 0.0, now - timedelta(hours=2)
    if roll < 0.105:
        last, closed = INBOUND, None
        end = now - timedelta(hours=min(1440.0, math.exp(rng.gauss(math.log(18), 1.3))))
    elif roll < 0.365:
        last, closed = OUTBOUND, None
        end = now - timedelta(days=min(400.0, rng.expovariate(1 / 25)), minutes=1)
    else:
        last = INBOUND if rng.random() < 0.45 else OUTBOUND
        end = now - timedelta(days=min(600.0, rng.expovariate(1 / 60)), hours=1)
        closed = min(now, end + timedelta(hours=rng.uniform(0.1, 72)))
    if big:
        end = now - timedelta(hours=2)
    bound = p.blocked_at or p.archived_at
    if bound is not None and end >= bound:
        end = bound - timedelta(minutes=rng.uniform(5, 60 * 24 * 10))
        closed = None if closed is None else min(closed, bound)
    return last, end, closed, False


def _times(world: World, n: int, last: str, end):
    """[(sent_at, direction)] oldest first: bursts of one side, then the other side answers."""
    rng, out, t, d = world.rng, [], end, last
    limit = world.now - EARLIEST
    while len(out) < n:
        burst = 1
        while burst < 5 and rng.random() < 0.45:
            burst += 1
        for _ in range(min(burst, n - len(out))):
            out.append((t, d))
            t -= timedelta(seconds=rng.uniform(8, 400))
        # The other side answers after minutes to days (median two hours); very old
        # threads are squeezed so nothing predates the workspace's three years.
        gap = min(20 * 86400.0, math.exp(rng.gauss(math.log(7200), 1.4)))
        if t - timedelta(seconds=gap) < limit:
            gap = rng.uniform(30, 600)
        t -= timedelta(seconds=gap)
        d = OUTBOUND if d == INBOUND else INBOUND
    out.reverse()
    # Keep times strictly increasing (the replay orders by time, then id).
    for i in range(1, len(out)):
        if out[i][0] <= out[i - 1][0]:
            out[i] = (out[i - 1][0] + timedelta(seconds=1), out[i][1])
    return out


def add_conversations(conn, world: World, conversations: int, messages: int) -> dict:
    """Write the conversations; returns {contact id: (evidence message id, platform, quote)}
    for contacts whose opt-out was a DM."""
    big = min(BIG_CONVERSATION, max(1, messages // 4))
    counts = split_counts(world, conversations, messages, big)
    pairs = _pairs(world, conversations)
    state = {"message_id": 0, "opt_outs": {}}
    for start in range(0, conversations, CHUNK):
        _write_chunk(conn, world, pairs, counts, start, min(conversations, start + CHUNK), state)
    first = pairs[0][0]
    world.special.update(big_contact=first.id, big_conversation=1, big_messages=counts[0])
    return state["opt_outs"]


def _author(world: World, p) -> int:
    rng = world.rng
    if p.owner_id is not None and p.owner_id not in world.users["admin"] and rng.random() < .9:
        return p.owner_id
    return rng.choice(world.reps)


def _write_chunk(conn, world: World, pairs, counts, start, stop, state) -> None:
    rng = world.rng
    conv_rows, msg_rows, bursts = [], [], []
    for index in range(start, stop):
        conv_id = index + 1
        p, platform, thread = pairs[index]
        last, end, closed_at, stop_line = _ending(world, p, index == 0)
        timeline = _times(world, counts[index], last, end)
        runs = [r for r in world.import_runs if r[1] == platform and r[2] > timeline[0][0]]
        run = rng.choice(runs) if runs and index != 0 and rng.random() < 0.6 else None
        author = _author(world, p)
        msgs, rows, pitched = [], [], False
        for k, (at, direction) in enumerate(timeline):
            state["message_id"] += 1
            mid = state["message_id"]
            media, template_id = None, None
            if direction == OUTBOUND:
                who = author if rng.random() < 0.92 else rng.choice(world.reps)
                if not pitched:
                    pitched = True
                    if rng.random() < 0.4:
                        template_id, _, body = rng.choice(world.templates)
                        body = body.replace("{first_name}", p.first)
                    else:
                        body = rng.choice(words.PITCHES).replace("{first}", p.first)
                else:
                    body = rng.choice(words.OUTBOUND)
            else:
                who = None
                body = rng.choice(words.INBOUND)
                if stop_line and k == len(timeline) - 1:
                    body = rng.choice(words.STOP_LINES)
            if rng.random() < 0.03 and not (stop_line and k == len(timeline) - 1):
                media = rng.choice(words.MEDIA)
                body = "" if rng.random() < 0.5 else body
            imported = run is not None and at <= run[2]
            msgs.append(_Msg(direction, at, who, mid))
            rows.append({
                "id": mid, "conversation_id": conv_id, "direction": direction, "sent_at": at,
                "body": body, "media": media, "author_id": who,
                "logged_by_id": None if imported else (who or p.owner_id or author),
                "sender_name": p.name if imported and direction == INBOUND else None,
                "template_id": template_id,
                "external_id": f"mid.{conv_id}.{k}" if imported else None, "fingerprint": None,
                "import_id": run[0] if imported else None, "replied_at": None,
                "created_at": run[2] if imported else at, "edited_at": None})
        step = replay(msgs, closed_at)
        values = {"id": conv_id, **step.state.values()}
        conv_bursts = [{"conversation_id": conv_id, "burst_started_at": b[0], "answered_at": b[1],
                        "response_seconds": b[2], "responder_id": b[3]} for b in step.bursts]
        for row, replied_at in zip(rows, step.replied):
            row["replied_at"] = replied_at
        if stop_line:
            state["opt_outs"][p.id] = (rows[-1]["id"], platform, STOP_QUOTES[rows[-1]["body"]])
        last_row = rows[-1]
        conv_rows.append({
            **values, "contact_id": p.id, "contact_owner_id": p.owner_id, "platform": platform,
            "external_thread_id": str(10 ** 16 + conv_id) if run else ("" if not thread
                                                                        else f"t{thread}"),
            "title": p.name if run else None, "is_group": False,
            "last_message_preview": preview_of(last_row["body"], last_row["media"]),
            "opt_out_message_id": None, "closed_at": closed_at,
            "created_at": run[2] if run else timeline[0][0]})
        bursts.extend(conv_bursts)
        msg_rows.extend(rows)
        out = [m for m in msgs if m.direction == OUTBOUND]
        world.conversations.append(ConversationSummary(
            conv_id, p.id, platform, values["state"], values["last_outbound_at"],
            out[-1].id if out else None, out[-1].author_id if out else None))
    load.insert(conn, "conversations", conv_rows)
    load.insert(conn, "messages", msg_rows)
    load.insert(conn, "response_times", bursts)
