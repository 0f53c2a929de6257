"""Demo DM threads: pitches, replies, negotiations, some waiting on us, a few opt-outs.

Messages go through the ingestion service like every other road, as history (not outreach:
no consent gate), so the kept reply state is exactly what the rules give.
"""
from datetime import timedelta

from sqlalchemy import select

from crm.contacts.consent import may_contact
from crm.conversations import ingest
from crm.conversations.ingest import IncomingMessage
from crm.conversations.models import Conversation, Message
from crm.conversations.reply_state import close
from crm.conversations.services import flag_if_opt_out
from crm.core.timeutil import utcnow
from crm.dm_templates import placeholders
from crm.dm_templates.models import DMTemplate
from crm.extensions import db

CAMPAIGNS = ["our spring launch", "the summer glow campaign", "our holiday gift guide"]
INFLUENCER_REPLIES = [
    ["Hey! Thanks for reaching out 😊 What did you have in mind?",
     "Omg I love your brand!! Tell me more 💕", "Hi! Possibly — what's the budget?"],
    ["We're thinking 1 reel + 3 stories for {campaign}. What would your rate be?",
     "It would be a paid collab: one reel and a story set. Can you share your rates?"],
    ["For that package I usually charge around ${rate}. Is the timeline flexible?",
     "My rate for a reel + stories is ${rate}.\nI'm booked until the 15th though.",
     "I can do ${rate} for the bundle. Do you need usage rights too?"],
    ["That works for us! Sending the brief over now 🙌",
     "Perfect — the 20th is great. I'll send the brief and contract today."],
    ["Got it, thank you! Will review tonight.", "Amazing, signed and sent back ✍️"],
]
LEAD_REPLIES = [
    ["Hi! Maybe — what does pricing look like for a team of 10?",
     "Thanks for the note. We're evaluating tools this quarter actually.",
     "Hey, timing is good. Can you send a deck?"],
    ["Our Team plan is $49/seat/month, with a 14-day trial. Would Thursday 3pm work for a demo?",
     "Here's a short overview: https://example.com/rapport-overview.pdf\nHappy to walk you "
     "through it — does Thursday work?"],
    ["Thursday works. Please send an invite to my email.",
     "Can we do next week instead? This one is packed.",
     "Let me loop in my manager first and get back to you."],
    ["Invite sent — talk Thursday!", "No problem at all, next Tuesday 10am?"],
]
FOLLOW_UPS = ["Also — do you ship to Canada?", "Sorry, one more thing: is the contract exclusive?",
              "And could you share past campaign results?"]
OPT_OUTS = ["please stop messaging me", "Not interested. Don't message me again.",
            "unsubscribe", "Remove me from your list please."]
THANKS = ["Thanks so much! 🙏", "Perfect, all good on my side 👍"]


def _platform(contact, kind):
    wanted = ["linkedin", "x", "instagram"] if kind == "lead" else ["instagram", "tiktok", "x"]
    have = [h.platform for h in contact.handles]
    for p in wanted:
        if p in have:
            return p
    return have[0] if have else "instagram"


def _pitch(template, contact, author, platform, rng):
    handle = next((h for h in contact.handles if h.platform == platform), None)
    values = {"first_name": contact.first_name, "name": contact.name, "my_name": author.name,
              "platform": platform.title(), "handle": handle.display if handle else contact.name,
              "campaign": rng.choice(CAMPAIGNS)}
    return placeholders.render(template.body, values).text


def _script(contact, author, platform, templates, rng):
    """(direction, body, media, template) tuples, oldest first."""
    kind = contact.kind
    lead = kind == "lead"
    template = templates.get("First pitch — leads" if lead else "First pitch — creators")
    if platform == "tiktok" and "TikTok hello" in templates:
        template = templates["TikTok hello"]
    steps = []
    if lead and contact.lead_source == "Inbound DM":
        steps.append(("in", "Hi! Saw your ad — do you do demos for small teams?", None, None))
        steps.append(("out", "Absolutely! I'm " + author.first_name + ". When suits you this week?",
                      None, None))
    else:
        steps.append(("out", _pitch(template, contact, author, platform, rng), None, template))
    rate = rng.choice([400, 650, 900, 1200, 2500])
    for i, options in enumerate(LEAD_REPLIES if lead else INFLUENCER_REPLIES):
        direction = "in" if i % 2 == 0 else "out"
        text = rng.choice(options).replace("{campaign}", rng.choice(CAMPAIGNS)).replace(
            "{rate}", f"{rate:,}")
        steps.append((direction, text, None, None))
        if direction == "in" and rng.random() < .12:
            steps.append(("in", "", rng.choice(["photo", "share", "video"]), None))
        if direction == "in" and rng.random() < .15:
            steps.append(("in", rng.choice(FOLLOW_UPS), None, None))
    return steps


def _times(n, end, rng):
    """n timestamps ending at `end`, with realistic gaps (minutes to a couple of days)."""
    times = [end]
    for _ in range(n - 1):
        gap = rng.choice([rng.uniform(2, 40), rng.uniform(60, 600), rng.uniform(600, 3000)])
        times.append(times[-1] - timedelta(minutes=gap))
    return list(reversed(times))


def load(ctx) -> None:
    rng, now = ctx.rng, utcnow()
    reps = ctx.users.get("rep", []) + ctx.users.get("manager", [])
    templates = {t.name: t for t in db.session.scalars(select(DMTemplate))}
    convs, opt_out_targets, to_close = [], [], []
    for contact in ctx.contacts:
        if rng.random() > .55:
            continue
        author = next((u for u in reps if u.id == contact.owner_id), None) or rng.choice(reps)
        platform = _platform(contact, contact.kind)
        steps = _script(contact, author, platform, templates, rng)
        allowed = may_contact(contact).allowed
        roll = rng.random()
        if not allowed:
            # History from before they opted out, ending with our message.
            steps = steps[:rng.choice([1, 3 if steps[2][0] == "out" else 1])]
            end = (contact.consent_changed_at or now) - timedelta(hours=rng.uniform(6, 72))
        elif roll < .06:
            steps = steps[:1] + [("in", rng.choice(OPT_OUTS), None, None)]
            end = now - timedelta(hours=rng.uniform(1, 30))
            opt_out_targets.append(len(convs))
        elif roll < .40:
            # Ends with them: waiting on us for minutes to several days.
            cut = [i + 1 for i, s in enumerate(steps) if s[0] == "in"]
            steps = steps[:rng.choice(cut)]
            end = now - timedelta(minutes=rng.choice([rng.uniform(15, 240), rng.uniform(240, 1440),
                                                      rng.uniform(1440, 6 * 1440)]))
        elif roll < .85:
            cut = [i + 1 for i, s in enumerate(steps) if s[0] == "out"]
            steps = steps[:rng.choice(cut)]
            follow_up = templates.get("Gentle follow-up")
            if len(steps) == 1 and follow_up and rng.random() < .4:
                text = follow_up.body.replace("{first_name}", contact.first_name or contact.name)
                steps.append(("out", text, None, follow_up))
            end = now - timedelta(hours=rng.uniform(2, 24 * 12))
        else:
            steps = steps + [("in", rng.choice(THANKS), None, None)]
            end = now - timedelta(days=rng.uniform(3, 40))
            to_close.append(len(convs))
        conv = Conversation(contact_id=contact.id, contact_owner_id=contact.owner_id,
                            platform=platform, external_thread_id="",
                            state="closed", message_count=0, created_at=end - timedelta(days=30))
        db.session.add(conv)
        convs.append((conv, contact, author, steps, _times(len(steps), end, rng)))
    db.session.flush()
    for conv, contact, author, steps, times in convs:
        ingest.ingest(author, conv, [
            IncomingMessage(direction, at, body, media,
                            author_id=author.id if direction == "out" else None,
                            logged_by_id=author.id,
                            template_id=template.id if template is not None else None)
            for (direction, body, media, template), at in zip(steps, times)])
    for i in opt_out_targets:
        conv = convs[i][0]
        last = db.session.scalars(select(Message).where(Message.conversation_id == conv.id)
                                  .order_by(Message.sent_at.desc()).limit(1)).first()
        flag_if_opt_out(conv, last)
    for i in to_close:
        conv = convs[i][0]
        close(conv, conv.last_message_at + timedelta(hours=2))
    db.session.flush()
