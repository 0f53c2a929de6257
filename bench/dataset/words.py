"""What the generated workspace is made of: names, companies, DM lines, deal and task titles.

Surnames follow a long-tailed distribution (a few very common, thousands rare) so that
searching for a common one, as people do, returns thousands of matches at full size.
"""
import itertools

COMMON_SURNAME = "garcia"   # the benchmark's "search for a common surname"

SURNAMES = [
    "Garcia", "Smith", "Nguyen", "Müller", "Kim", "Patel", "Rossi", "Silva", "Chen", "Johnson",
    "Okafor", "Kowalski", "Martin", "Haddad", "Tanaka", "Dubois", "Larsen", "Novak", "Costa",
    "Ahmed", "Fischer", "Santos", "Ivanova", "Johansson", "Mensah", "Lindqvist", "Nair", "Moreau",
    "Weber", "Yilmaz", "Bianchi", "Andersen", "Flores", "Sato", "Hughes", "Reyes", "Rahman",
    "O'Brien", "Martins", "Lopez", "Brown", "Williams", "Jones", "Miller", "Davis", "Wilson",
    "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris", "Clark", "Lewis", "Walker",
    "Hall", "Young", "Allen", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
    "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Torres",
    "Parker", "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan",
    "Peterson", "Cooper", "Reed", "Bailey", "Bell", "Gomez", "Kelly", "Howard", "Ward", "Cox",
    "Diaz", "Richardson", "Wood", "Watson", "Brooks", "Bennett", "Gray", "James", "Hernández",
    "Schmidt", "Schneider", "Becker", "Hoffmann", "Wagner", "Koch", "Richter", "Klein", "Wolf",
    "Schröder", "Neumann", "Braun", "Zimmermann", "Krüger", "Hartmann", "Lange", "Werner",
    "Leroy", "Lefebvre", "Roux", "Fournier", "Girard", "Bonnet", "Lambert", "Fontaine",
    "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Esposito",
    "Nowak", "Wiśniewski", "Wójcik", "Kaminski", "Lewandowski", "Zieliński", "Szymański",
    "Singh", "Kumar", "Sharma", "Gupta", "Reddy", "Iyer", "Das", "Bose", "Mehta", "Joshi",
    "Wang", "Li", "Zhang", "Liu", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Park", "Lee",
    "Choi", "Jung", "Kang", "Cho", "Yoon", "Suzuki", "Takahashi", "Watanabe", "Ito", "Nakamura",
    "Kobayashi", "Yamamoto", "Adeyemi", "Okonkwo", "Balogun", "Mwangi", "Otieno", "Osei",
    "Boateng", "Diallo", "Traoré", "Ndiaye", "Ferreira", "Oliveira", "Souza", "Pereira",
    "Almeida", "Carvalho", "Ribeiro", "Gonçalves", "Nielsen", "Hansen", "Pedersen", "Berg",
    "Eriksson", "Karlsson", "Nilsson", "Virtanen", "Korhonen", "Mäkinen", "Horvat", "Kovač",
]

# Syllables for the long tail of rarer surnames ("Valmora", "Kestrand", …).
_HEADS = ["Val", "Kes", "Mor", "Dal", "Bren", "Cor", "Fen", "Gar", "Hal", "Ist", "Jor", "Kal",
          "Lor", "Mar", "Nor", "Ost", "Pel", "Quin", "Ros", "Sel", "Tor", "Ul", "Ver", "Wil",
          "Yor", "Zan", "Ash", "Bel", "Cal", "Dun"]
_TAILS = ["mora", "trand", "wick", "ford", "ani", "escu", "ovic", "berg", "holm", "ström",
          "ley", "ton", "ard", "elli", "ino", "oux", "ak", "ski", "sen", "dottir", "ez", "az",
          "ian", "yan", "ou", "ia", "ova", "uk", "enko", "anu"]
TAIL_SURNAMES = [h + t for h, t in itertools.product(_HEADS, _TAILS)]

FIRST_NAMES = [
    "Maya", "Liam", "Sofia", "Noah", "Aisha", "Mateo", "Chloe", "Ethan", "Priya", "Lucas", "Zara",
    "Oliver", "Amara", "Leo", "Hana", "Diego", "Freya", "Kai", "Nia", "Jonas", "Elena", "Omar",
    "Isla", "Ravi", "Mila", "Tariq", "Ines", "Felix", "Yara", "Hugo", "Lena", "Sami", "Aria",
    "Marco", "Keiko", "Theo", "Layla", "Arjun", "Nora", "Emeka", "Clara", "Jae", "Renée", "Tomás",
    "Emma", "Olivia", "Ava", "Mia", "Amelia", "Harper", "Evelyn", "Abigail", "Emily", "Ella",
    "James", "Benjamin", "Elijah", "William", "Henry", "Alexander", "Daniel", "Michael", "Jack",
    "Sebastian", "Samuel", "David", "Joseph", "Carter", "Owen", "Wyatt", "John", "Luke", "Grace",
    "Chiara", "Giulia", "Matteo", "Lorenzo", "Anna", "Lea", "Paul", "Ben", "Finn", "Emil", "Jana",
    "Camille", "Louise", "Jules", "Gabriel", "Arthur", "Inès", "Lucía", "Martina", "Pablo",
    "Alejandro", "Valentina", "Camila", "Santiago", "Ananya", "Vihaan", "Aditya", "Diya", "Wei",
    "Mei", "Jun", "Min-jun", "Seo-yeon", "Yuki", "Haruto", "Sakura", "Chidi", "Ngozi", "Kwame",
    "Abena", "Fatima", "Youssef", "Mariam", "Ali", "Leila", "Astrid", "Sven", "Ingrid", "Aino",
]

COMPANY_HEADS = ["Northwind", "Glow", "Pixel", "Urban", "Lumen", "Bright", "Cedar", "Velvet",
                 "Mosaic", "Atlas", "Sunday", "Kinfolk", "Tidewater", "Nimbus", "Orbit", "Juniper",
                 "Copper", "Harbor", "Maple", "Summit", "Signal", "Field", "Paper", "Wild",
                 "Golden", "Blue", "Iron", "Silver", "Coral", "Fern"]
COMPANY_TAILS = ["Outfitters", "Theory", "& Pine", "Sprout", "Labs", "Harbor", "Collective",
                 "Rocket", "Health", "Coffee Co.", "Supply", "Studio", "Goods", "Fitness", "Audio",
                 "Analytics", "Foods", "Beauty", "Travel", "Media", "Apparel", "Software"]
COMPANIES = [f"{h} {t}" for h, t in itertools.product(COMPANY_HEADS, COMPANY_TAILS)]
EMAIL_DOMAINS = ["gmail.com", "outlook.com", "icloud.com", "proton.me", "yahoo.com"]

NICHES = ["beauty", "fitness", "travel", "food", "tech", "gaming", "fashion", "parenting",
          "finance", "wellness", "home decor", "pets"]
CITIES = ["Lisbon", "Austin", "Berlin", "Toronto", "Lagos", "Mumbai", "Stockholm", "Melbourne",
          "Mexico City", "London", "Seoul", "Milan", "Nairobi", "Brooklyn", "Barcelona", "Paris",
          "Tokyo", "São Paulo", "Cape Town", "Dublin"]
LEAD_SOURCES = ["Instagram ad", "Referral", "LinkedIn outreach", "Webinar", "Inbound DM",
                "Trade show", "Cold outreach"]
TAGS = ["q1-launch", "vip", "ugc", "gifting", "affiliate", "enterprise", "smb", "agency",
        "warm", "needs-brief", "spring-2026", "ambassador"]

# DM lines. None contains a stop phrase: opt-outs are written on purpose (STOP_LINES).
PITCHES = [
    "Hi {first}! Loved your latest post 😊 Would you be open to a paid collab next month?",
    "Hey {first}, we're launching a new line and think your audience would love it. "
    "Could I send you the brief?",
    "Hi {first} — quick one: do you take on brand partnerships at the moment?",
    "Hello {first}, I lead partnerships at our studio. Are you open to a short call this week?",
    "Hi {first}! Thanks for connecting. We help teams like yours keep DMs organised — "
    "worth a 15-minute chat?",
]
OUTBOUND = [
    "Great, sending the brief now 🙌", "Does Thursday 3pm work for a quick call?",
    "Just checking in — did you get a chance to look at the brief?",
    "Our budget for one reel and three stories is around $1,200. Does that work?",
    "Here's the overview: https://example.com/overview.pdf", "Perfect, talk soon!",
    "Thanks! I'll share this with the team and get back to you tomorrow.",
    "Could you send your media kit and recent results?", "Contract attached — let me know 👍",
    "Happy to adjust the timeline. What dates suit you?",
    "Following up on my last message — would next week be better?",
    "Invoice received, thank you! Payment goes out on Friday.",
    "Sounds good. I'll put the 20th in the calendar.",
    "We loved the draft! Two small notes: could the product be visible in the first three "
    "seconds, and could you tag our main account in the caption? Otherwise it's ready to go.",
]
INBOUND = [
    "Hey! Thanks for reaching out 😊 What did you have in mind?", "Sounds interesting, tell me more",
    "What's the budget?", "Sure — send me the brief.", "Rates attached, let me know 👍",
    "Can we move the call to 10am?", "Deal 🎉", "Thanks so much!", "Sounds good",
    "Quick question about usage rights…", "Invoice sent.", "What's the deadline?",
    "Perfect, see you there!\nBring the permits.", "Let me check with my manager.",
    "I'm travelling this week, can we talk on Monday?", "Love it!! 💕",
    "For a reel plus stories I usually charge $1,500. Is the timeline flexible?",
    "Got it, thank you! Will review tonight.", "Signed and sent back ✍️",
    "Hi! Possibly — how many posts would it be, and do you need usage rights for ads too? "
    "My calendar is quite full until the 15th but I could squeeze in a story set before that.",
]
STOP_LINES = ["please stop messaging me", "Not interested, don't message me again.",
              "unsubscribe", "Remove me from your list please."]
MEDIA = ["photo", "photo", "video", "audio", "share", "file"]

INFLUENCER_DEALS = ["Spring collab", "Reel + stories", "Unboxing video", "Holiday gift guide",
                    "Ambassador programme", "Product seeding", "Giveaway", "Launch story set"]
SALES_DEALS = ["Team plan", "Annual licence", "Pilot", "Upgrade to Business", "Renewal",
               "Agency bundle", "Onboarding package"]
NEXT_STEPS = ["Send the brief", "Share pricing", "Book a demo", "Send the contract",
              "Wait for the draft", "Chase the invoice", "Confirm posting date", None, None]
TASK_TITLES = ["Send the brief to {name}", "Call {name} about the proposal",
               "Check {name}'s draft", "Share pricing with {name}", "Book a demo with {name}",
               "Ask {name} for results", "Confirm the posting date with {name}",
               "Renewal chat with {name}", "Send {name} the contract"]
CAMPAIGNS = ["Spring launch", "Summer glow", "Back to school", "Holiday gift guide",
             "Black Friday", "New Year reset", "Valentine's edit", "Festival season",
             "Autumn capsule", "Creator week", "Wellness month", "Travel diaries"]
TEMPLATE_NAMES = ["First pitch", "Follow-up after 3 days", "Send the brief", "Rate question",
                  "Demo invite", "Thanks after posting", "Renewal nudge", "Contract reminder"]


def weighted_surnames():
    """[(surname, weight)]: Zipf-like over the common list, a flat long tail after it."""
    head = [(s, 1.0 / (rank + 1) ** 0.6) for rank, s in enumerate(SURNAMES)]
    head_mass = sum(w for _, w in head)
    # The tail carries half of all people; the commonest surname is about 2.5 %.
    tail_w = head_mass / len(TAIL_SURNAMES)
    return head + [(s, tail_w) for s in TAIL_SURNAMES]


def weighted_first_names():
    return [(s, 1.0 / (rank + 1) ** 0.5) for rank, s in enumerate(FIRST_NAMES)]
