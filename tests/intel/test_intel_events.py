"""Event types of single sentences: the general cue families, and what must not cue them."""

from __future__ import annotations

import pytest

from limes.intel.events import classify_sentence
from limes.intel.text import Span


def types(sentence: str) -> set[str]:
    return {c.event_type for c in classify_sentence(sentence, Span(0, len(sentence)))}


@pytest.mark.parametrize(
    ("sentence", "want"),
    [
        ("Insurgents made their way across the frontier at dawn.", {"infiltration"}),
        ("Gunmen breached the border fence west of the crossing.", {"infiltration"}),
        ("The army beefed up its positions along the frontier.", {"reinforcement"}),
        ("The deployment of fresh brigades began on Monday.", {"reinforcement"}),
        ("Engineers dug an anti-tank ditch along the desert stretch.", {"fortification"}),
        ("Guards set up new observation posts on the ridge.", {"fortification"}),
        ("Police found 40 kilograms of hashish in a lorry.", {"smuggling_drugs"}),
        ("The gang was trafficking tramadol from the south.", {"smuggling_drugs"}),
        ("Officers broke up a gun-running ring in the town.", {"smuggling_weapons"}),
        ("An exodus from the villages followed the clashes.", {"refugee_movement"}),
        ("Hundreds of families sought refuge in the camp.", {"refugee_movement"}),
        ("Border guards caught three smugglers near the post.", {"detention"}),
        ("Helicopter gunships backed the ground forces.", {"strike"}),
        ("Mortar fire hit the outpost overnight.", {"strike"}),
        ("Officials believe the cell is plotting new attacks.", {"threat_estimate"}),
    ],
)
def test_a_cue_family_finds_its_type(sentence: str, want: set[str]) -> None:
    assert want <= types(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "The warehouse caught fire after a power cut.",
        "Farmers built a new irrigation channel.",
        "The minister said no border breach was recorded this month.",
        "Ministers asked for the deployment of more troops.",
    ],
)
def test_look_alikes_cue_nothing(sentence: str) -> None:
    assert types(sentence) == set()
