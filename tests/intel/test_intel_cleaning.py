"""Line-level cleaning: each kind of boilerplate cut with its reason, article lines kept."""

from __future__ import annotations

from limes.intel.cleaning import (
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
    got = reasons_of([
        *ARTICLE,
        "Related stories",
        "Drought threatens farmers along the Euphrates",
        "Parliament delays vote on budget",
        "14:02 - Minister opens new school in Basra",
        "Follow us on Twitter for the latest updates",
        "Singer stuns fans with surprise wedding",
        "Earn $500 a day working from home, visit www.quick.example",
        "© 2021 Nineveh Daily. All rights reserved.",
    ])
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
