"""The dashboard's filters: a date range in the viewer's time zone, owner, pipeline, campaign
and platform — read from the query string, so a view can be bookmarked and shared."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from crm.contacts.models import PLATFORMS
from crm.core.timeutil import from_local, local, utcnow

PRESETS = {"7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days",
           "quarter": "This quarter", "custom": "Custom"}
DEFAULT_PRESET = "30d"
MAX_DAYS = 731
SORTS = ("name", "sent", "replies", "reply_rate", "response", "won")


@dataclass
class Period:
    """One point of a trend line: [start, end) in UTC, labelled in the viewer's zone."""
    start: datetime
    end: datetime
    label: str


@dataclass
class DashboardFilters:
    preset: str = DEFAULT_PRESET
    first_day: date | None = None     # the local dates the range covers, both included
    last_day: date | None = None
    owner: str = ""                   # "" everyone or a user id (reps: always themselves)
    pipeline: str = ""
    campaign: str = ""
    platform: str = ""
    sort: str = "won"
    desc: bool = True
    tz: str = "UTC"
    errors: dict = field(default_factory=dict)   # field name -> message
    typed_from: str = ""              # what was typed in the custom fields, shown back
    typed_to: str = ""
    start: datetime | None = None     # naive UTC bounds of the range: [start, end)
    end: datetime | None = None

    @classmethod
    def from_args(cls, args, tz_name: str | None, now: datetime | None = None):
        """Parse and check the query string; bad values fall back and say why."""
        f = cls(tz=tz_name or "UTC")
        preset = args.get("preset") or DEFAULT_PRESET
        if preset not in PRESETS:
            f.errors["preset"] = "Choose a date range from the list."
            preset = DEFAULT_PRESET
        f.preset = preset
        today = local(now or utcnow(), f.tz).date()
        if preset == "custom":
            f.typed_from = (args.get("from") or "")[:20]
            f.typed_to = (args.get("to") or "")[:20]
            first = _parse_day(f.typed_from, "from", "From", f.errors)
            last = _parse_day(f.typed_to, "to", "To", f.errors)
            if first and last and first > last:
                f.errors["to"] = "To must be on or after From."
            elif first and last and (last - first).days >= MAX_DAYS:
                f.errors["to"] = f"Choose a range of at most {MAX_DAYS} days."
            if f.errors.get("from") or f.errors.get("to"):
                preset = DEFAULT_PRESET   # the figures fall back; the form shows the errors
            else:
                f.first_day, f.last_day = first, last
        if preset != "custom":
            f.first_day, f.last_day = preset_days(preset, today)
        f.start = from_local(datetime.combine(f.first_day, time()), f.tz)
        f.end = from_local(datetime.combine(f.last_day + timedelta(days=1), time()), f.tz)
        f.owner = _digits(args.get("owner"))
        f.pipeline = _digits(args.get("pipeline"))
        f.campaign = _digits(args.get("campaign"))
        platform = args.get("platform") or ""
        f.platform = platform if platform in PLATFORMS else ""
        sort = args.get("sort") or "won"
        f.sort = sort if sort in SORTS else "won"
        f.desc = args.get("dir", "desc" if f.sort != "name" else "asc") != "asc"
        return f

    @property
    def range_label(self) -> str:
        if self.first_day == self.last_day:
            return f"{self.first_day:%d %b %Y}"
        same_year = self.first_day.year == self.last_day.year
        return f"{self.first_day:%d %b}{'' if same_year else self.first_day.strftime(' %Y')} – " \
               f"{self.last_day:%d %b %Y}"

    def as_args(self, **overrides) -> dict:
        """The query string that reproduces this view (for links, exports and drill-downs)."""
        out = {"preset": self.preset if self.preset != DEFAULT_PRESET else "",
               "owner": self.owner, "pipeline": self.pipeline, "campaign": self.campaign,
               "platform": self.platform}
        if self.preset == "custom":
            if self.errors:
                out["preset"] = ""
            else:
                out["from"], out["to"] = self.first_day.isoformat(), self.last_day.isoformat()
        if self.sort != "won" or not self.desc:
            out["sort"], out["dir"] = self.sort, "desc" if self.desc else "asc"
        out.update(overrides)
        return {k: v for k, v in out.items() if v not in ("", None)}

    def filter_args(self, **overrides) -> dict:
        """as_args without the leaderboard's sort (what drill-downs and exports need)."""
        return {k: v for k, v in self.as_args(**overrides).items() if k not in ("sort", "dir")}

    @property
    def period_name(self) -> str:
        """What one point of a trend line stands for."""
        days = (self.last_day - self.first_day).days + 1
        return "day" if days <= 14 else "week" if days <= 26 * 7 else "month"

    def periods(self) -> list[Period]:
        """Days for a range up to two weeks, weeks (from Monday) up to 26 weeks, else months."""
        days = (self.last_day - self.first_day).days + 1
        if days <= 14:
            starts = [self.first_day + timedelta(days=i) for i in range(days)]
            fmt = "%a %d"
        elif days <= 26 * 7:
            monday = self.first_day - timedelta(days=self.first_day.weekday())
            starts = [self.first_day] + [monday + timedelta(weeks=i)
                                         for i in range(1, days // 7 + 2)]
            fmt = "%d %b"
        else:
            starts, d = [self.first_day], self.first_day.replace(day=1)
            while (d := (d + timedelta(days=32)).replace(day=1)) <= self.last_day:
                starts.append(d)
            fmt = "%b %Y"
        starts = [d for d in starts if d <= self.last_day]
        ends = starts[1:] + [self.last_day + timedelta(days=1)]
        return [Period(from_local(datetime.combine(d, time()), self.tz),
                       from_local(datetime.combine(nxt, time()), self.tz),
                       d.strftime(fmt).replace(" 0", " ").lstrip("0"))
                for d, nxt in zip(starts, ends)]


def preset_days(preset: str, today: date) -> tuple[date, date]:
    """First and last local day of a preset range ending today."""
    if preset == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    days = {"7d": 7, "30d": 30, "90d": 90}[preset]
    return today - timedelta(days=days - 1), today


def _parse_day(value, key: str, label: str, errors: dict) -> date | None:
    value = (value or "").strip()
    if not value:
        errors[key] = f"{label}: choose a date."
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[key] = f"{label} must be a date (YYYY-MM-DD)."
        return None


def _digits(value) -> str:
    value = (value or "").strip()
    return value if value.isdigit() else ""
