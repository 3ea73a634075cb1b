"""Line-level cleaning: each kind of boilerplate cut with its reason, article lines kept."""

from __future__ import annotations

import pytest

from limes.intel.cleaning import (
    BROADCAST,
    CALL_TO_FOLLOW,
    FURNITURE,
    GOSSIP,
    HEADLINE_LIST,
    LINK_LIST,
    SPAM,
    clean_lines,
)

ARTICLE = [
    "Iraqi border guards detained 23 families near Rabia on Saturday, officials said.",
    "The families had left the al-Hol camp in Syria, the statement said.",
]


def reasons_of(lines: list[str]) -> dict[str, str]:
    cleaned = clean_lines(lines)
    assert cleaned.body.split("\n") == ARTICLE
    return {r.text: r.reason for r in cleaned.removed}


def test_each_noise_kind_is_cut_with_its_reason() -> None:
    got = reasons_of(
        [
            *ARTICLE,
            "Related stories",
            "Drought threatens farmers along the Euphrates",
            "Parliament delays vote on budget",
            "14:02 - Minister opens new school in Basra",
            "Follow us on Twitter for the latest updates",
            "Singer stuns fans with surprise wedding",
            "Earn $500 a day working from home, visit www.quick.example",
            "© 2021 Nineveh Daily. All rights reserved.",
        ]
    )
    assert got == {
        "Related stories": HEADLINE_LIST,
        "Drought threatens farmers along the Euphrates": HEADLINE_LIST,
        "Parliament delays vote on budget": HEADLINE_LIST,
        "14:02 - Minister opens new school in Basra": LINK_LIST,
        "Follow us on Twitter for the latest updates": CALL_TO_FOLLOW,
        "Singer stuns fans with surprise wedding": GOSSIP,
        "Earn $500 a day working from home, visit www.quick.example": SPAM,
        "© 2021 Nineveh Daily. All rights reserved.": FURNITURE,
    }


def test_comments_after_a_comments_heading_are_spam() -> None:
    got = reasons_of([*ARTICLE, "Comments (2)", "ali_k says: great", "God protect our border"])
    assert got["ali_k says: great"] == SPAM
    assert got["God protect our border"] == SPAM


def test_an_email_signature_is_cut_to_the_end() -> None:
    got = reasons_of([*ARTICLE, "--", "Patrol 7 duty officer", "Anbar sector 4"])
    assert set(got.values()) == {FURNITURE}
    assert len(got) == 3


def test_removed_lines_keep_their_input_line_numbers() -> None:
    cleaned = clean_lines(["Advertisement", ARTICLE[0], "", "Share", ARTICLE[1]], first_line=5)
    assert [(r.line, r.text) for r in cleaned.removed] == [(5, "Advertisement"), (8, "Share")]


# Each rule for broadcast furniture and page bars: a line it must cut, and an article sentence
# that shares its words or shape and must stay.
RULES = [
    pytest.param(
        "[jingle]",
        BROADCAST,
        "[Sinjar] The Peshmerga sent two more battalions to the district on Monday.",
        id="transcript cue",
    ),
    pytest.param(
        "[Inaudible]",
        BROADCAST,
        "(Euphrates Wire) Border guards detained 12 men near al-Qaim on Monday.",
        id="transcript cue, capitalised",
    ),
    pytest.param(
        "You are listening to Voice of Shingal, 98.4 FM.",
        BROADCAST,
        "Residents said they were listening to Voice of Shingal when the shelling began.",
        id="station ident",
    ),
    pytest.param(
        "Listen live",
        BROADCAST,
        "Live fire exercises were held near al-Qaim on Tuesday, the army said.",
        id="listen live",
    ),
    pytest.param(
        "Coming up at 8: the Border Hour with Karim",
        BROADCAST,
        "Coming up the valley road, the convoy was ambushed near Hajin, officials said.",
        id="programme announcement",
    ),
    pytest.param(
        "7pm The Evening Show",
        BROADCAST,
        "At 7pm the patrol left Husaybah for the berm, the report said.",
        id="schedule line",
    ),
    pytest.param(
        "Presented by Karim Hassan",
        FURNITURE,
        "The plan was presented by the governor on Monday, officials said.",
        id="programme credit",
    ),
    pytest.param(
        "Call our hotline on 0750 000 0000 to share your news.",
        CALL_TO_FOLLOW,
        "Residents were told to call the army's hotline on 0750 000 0000 to report smugglers.",
        id="call to contribute",
    ),
    pytest.param(
        "Send us your news and photos on WhatsApp",
        CALL_TO_FOLLOW,
        "Residents can call our hotline on 104 to report smugglers, the police chief said.",
        id="call to contribute, a quoted official kept",
    ),
    pytest.param(
        "Photo gallery (12)",
        FURNITURE,
        "A photo gallery published by the ministry showed 12 seized trucks near al-Qaim.",
        id="media counter",
    ),
    pytest.param(
        "Read this story in Kurdish | Arabic",
        FURNITURE,
        "The statement was read in Kurdish and Arabic at the Rabia crossing on Sunday.",
        id="language bar",
    ),
    pytest.param(
        "Ad: Best prices on generators in Mosul — call now",
        FURNITURE,
        "Ad hoc checkpoints were set up along the road to Rabia, police said.",
        id="advertisement label",
    ),
    pytest.param(
        "We use cookies to improve your experience. Accept all | Manage",
        FURNITURE,
        "The smugglers hid captagon pills among cookies and sweets, customs said.",
        id="cookie notice",
    ),
    pytest.param(
        "Share: Facebook · LinkedIn · E-mail",
        FURNITURE,
        "Facebook and Telegram groups spread the smugglers' price lists, officials said.",
        id="share bar",
    ),
    pytest.param(
        "You have 2 free articles left this month",
        FURNITURE,
        "You have 2 days to leave the camp, the officers told the families.",
        id="paywall counter",
    ),
    pytest.param(
        "Cite this article",
        FURNITURE,
        "The court will cite this article of the border law, the judge said.",
        id="page tool",
    ),
]


@pytest.mark.parametrize(("noise", "reason", "lookalike"), RULES)
def test_broadcast_and_page_bar_lines_are_cut_and_lookalike_sentences_kept(
    noise: str, reason: str, lookalike: str
) -> None:
    cleaned = clean_lines([ARTICLE[0], lookalike, noise, ARTICLE[1]])
    assert cleaned.body.split("\n") == [ARTICLE[0], lookalike, ARTICLE[1]]
    assert [(r.text, r.reason) for r in cleaned.removed] == [(noise, reason)]


def test_a_most_shared_heading_opens_a_headline_list() -> None:
    # The headline after it ends in "?", so only the heading makes the pair a list.
    got = reasons_of([*ARTICLE, "Most shared this week", "Who guards the Rabia crossing at night?"])
    assert set(got.values()) == {HEADLINE_LIST}
    assert len(got) == 2
    kept = clean_lines(["Most shared this week were videos of the clash, the ministry said."])
    assert kept.removed == []
