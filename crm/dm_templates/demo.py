"""Demo templates: the pitches and follow-ups a team really sends."""
from crm.dm_templates.models import DMTemplate
from crm.extensions import db

TEMPLATES = [
    ("First pitch — creators", "instagram",
     "Hi {first_name}! I'm {my_name} from the partnerships team. Your recent posts are exactly "
     "the vibe we're after for {campaign} — would you be open to a paid collab? Happy to send "
     "the brief and rates."),
    ("First pitch — leads", "linkedin",
     "Hi {first_name}, thanks for connecting! I'm {my_name}. We help teams like yours turn DMs "
     "into booked calls. Worth a 15-minute chat next week?"),
    ("Gentle follow-up", None,
     "Hey {first_name}, just bumping this in case it got buried 🙂 No pressure at all — "
     "happy to share details whenever suits you."),
    ("Send the brief", None,
     "Amazing, thank you {first_name}! Here's the brief for {campaign}. Deliverables: 1 reel + "
     "3 stories. Let me know your rate and preferred posting week."),
    ("TikTok hello", "tiktok",
     "Hi {first_name}! Loved your last video on {platform} 🔥 I'm {my_name} — we'd love to "
     "work with {handle} on an upcoming campaign. Interested?"),
    ("Thanks after posting", None,
     "Thank you so much {first_name}! The post looks great and the numbers are already "
     "strong. Payment is on its way — let's do this again soon."),
]


def load(ctx) -> None:
    authors = ctx.users.get("manager", []) + ctx.users.get("rep", [])
    for i, (name, platform, body) in enumerate(TEMPLATES):
        db.session.add(DMTemplate(name=name, platform=platform, body=body,
                                  created_by_id=authors[i % len(authors)].id if authors else None))
    db.session.flush()
