"""Separating an article's body from the page around it, keeping what was cut and why.

Plain text is classified line by line: headline lists, time-stamped link lists, calls to
follow, comment spam, gossip, page furniture and broadcast furniture (a radio or TV
transcript's cues, station idents and programme announcements) are cut; what is left is the
body. HTML goes through trafilatura first (offline) and then through the same line
classifier, since trafilatura keeps some "Read more" lines and comments inside the article
element.

Each cut line is kept with its reason, so an analyst can check that nothing was lost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from limes.intel.text import normalise_space

# Reasons a line was removed (the vocabulary of `RemovedLine.reason`).
HEADLINE_LIST = "headline list"
LINK_LIST = "time-stamped link list"
CALL_TO_FOLLOW = "call to follow"
SPAM = "spam"
GOSSIP = "gossip"
FURNITURE = "page furniture"
BROADCAST = "broadcast furniture"
OUTSIDE_BODY = "outside the article body"


@dataclass(frozen=True)
class RemovedLine:
    """A line cut from a text: its position (0-based line of the input), words and reason."""

    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Cleaned:
    """The body (one paragraph a line) and every line removed from the input."""

    body: str
    removed: list[RemovedLine]


_HEADING_OF_LIST = re.compile(
    r"^(related( (stories|articles|news|coverage))?|read (more|also|next)|more (stories|news|from"
    r" .*)|most (read|popular|viewed|shared|commented|watched)( (this week|today|now))?|"
    r"trending( now| stories)?|top stories|latest( news| stories)?|you (may|might) (also )?like|"
    r"recommended( for you)?|see also|in other news|"
    r"editor'?s picks|popular|also on .*|more on this story|entertainment|lifestyle|"
    r"celebrity( news)?|what to read next|don'?t miss|(\w+ ){0,2}comments?( \(\d+\))?|"
    r"\d+ comments?)"
    r"\s*:?$",
    re.I,
)
_CALL_TO_FOLLOW = re.compile(
    r"\b(follow (us|our)|follow\b.{0,30}\bon (twitter|telegram|facebook|instagram|x|whatsapp|"
    r"youtube|tiktok)|download\b.{0,40}\bapp\b|subscribe|sign up|newsletter|"
    r"join our (telegram|whatsapp)|telegram channel|like us on|share (this|on)|click here|"
    r"tap here|turn on notifications|support (our|independent) journalism|become a member|"
    r"get the latest)\b",
    re.I,
)
# Calls to contribute: the outlet asking its audience for news. An official quoted asking
# residents to call a hotline is a sentence of the story, hence the attribution guard.
_CALL_TO_CONTRIBUTE = re.compile(
    r"\b((call|text|message|phone|ring|contact|whatsapp|write to) our (hotline|newsroom|"
    r"news ?desk|studio|team)|(send|share) (us )?your (news|stories|story|photos|videos|tips|"
    r"views))\b",
    re.I,
)
_ATTRIBUTION = re.compile(r"\b(said|says|told|according to|urged|asked)\b", re.I)
_SPAM = re.compile(
    r"(https?://|www\.|\.com/|\bearn(ed|ing)? \$|\bearn (money )?from home\b|\d+ ?\$ ?(a |per )?"
    r"(day|week|weekly|month|monthly)\b|\bcontact me\b|\$\d[\d,]* (a|per) (day|week|month)|"
    r"work(ing)? from home|crypto|bitcoin|casino|betting|forex|loan offer|dm me|whatsapp \+?\d|"
    r"\bcheck my profile\b|\bclick the link\b|\bweight loss\b|\bhot singles\b|\bvisit my\b|"
    r"\bcheap\b.*\bonline\b)",
    re.I,
)
_TIME_STAMP = re.compile(
    r"^(\[?\d{1,2}[:.]\d{2}\s*(am|pm|gmt|utc)?\]?\s*[-–|·]?\s|\d+\s+(min|mins|minutes|hours?|hrs?|"
    r"days?)\s+ago\b|.*\(\d+\s+(min|mins|minutes|hours?|hrs?|days?)\s+ago\)$|\d{1,2}/\d{1,2}/\d{2,4}"
    r"\s*[-–|·]\s|\d{4}-\d{2}-\d{2}\s*[-–|·]\s)",
    re.I,
)
_FURNITURE = re.compile(
    r"^(advertisement|advert|sponsored( content)?|sponsored:.*|promoted:.*|©.*|copyright\b.*|"
    r"all rights reserved.*|"
    r"privacy policy.*|terms (of use|and conditions).*|cookies?\b.*|home\s*([|>»/›].*)?|"
    r"menu|search|skip to (main )?content|share|tweet|print|email|image:.*|photo:.*|"
    r"(image|photo|picture) (credit|source)s?:.*|listen to this article.*|reporting by .*|"
    r"editing by .*|\(?reporting by .*|tags?:.*|topics?:.*|filed under:?.*|posted in .*|"
    r"last updated.*|updated:? .*|published:? .*|reply|report( comment| abuse)?|\d+ (likes?|"
    r"replies|shares)|>.*|sent from my .*|this (e-?mail|message) (is|and any) .*|"
    r"-- ?|unsubscribe.*|forwarded message.*|-+ ?original message ?-+|"
    # Advertisement labels and page tools: the line is the label or the button.
    r"ads?:.*|advertisement:.*|paid (content|post|partnership)\b.*|partner content\b.*|"
    r"cite this( article| story)?|download (the )?pdf|copy link|print (this )?(article|story|"
    r"page)|save (this )?(article|story)|bookmark|log ?in|sign ?in|register|"
    r"you have \d+ free (articles?|stories) (left|remaining).*|already a subscriber\??.*|"
    r"accept( all)?( cookies)?|manage (cookies|preferences|settings)|"
    # A programme's credit is a name, not a sentence: "Presented by Karim Hassan".
    r"(presented|produced|hosted) by [\w'-]+( [\w'-]+){0,4})\s*$",
    re.I,
)
# Cookie notices: the site speaking about its own cookies (not "cookies" in a story).
_COOKIES = re.compile(
    r"\b((we|this (site|website)|our (site|website)) uses? cookies|cookie (policy|settings|"
    r"preferences|notice|banner))\b",
    re.I,
)
# Media counters: a photo gallery's or video's label with its count or running time.
_MEDIA_COUNTER = re.compile(
    r"^(((photo|picture|image|video) )?(gallery|slideshow|photos|pictures|images|videos?)\s*"
    r"(\(\d+(:\d{2})?\)|:\s*\d+ (photos|pictures|images)|\d+ ?/ ?\d+)|\d+ (photos|pictures|"
    r"images))$",
    re.I,
)
# Language bars: the same story offered in other languages.
_LANGUAGE_BAR = re.compile(
    r"^((read|view|listen to|watch) (this|the) (story|article|report|page) in \w+|(also )?"
    r"available in:?) ",
    re.I,
)
# Share bars: nothing but the names of networks and sharing buttons.
_SHARE_BAR = re.compile(
    r"^(share( on| via)?:?\s*)?((facebook|twitter|x|whatsapp|telegram|linkedin|e-?mail|print|"
    r"copy link|reddit|messenger|instagram|youtube|tiktok|viber)\W*){2,}$",
    re.I,
)
# Broadcast furniture: a transcript's bracketed cues ("[jingle]", "(music)"), station idents
# ("you are listening to …", a frequency), live and schedule announcements, schedule lines
# with a clock time ("7pm The Evening Show"). A cue is in lower case or names a sound;
# "(Euphrates Wire)", a wire credit, is not one.
_STAGE_CUE = re.compile(
    r"^[\[(]\s*([a-z][a-z' -]{0,30}|(?i:(\w+ )?(jingle|music|applause|laughter|inaudible|"
    r"crosstalk|pause|silence|break|sting|theme( tune)?|signature tune|interlude|static|beeps?|"
    r"sound of [\w ]+|ident|end of (bulletin|programme|transcript))(\s\w+)?))\s*[\])]$"
)
_STATION_IDENT = re.compile(
    r"\b((you are|you're|you are now) (listening|tuned) to|this is (radio|tv)\b|"
    r"\d{2,3}(\.\d{1,2})? ?(fm|mhz)\b)",
    re.I,
)
_ON_AIR = re.compile(
    r"^((listen|watch) (live|again|now|back|online)\b|live (tv|radio|stream|now|on air)\b|"
    r"on air( now)?\b|now (playing|on air)\b|stay tuned\b|tune in\b|"
    r"(coming up|up next|next on \w+|next)( at [\w:.]+)?\s*:)",
    re.I,
)
_SCHEDULE = re.compile(r"^\d{1,2}([:.]\d{2})?\s*(am|pm)\s*[-–|·]?\s*\w", re.I)
_NAV_BAR = re.compile(r"^(\w[\w &':-]{0,20}\s*[|·•»›/]\s*){2,}\w[\w &'-]{0,20}$")
_GOSSIP = re.compile(
    r"\b(celebrit(y|ies)|actress|pop star|singer|red carpet|wedding|divorce|engaged to|"
    r"reality (tv|show)|fashion|beauty secrets?|stuns? (fans|in)|bikini|dating|romance|"
    r"horoscope|box office|instagram post|goes viral|weight|diet|her new look|his new look)\b",
    re.I,
)
_COMMENTER = re.compile(r"^[@\w.\- ]{2,30}\s+(says|wrote|commented)\s*:", re.I)
_READ_MORE = re.compile(
    r"^(read (more|also|next)|see also|related|more|watch|listen|also read)\s*:\s*\S", re.I
)
_BULLET = re.compile(r"^\s*([-•*»▶►·]|\d+\.)\s+")
_SENTENCE_PUNCT = re.compile(r"[.!?…:;\"”’)]\s*$")


def _looks_like_headline(text: str) -> bool:
    """A short line without the punctuation that ends a sentence."""
    words = text.split()
    return 1 <= len(words) <= 16 and not _SENTENCE_PUNCT.search(text)


def classify_line(text: str) -> str | None:
    """The reason a single line is boilerplate on its own merits, or None when it may be body.

    Context-free rules only; `clean_lines` adds the list rules that need the neighbours.
    """
    t = normalise_space(text)
    if not t:
        return None
    words = len(t.split())
    if _FURNITURE.match(t) or _NAV_BAR.match(t) or _MEDIA_COUNTER.match(t):
        return FURNITURE
    if words <= 12 and (_SHARE_BAR.match(t) or _LANGUAGE_BAR.match(t)):
        return FURNITURE
    if words <= 30 and _COOKIES.search(t):
        return FURNITURE
    if _STAGE_CUE.match(t) and words <= 4:
        return BROADCAST
    if words <= 16 and (_STATION_IDENT.search(t) or _ON_AIR.match(t)):
        return BROADCAST
    if _SCHEDULE.match(t) and _looks_like_headline(t):
        return BROADCAST  # "7 pm The Evening Show"; "At 7 pm the patrol left." is a sentence
    if _TIME_STAMP.match(t):
        return LINK_LIST
    if _CALL_TO_FOLLOW.search(t) and len(t.split()) <= 30:
        return CALL_TO_FOLLOW
    if _CALL_TO_CONTRIBUTE.search(t) and words <= 30 and not _ATTRIBUTION.search(t):
        return CALL_TO_FOLLOW
    if _SPAM.search(t) or _COMMENTER.match(t):
        return SPAM
    if _GOSSIP.search(t) and _looks_like_headline(t.rstrip(".!?")):
        return GOSSIP
    if _READ_MORE.match(t) and len(t.split()) <= 16:
        return HEADLINE_LIST
    if _BULLET.match(t) and _looks_like_headline(_BULLET.sub("", t)):
        return HEADLINE_LIST
    return None


def clean_lines(lines: Sequence[str], first_line: int = 0) -> Cleaned:
    """Classify every line; return the body and the removed lines with their reasons.

    A list heading ("Related", "Most read", "Comments") opens a block: the short, unpunctuated
    lines after it are a headline list, and everything after a comments heading is comment
    text. Two or more short unpunctuated lines in a row are a headline list too, since an
    article's own sentences end with punctuation.
    """
    texts = [normalise_space(x) for x in lines]
    reasons: list[str | None] = [classify_line(t) for t in texts]
    in_list = False
    in_comments = False
    in_signature = False
    for i, t in enumerate(texts):
        if not t:
            continue
        if in_signature or t in ("--", "-- "):
            # An e-mail signature runs from "--" to the end.
            reasons[i] = reasons[i] or FURNITURE
            in_signature = True
            continue
        if _HEADING_OF_LIST.match(t):
            reasons[i] = reasons[i] or HEADLINE_LIST
            in_list = True
            in_comments = bool(re.search(r"\bcomments?\b", t, re.I))
            continue
        if in_comments:
            reasons[i] = reasons[i] or SPAM
            continue
        if in_list:
            if reasons[i] is None and (
                _looks_like_headline(t) or (t.endswith("?") and len(t.split()) <= 12)
            ):
                reasons[i] = (_GOSSIP.search(t) and GOSSIP) or HEADLINE_LIST
                continue
            in_list = reasons[i] is not None
    # Runs of short unpunctuated lines: headline lists without a heading.
    run: list[int] = []
    for i, t in enumerate([*texts, ""]):
        if t and reasons[i] is None and _looks_like_headline(t):
            run.append(i)
            continue
        if len(run) >= 2:
            for j in run:
                reasons[j] = HEADLINE_LIST
        run = []
    body: list[str] = []
    removed: list[RemovedLine] = []
    for i, (t, r) in enumerate(zip(texts, reasons, strict=True)):
        if not t:
            continue
        if r is None:
            body.append(t)
        else:
            removed.append(RemovedLine(first_line + i, t, r))
    return Cleaned("\n".join(body), removed)
