"""Names, companies and niches the demo workspace is made of."""
DEMO_PASSWORD = "rapport-demo-2026"

FIRST_NAMES = [
    "Maya", "Liam", "Sofia", "Noah", "Aisha", "Mateo", "Chloe", "Ethan", "Priya", "Lucas", "Zara",
    "Oliver", "Amara", "Leo", "Hana", "Diego", "Freya", "Kai", "Nia", "Jonas", "Elena", "Omar",
    "Isla", "Ravi", "Mila", "Tariq", "Ines", "Felix", "Yara", "Hugo", "Lena", "Sami", "Aria",
    "Marco", "Keiko", "Theo", "Layla", "Arjun", "Nora", "Emeka", "Clara", "Jae", "Renée", "Tomás",
]
LAST_NAMES = [
    "Lindqvist", "Okafor", "Nair", "Garcia", "Chen", "Rossi", "Kowalski", "Haddad", "Silva",
    "Müller", "Dubois", "Tanaka", "Johansson", "Patel", "Mensah", "Novak", "Costa", "Ahmed",
    "Kim", "Moreau", "Fischer", "Santos", "Ivanova", "Larsen", "O'Brien", "Rahman", "Weber",
    "Martins", "Yilmaz", "Bianchi", "Nguyen", "Andersen", "Flores", "Sato", "Hughes", "Reyes",
]
COMPANIES = [
    "Northwind Outfitters", "Glow Theory", "Pixel & Pine", "Urban Sprout", "Lumen Labs",
    "Bright Harbor", "Cedar Collective", "Velvet Rocket", "Mosaic Health", "Atlas Coffee Co.",
    "Sunday Supply", "Kinfolk Studio", "Tidewater Goods", "Nimbus Fitness", "Orbit Audio",
]
NICHES = ["beauty", "fitness", "travel", "food", "tech", "gaming", "fashion", "parenting",
          "finance", "wellness", "home decor", "pets"]
CITIES = ["Lisbon", "Austin", "Berlin", "Toronto", "Lagos", "Mumbai", "Stockholm", "Melbourne",
          "Mexico City", "London", "Seoul", "Milan", "Nairobi", "Brooklyn", "Barcelona"]
LEAD_SOURCES = ["Instagram ad", "Referral", "LinkedIn outreach", "Webinar", "Inbound DM",
                "Trade show", "Cold outreach"]
TAGS = ["q1-launch", "vip", "ugc", "gifting", "affiliate", "enterprise", "smb", "agency",
        "warm", "needs-brief"]
