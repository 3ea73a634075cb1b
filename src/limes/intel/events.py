"""Event types a sentence reports, from cue patterns (rule-based, offline).

The types are what a border command acts on: an infiltration (or attempt), reinforcement,
fortification progress, smuggling of drugs or of weapons, refugee movement, a detention, a
strike, a threat estimate. A sentence may report several (smugglers detained with pills:
detention and drug smuggling). A cue is negated away when the sentence says it did not
happen ("no infiltration was recorded").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from limes.intel.text import Span

EVENT_TYPES = (
    "infiltration",
    "reinforcement",
    "fortification",
    "smuggling_drugs",
    "smuggling_weapons",
    "refugee_movement",
    "detention",
    "strike",
    "threat_estimate",
)

_DRUGS = (
    r"(drugs?|captagon|narcotics?|hashish|cannabis|crystal meth|methamphetamines?|amphetamines?|"
    r"pills|heroin|cocaine|opium|tramadol|marijuana|fenethylline)"
)
_WEAPONS = (
    r"(weapons?|arms|ammunition|munitions|rockets?|explosives?|missiles?|rifles|mortars?|"
    r"drones? parts|guns|firearms|grenades|RPGs?|machine ?guns|Kalashnikovs|AK-47s?|"
    r"landmines|detonators)"
)
_BORDER_CROSS = (
    r"(cross(ed|ing|es)?|slip(ped|ping)? (across|into|over)|sneak(ed|ing)? (across|into)|"
    r"snuck (across|into)|made (their|his|its) way (across|into|over)|"
    r"enter(ed|ing|s)? (iraq|syria|(iraqi|syrian) (territory|soil)|the country))"
)
# Who crosses with hostile intent (a crossing by families is a refugee movement).
_INFILTRATORS = (
    r"(fighters|militants|cells?|members|jihadists?|gunmen|group|suspects|infiltrators|"
    r"attackers|facilitators|insurgents|terrorists|operatives|elements|jihadis)"
)

_CUES: dict[str, list[str]] = {
    "infiltration": [
        r"\binfiltrat\w*",
        rf"\b{_INFILTRATORS}\b.{{0,60}}\b{_BORDER_CROSS}",
        r"\b(entered|crossed|came|slipped in|moved|slipped)\b.{0,30}\bfrom syria\b",
        rf"\b(attempt(ed|s)?|tried|trying) to {_BORDER_CROSS}",
        r"\bcrossing attempts?\b",
        r"\b(foiled|thwarted|repelled|repulsed) (an? )?(attempt|attack|incursion)",
        r"\bincursions?\b",
        r"\bsneak\w* (across|into)",
        r"\b(breach(ed|es|ing)?|penetrat\w*)\b.{0,30}\b(border|frontier|berm|fence|barrier|"
        r"trench)",
        r"\bborder (breach|violation|incursion)s?\b",
    ],
    "reinforcement": [
        r"\breinforcements?\b",
        r"\breinforc(ed|ing)\b(?!.{0,20}concrete)",
        r"\b(sent|send|sends|deployed|deploy|deploys|dispatched|dispatch|moved|rushed|redeployed)"
        r"\b.{0,40}\b(additional|extra|more|new|fresh)?\s*(troops|units|brigades?|battalions?|"
        r"forces|soldiers|fighters|armou?red (vehicles|units)|tanks|regiments?)\b",
        r"\bbolster(ed|ing|s)?\b",
        r"\b(beef(ed|ing|s)? up|shor(ed|ing|es) up|strengthen(ed|ing|s)?|mass(ed|ing)|"
        r"mobili[sz](ed|ing|es))\b.{0,40}\b(troops|units|forces|positions|presence|defen[cs]es|"
        r"garrisons?|brigades?|soldiers)\b",
        r"\b(deployment|redeployment|arrival|dispatch) of\b.{0,30}\b(additional|extra|more|new|"
        r"fresh)?\s*(troops|units|brigades?|battalions?|forces|soldiers|tanks|regiments?)\b",
        r"\b(additional|extra|fresh) (troops|units|brigades?|battalions?|forces|soldiers)\b",
        r"\b(patrols?|presence|troops|forces|deployment)\b.{0,30}\b(increased|stepped up|doubled|"
        r"intensified|boosted|expanded)\b",
        r"\b(increased|stepped up|intensified|boosted|doubled)\b.{0,20}\b(patrols?|presence)\b",
    ],
    "fortification": [
        r"\b(dig|dug|digging|built|building|construct\w*|complet\w*|extend\w*|new|clos\w*|"
        r"seal\w*)\b"
        r".{0,50}\b(trench(es)?|berms?|earth mounds?)\b",
        r"\b(trench(es)?|berms?)\b.{0,50}\b(deep|wide|high|dug|built|complet\w*|extend\w*)\b",
        r"\b(barbed|razor) wire\b",
        r"\b(dig|dug|digging|built|building|construct\w*|complet\w*|extend\w*|new)\b.{0,50}"
        r"\b(ditch(es)?|moats?|earthworks|embankments?|concrete (walls?|barriers?|blocks)|"
        r"blast walls|T-walls)\b",
        r"\b(anti-tank ditch(es)?|concrete (wall|barrier)s?|blast walls|T-walls)\b",
        r"\b(set up|erected|established|built|installed|put up)\b.{0,40}\b(outposts?|"
        r"observation posts?|guard posts?|border posts?|(surveillance|thermal) cameras?|"
        r"sensors?)\b",
        r"\b(border )?(fence|wall)\b.{0,40}\b(buil[dt]|complet|erect|construct|finish|extend)",
        r"\b(buil[dt]|complet\w*|erect\w*|construct\w*|install\w*|finish\w*)\b.{0,50}"
        r"\b(fence|wall|towers?|watchtowers?|cameras?|barriers?|earth mounds?|sand barriers?)\b",
        r"\bclos(ed|ing|ure)\b.{0,30}\b\d+\s*(km|kilomet)",
        r"\b\d+\s*(km|kilomet\w*)\b.{0,80}\b(closed|sealed|fenced|fortified)\b",
        r"\b(fortif\w+|closure (works|programme|program))\b",
        r"\bsealed\b.{0,30}\bborder",
    ],
    "smuggling_drugs": [
        rf"\bsmuggl\w*\b.{{0,80}}\b{_DRUGS}\b",
        rf"\b{_DRUGS}\b.{{0,80}}\bsmuggl\w*",
        rf"\b(seized?|seizure|confiscated|intercepted|haul)\b.{{0,60}}\b{_DRUGS}\b",
        rf"\b{_DRUGS}\b.{{0,40}}\b(seized|confiscated|intercepted)\b",
        r"\bdrug (trafficking|traffickers|smuggling|route|haul|shipment|smugglers|runners|"
        r"dealers|gangs?|networks?|cartels?)s?\b",
        rf"\btraffick\w*\b.{{0,60}}\b{_DRUGS}\b",
        rf"\b{_DRUGS}\b.{{0,40}}\btraffick\w*",
        rf"\b(caught|found|discovered|busted|seiz\w+)\b.{{0,40}}\b(kilo(gram)?s|kg|tonnes|tons|"
        rf"bags|boxes|packets|consignment|shipment|cargo)\b.{{0,20}}\b{_DRUGS}\b",
    ],
    "smuggling_weapons": [
        rf"\bsmuggl\w*\b.{{0,80}}\b{_WEAPONS}\b",
        rf"\b{_WEAPONS}\b.{{0,80}}\bsmuggl\w*",
        rf"\b(moving|moved|move|transport\w*|ferr\w*|shipment|shipping|carrying|trafficking)\b"
        rf".{{0,40}}\b{_WEAPONS}\b.{{0,60}}\b(across|over|into|through)\b.{{0,30}}\b(border|iraq"
        rf"|syria)",
        r"\b(arms|weapons) (trafficking|smuggling|shipments?|convoys?|route|traffickers|"
        r"smugglers|dealers|pipeline)\b",
        r"\bgun-?running\b",
        rf"\btraffick\w*\b.{{0,60}}\b{_WEAPONS}\b",
        rf"\b(seized?|confiscated|intercepted|cache)\b.{{0,40}}\b{_WEAPONS}\b",
    ],
    "refugee_movement": [
        r"\brefugees?\b",
        r"\b(families|civilians|residents|villagers|people|thousands|hundreds)\b.{0,60}"
        r"\b(fleeing|fled|flee)\b",
        r"\b(fleeing|fled)\b.{0,40}\b(fighting|violence|clashes|war|offensive|shelling)\b",
        r"\b(internally )?displaced (families|people|persons|Syrians|Iraqis|civilians)\b",
        r"\basylum\b",
        r"\b(families|civilians|people)\b.{0,40}\b(crossed|crossing|arrived|arriving|returned|"
        r"returning|escaping|escaped|left|leaving)\b",
        r"\breturnees?\b",
        r"\b(exodus|influx)\b",
        r"\b(sought|seeking|seek|took|taking|take) (refuge|shelter|sanctuary)\b",
        r"\b(migrants?|asylum[- ]seekers?)\b.{0,60}\b(cross\w*|arriv\w*|walk\w*|stranded|"
        r"fled|fleeing|entered|trying)\b",
        r"\b(women|children|families|civilians|nationals|returnees)\b.{0,60}\b(coming|came|"
        r"arriving|returning|crossing|crossed|walking)\b.{0,30}\b(from|into|towards|across)\b",
    ],
    "detention": [
        r"\b(arrest(ed|s|ing)?|detain(ed|s|ing)?|detention|apprehend(ed|s)?|captured|"
        r"in custody|taken into custody|rounded up|held for questioning|detainees?|"
        r"surrender(ed|s)?)\b",
        r"\bhanded (over|to)\b.{0,40}\b(suspects?|prisoners|members|men)\b",
        r"\b(nabbed|jailed|imprisoned|locked up|behind bars)\b",
        r"\b(caught|seized|picked up|intercepted)\b.{0,25}\b(suspects?|smugglers|militants|"
        r"fighters|members|men|infiltrators|gunmen|operatives|traffickers|wanted)\b",
        r"\b(suspects?|smugglers|militants|fighters|men|infiltrators|traffickers)\b.{0,30}\b"
        r"(were|was|been) (caught|seized|held|picked up)\b",
    ],
    "strike": [
        r"\b(air ?strikes?|drone strikes?|strikes?|struck|bomb(ed|ing|ings)|shell(ed|ing|s)?|"
        r"artillery (fire|barrage|rounds|shells)|rocket (attack|fire)s?|air ?raids?|pounded|"
        r"bombard\w*|mortar (fire|rounds|shells|attacks?)|sorties|gunships?|air (support|cover)|"
        r"drone attacks?|air attacks?)\b",
        r"\b(warplanes|jets|aircraft|drones?|helicopters?|artillery|missiles?)\b.{0,40}\b(hit|"
        r"targeted|attacked|destroyed|killed|backed|supported|fired (on|at|into))\b",
    ],
    "threat_estimate": [
        r"\b(estimat\w*|as many as|up to)\b.{0,25}"
        r"\b\d[\d,]*\s+(\w+\s+)?(fighters|militants|jihadists|members)\b",
        r"\b(warn\w*|fear\w*|threat|danger|risk)\b.{0,60}\b(IS|ISIS|Daesh|Islamic State|fighters"
        r"|cells?|militants|attack|resurgence|infiltration|break-?out)\b",
        r"\b(gathering|massing|regrouping|amassing|positioned|stationed|present)\b.{0,80}\b"
        r"(km|kilomet\w*|miles) (from|of|away)",
        r"\b\w+ (kilomet\w*|km|miles) (away|from the border|inside syria)\b",
        r"\bsleeper cells?\b",
        r"\b(cells?|fighters|militants|remnants)\b.{0,60}\b(pose|poses|posing|remain|remains)\b"
        r".{0,20}\b(a )?(danger|threat)",
        r"\b(we assess|assess(es|ed)? that|are likely to|will (likely )?(keep|continue) (trying|"
        r"to try|to attempt))\b",
        r"\b(intelligence|reports?|sources|officials)\b.{0,20}\b(indicate|suggest|show|believe)s?"
        r"\b.{0,60}\b(planning|preparing|intend\w*|plotting|regroup\w*|massing)\b",
        r"\b(cells?|fighters|militants|remnants|jihadists)\b.{0,40}\b(still active|remain active|"
        r"regroup\w*|resurg\w*|plott\w*)",
    ],
}

# Phrases that sound like a cue but are not one ("the strike of the clock", "strike a deal").
_FALSE = re.compile(
    r"\b(strike a (deal|balance)|hunger strike|general strike|raids? on (the )?(market|prices)|"
    r"refugee camps? (administration|management) (said|says)|displaced persons' committee)\b",
    re.I,
)
_NEGATION = re.compile(r"\b(no|not|never|without|denied|deny|denies|nor)\b[^.;]{0,40}$", re.I)

_COMPILED = {t: [re.compile(p, re.I) for p in ps] for t, ps in _CUES.items()}
# Acronym cues stay case-sensitive ("IS" the group, not "is").
_COMPILED["threat_estimate"][1] = re.compile(
    _CUES["threat_estimate"][1].replace(
        r"(warn\w*|fear\w*|threat|danger|risk)",
        r"([Ww]arn\w*|[Ff]ear\w*|[Tt]hreat|[Dd]anger|[Rr]isk)",
    ),
)


# A crossing by families or refugees is a refugee movement, not an infiltration, unless the
# sentence also names a hostile party.
_CIVILIANS = re.compile(r"\b(families|refugees|civilians|displaced|women and children)\b", re.I)
_HOSTILE = re.compile(
    r"\b(fighters|militants|cells?|gunmen|smugglers|jihadists|IS|ISIS|ISIL|Daesh)\b"
)


# Something asked for is not something done ("asked for reinforcements").
_REQUEST = re.compile(
    r"\b(ask(ed|s|ing)?|request(ed|s|ing)?|call(ed|s|ing)? for|demand(ed|s|ing)?|urg(ed|es|ing)|"
    r"need(s|ed)?|want(s|ed)?|plan(s|ned)? to)\b[^.;]{0,80}$",
    re.I,
)
_REQUESTABLE = frozenset({"reinforcement", "fortification"})
# An intent or a possibility is not an attempt: "planning to infiltrate", "could try to cross".
_INTENT = re.compile(
    r"\b(plan(s|ned|ning)?|intend(s|ed)?|prepar(e|es|ed|ing)|could|might|(?-i:may)|would|expected|"
    r"likely|threat(en|ens|ened)?|fear(s|ed)?|hop(e|es|ed|ing))\b",
    re.I,
)


@dataclass(frozen=True)
class EventCue:
    """An event type found in a sentence, with the span of the words that cued it."""

    event_type: str
    sentence: Span
    cue: Span


def classify_sentence(body: str, sentence: Span) -> list[EventCue]:
    """The event types one sentence reports (each at most once), with their cue spans."""
    text = sentence.text(body)
    if _FALSE.search(text):
        text = _FALSE.sub(lambda m: " " * len(m.group(0)), text)
    found: list[EventCue] = []
    for event_type, patterns in _COMPILED.items():
        for p in patterns:
            m = p.search(text)
            if m is None:
                continue
            if _NEGATION.search(text[: m.start()]) and event_type != "threat_estimate":
                continue
            if event_type in _REQUESTABLE and _REQUEST.search(text[: m.start()]):
                continue
            if event_type == "infiltration" and _INTENT.search(
                text, max(0, m.start() - 40), m.end()
            ):
                if _HOSTILE.search(text) and not any(
                    c.event_type == "threat_estimate" for c in found
                ):
                    found.append(
                        EventCue(
                            "threat_estimate",
                            sentence,
                            Span(sentence.start + m.start(), sentence.start + m.end()),
                        )
                    )
                continue
            if (
                event_type == "infiltration"
                and _CIVILIANS.search(text)
                and not _HOSTILE.search(text)
            ):
                continue
            found.append(
                EventCue(
                    event_type, sentence, Span(sentence.start + m.start(), sentence.start + m.end())
                )
            )
            break
    return found
