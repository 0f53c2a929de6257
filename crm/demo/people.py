"""Demo users and contacts."""
import unicodedata
from datetime import timedelta

from crm.accounts.models import User
from crm.contacts import consent, services
from crm.contacts.models import Contact
from crm.core.timeutil import utcnow
from crm.demo import data
from crm.extensions import db

USERS = [
    ("admin@rapport.test", "Avery Admin", "admin"),
    ("manager@rapport.test", "Morgan Manager", "manager"),
    ("rep@rapport.test", "Riley Rep", "rep"),
    ("rep2@rapport.test", "Sam Seller", "rep"),
]
HANDLE_PLATFORMS = ["instagram", "instagram", "tiktok", "x", "youtube", "linkedin", "whatsapp"]


def load(ctx, count: int) -> None:
    rng = ctx.rng
    for email, name, role in USERS:
        user = User(email=email, name=name, role=role)
        user.set_password(data.DEMO_PASSWORD)
        db.session.add(user)
        ctx.users.setdefault(role, []).append(user)
    db.session.flush()
    reps = ctx.users["rep"]
    manager = ctx.users["manager"][0]
    used = set()
    now = utcnow()
    for i in range(count):
        first, last = rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES)
        kind = rng.choices(["influencer", "lead", "contact"], weights=[45, 35, 20])[0]
        contact = Contact(
            kind=kind, name=f"{first} {last}", first_name=first,
            email=f"{first}.{last}{i}@example.com".lower().replace("'", "").replace(" ", ""),
            company=rng.choice(data.COMPANIES) if kind != "influencer" else None,
            location=rng.choice(data.CITIES),
            owner_id=rng.choice(reps + reps + [manager]).id if rng.random() > .15 else None,
        )
        if kind == "influencer":
            contact.niche = rng.choice(data.NICHES)
            contact.rate_per_post_minor = rng.choice([250, 500, 800, 1200, 2500, 5000]) * 100
        elif kind == "lead":
            contact.lead_source = rng.choice(data.LEAD_SOURCES)
            contact.estimated_value_minor = rng.choice([2, 5, 8, 12, 20, 40]) * 100000
        contact.created_at = contact.updated_at = now - timedelta(days=rng.randint(0, 200))
        db.session.add(contact)
        for platform in rng.sample(HANDLE_PLATFORMS, rng.choice([1, 1, 2, 2, 3])):
            base = f"{first}{rng.choice(['', '.', '_'])}{last}".lower()
            base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
            base = "".join(c for c in base if c.isalnum() or c in "._")[:14]
            if platform == "x":
                base = base.replace(".", "_")
            handle = base if platform != "whatsapp" else f"+1555{rng.randint(1000000, 9999999)}"
            while (platform, handle) in used:
                handle = f"{base[:20]}{rng.randint(1, 999)}"
            used.add((platform, handle))
            services.add_handle(None, contact, platform, handle,
                                followers=rng.randint(2_000, 900_000) if kind == "influencer" else None,
                                engagement_rate=round(rng.uniform(0.8, 9.5), 1) if kind == "influencer" else None,
                                audited=False)
        services.set_tags(contact, rng.sample(data.TAGS, rng.choice([0, 1, 1, 2])))
        services.refresh_search_text(contact)
        ctx.contacts.append(contact)
    db.session.flush()
    for contact in rng.sample(ctx.contacts, max(1, count // 12)):
        consent.change_consent(None, contact, status="opted_out",
                               source=rng.choice(["Replied STOP in DM", "Asked by email",
                                                  "Unsubscribed from newsletter"]),
                               at=now - timedelta(days=rng.randint(1, 90)))
    for contact in rng.sample(ctx.contacts, max(1, count // 5)):
        if contact.consent_status == "unknown":
            consent.change_consent(None, contact, status="opted_in", source="Agreed in DM",
                                   at=now - timedelta(days=rng.randint(1, 120)))
    for contact in rng.sample(ctx.contacts, max(1, count // 40)):
        consent.change_consent(None, contact, do_not_contact=True, source="Legal request")
