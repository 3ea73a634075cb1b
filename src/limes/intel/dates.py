"""Dates in a text: the publication date, and the dates of events resolved against it.

An event date is an interval of days, because the press writes "last month" or "in late 2017"
as often as "on 3 June": a day-precise expression gives a one-day interval, "last month" the
whole month before publication, "late 2017" its last four months. Relative expressions are
resolved against the publication date (`dateparser` with `RELATIVE_BASE`); early / mid / late
take a third (of a year: January–April, May–August, September–December); a weekday means
the latest such day on or before publication ("on Monday" in a Monday paper is that day).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dateparser

from limes.intel.text import Span

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_N = r"(\d{1,2}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_MON = rf"(?:{_MONTHS})\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"

# Ordered: the first pattern to claim characters wins (longest, most precise first).
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(rf"\b{_YEAR}-\d{{2}}-\d{{2}}\b")),
    ("dmy", re.compile(rf"\b{_DAY} (?:of )?{_MON},? {_YEAR}\b")),
    ("mdy", re.compile(rf"\b{_MON} {_DAY},? {_YEAR}\b")),
    ("dm", re.compile(rf"\b{_DAY} (?:of )?{_MON}(?!\w)")),
    ("md", re.compile(rf"\b{_MON} {_DAY}\b(?!,? ?\d)")),
    ("part_month", re.compile(rf"\b(early|mid|late|the end of|the start of|the beginning of)"
                              rf"[- ](?:{_MON})(?: {_YEAR})?\b", re.I)),
    ("part_year", re.compile(rf"\b(early|mid|late|the end of|the start of|the beginning of)"
                             rf"[- ]{_YEAR}\b", re.I)),
    ("month_year", re.compile(rf"\b{_MON} {_YEAR}\b")),
    ("season", re.compile(rf"\b(spring|summer|autumn|fall|winter)(?: of)? {_YEAR}\b", re.I)),
    ("between_months", re.compile(rf"\bbetween (?P<d>(?:{_MONTHS})) and (?:{_MONTHS})\b")),
    ("and_month", re.compile(rf"\bbetween (?:{_MONTHS}) and (?P<d>(?:{_MONTHS}))\b")),
    ("month", re.compile(rf"\b(?i:in|since|during|until|by|of|last|this) (?P<d>{_MONTHS})\b")),
    ("year", re.compile(rf"\b(?:in|since|during|until|of) (?P<d>{_YEAR})\b")),
    ("ago", re.compile(rf"\b{_N} (day|week|month|year)s? ago\b", re.I)),
    ("weekday", re.compile(rf"\b(?:last |this )?(?:{_WEEKDAYS})\b")),
    ("relative_day", re.compile(
        r"\b(the day before yesterday|yesterday|today|tonight|last night|this (morning|afternoon|"
        r"evening)|earlier today)\b", re.I)),
    ("relative_period", re.compile(
        r"\b(earlier|late|last|this|past|previous|the start of the|the beginning of the) "
        r"(week|month|year)\b", re.I)),
]  # fmt: skip

_DATEPARSER_SETTINGS = {"PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False}


@dataclass(frozen=True)
class DateMention:
    """A date expression in the body and the interval of days it stands for (inclusive)."""

    span: Span
    text: str
    start: date
    end: date
    relative: bool

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "span": [self.span.start, self.span.end],
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


def _parse_day(text: str, base: date) -> date | None:
    """A day-precise expression through dateparser, relative to the publication date."""
    settings = {**_DATEPARSER_SETTINGS, "RELATIVE_BASE": datetime(base.year, base.month, base.day)}
    got = dateparser.parse(text, languages=["en"], settings=settings)
    return got.date() if got else None


def _month_number(text: str) -> int:
    key = text.strip(". ").lower()[:3]
    return [m.lower()[:3] for m in calendar.month_name[1:]].index(key) + 1


def _month(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _part(which: str, lo: date, hi: date) -> tuple[date, date]:
    """Early / mid / late thirds of a month ("late March" = its last third)."""
    days = (hi - lo).days + 1
    third = days // 3
    w = which.lower()
    if w in ("early", "the start of", "the beginning of"):
        return lo, lo + timedelta(days=third - 1)
    if w == "mid":
        return lo + timedelta(days=third), hi - timedelta(days=third)
    return hi - timedelta(days=third - 1), hi


def _past_month(name: str, base: date) -> int:
    """The year of the latest month of this name on or before the publication month."""
    m = _month_number(name)
    return base.year if m <= base.month else base.year - 1


def _resolve(kind: str, m: re.Match[str], base: date) -> tuple[date, date] | None:
    text = _expression(m)
    low = text.lower()
    if kind in ("iso", "dmy", "mdy", "dm", "md", "ago"):
        if kind == "ago":
            n = m.group(1).lower()
            count = _NUMBER_WORDS.get(n) or int(n)
            unit = m.group(2).lower()
            if unit in ("week", "month", "year"):
                day = _parse_day(f"{count} {unit}s ago", base)
                if day is None:
                    return None
                return (day, day) if unit == "week" else (day - timedelta(days=15), day)
            text = f"{count} days ago"
        day = _parse_day(text.replace(" of ", " "), base)
        return (day, day) if day else None
    if kind == "weekday":
        wd = next(i for i, n in enumerate(calendar.day_name) if n in text)
        back = (base.weekday() - wd) % 7
        if low.startswith("last ") and back == 0:
            back = 7
        day = base - timedelta(days=back)
        return day, day
    if kind == "relative_day":
        if "before yesterday" in low:
            day = base - timedelta(days=2)
        elif "yesterday" in low or "last night" in low:
            day = base - timedelta(days=1)
        else:
            day = base
        return day, day
    if kind == "relative_period":
        which, unit = m.group(1).lower(), m.group(2).lower()
        if unit == "week":
            monday = base - timedelta(days=base.weekday())
            if which in ("last", "previous", "past"):
                return (
                    (base - timedelta(days=7), base - timedelta(days=1))
                    if which == "past"
                    else (monday - timedelta(days=7), monday - timedelta(days=1))
                )
            return monday, base
        if unit == "month":
            if which in ("last", "previous", "past"):
                prev = base.replace(day=1) - timedelta(days=1)
                return _month(prev.year, prev.month)
            return base.replace(day=1), base
        if which in ("last", "previous", "past"):
            return date(base.year - 1, 1, 1), date(base.year - 1, 12, 31)
        return date(base.year, 1, 1), base
    if kind == "part_month":
        month_name = re.search(_MONTHS, text)
        assert month_name is not None
        year_m = re.search(_YEAR, text)
        year = int(year_m.group(0)) if year_m else _past_month(month_name.group(0), base)
        return _part(m.group(1), *_month(year, _month_number(month_name.group(0))))
    if kind == "part_year":
        year = int(re.findall(_YEAR, text)[-1])
        which = m.group(1).lower()
        if which in ("early", "the start of", "the beginning of"):
            return date(year, 1, 1), date(year, 4, 30)
        if which == "mid":
            return date(year, 5, 1), date(year, 8, 31)
        return date(year, 9, 1), date(year, 12, 31)
    if kind == "month_year":
        month_name = re.match(_MONTHS, text)
        assert month_name is not None
        return _month(int(text[-4:]), _month_number(month_name.group(0)))
    if kind in ("month", "between_months", "and_month"):
        return _month(_past_month(text, base), _month_number(text))
    if kind == "season":
        year = int(text[-4:])
        first = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}[
            text.split()[0].lower()
        ]
        if first == 12:  # the winter of a year: its December to the next February
            return date(year, 12, 1), _month(year + 1, 2)[1]
        return date(year, first, 1), _month(year, first + 2)[1]
    if kind == "year":
        return date(int(text), 1, 1), date(int(text), 12, 31)
    return None


def _expression(m: re.Match[str]) -> str:
    """The date words of a match (a leading preposition is context, not part of the date)."""
    return m.group("d") if "d" in m.re.groupindex else m.group(0)


def _span(m: re.Match[str]) -> tuple[int, int]:
    return m.span("d") if "d" in m.re.groupindex else m.span()


_RELATIVE_KINDS = {
    "dm",
    "md",
    "ago",
    "weekday",
    "relative_day",
    "relative_period",
    "month",
    "between_months",
    "and_month",
}


def find_dates(body: str, published: date | None) -> list[DateMention]:
    """Every date expression in the body with its interval; relative ones need `published`.

    Without a publication date, only expressions that carry their own year are resolved.
    """
    taken = [False] * len(body)
    out: list[DateMention] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(body):
            lo, hi = _span(m)
            if any(taken[lo:hi]):
                continue
            relative = kind in _RELATIVE_KINDS or (
                kind == "part_month" and not re.search(_YEAR, m.group(0))
            )
            if relative and published is None:
                continue
            got = _resolve(kind, m, published or date(1970, 1, 1))
            if got is None:
                continue
            for i in range(lo, hi):
                taken[i] = True
            out.append(DateMention(Span(lo, hi), body[lo:hi], got[0], got[1], relative))
    out.sort(key=lambda d: d.span.start)
    return out


_PUBLISHED_PREFIX = re.compile(
    r"^(published|posted|updated|date|dated|dtg|sent)\s*(on|at)?\s*[:\-–]?\s*", re.I
)


def parse_publication(text: str) -> datetime | None:
    """A full calendar date (day, month and year) in a header line, as an aware UTC time.

    Lines that only name a month or a weekday are not publication dates.
    """
    line = _PUBLISHED_PREFIX.sub("", text.strip())
    if not line or len(line.split()) > 9 or not re.search(_YEAR, line):
        return None
    if not (
        re.search(_MONTHS, line)
        or re.search(rf"{_YEAR}-\d{{2}}-\d{{2}}", line)
        or re.search(r"\d{1,2}/\d{1,2}/\d{4}", line)
    ):
        return None
    got = dateparser.parse(
        line,
        languages=["en"],
        settings={
            "STRICT_PARSING": True,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "TIMEZONE": "UTC",
            "TO_TIMEZONE": "UTC",
            "DATE_ORDER": "DMY",
        },
    )
    if got is None:
        return None
    return got.astimezone(UTC)
