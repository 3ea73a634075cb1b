"""Actors under one id whatever alias the press used; acronyms only in capitals."""

from __future__ import annotations

from limes.intel.actors import actor_table


def ids(text: str) -> list[str]:
    return [a.actor for a in actor_table().find(text)]


def test_aliases_name_one_actor() -> None:
    assert ids("IS, ISIS, ISIL, Daesh and the Islamic State") == ["IS"] * 5
    assert ids("PMF, Hashed al-Shaabi, Popular Mobilization Forces") == ["PMF"] * 3
    assert ids("the US-led coalition and Syrian Democratic Forces") == ["coalition", "SDF"]
    assert ids("Peshmerga and the Syrian army; opposition groups") == [
        "Peshmerga",
        "Syrian army",
        "opposition",
    ]


def test_lowercase_words_are_not_acronyms() -> None:
    assert ids("it is what it is, said the sdf driver") == []


def test_the_longer_alias_wins() -> None:
    (a,) = actor_table().find("fighters of Islamic State group said")
    assert a.text == "Islamic State group"
