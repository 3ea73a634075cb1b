"""The reader against the labelled corpus: the acceptance figures, development and held-out.

The development part was written first and the reader tuned on it; the first held-out part
was written after the reader was frozen, measured, and then used for a second round of
development; each later held-out part was written after the round before it was frozen,
measured once, and then used for the next round (the fourth only for the line cleaner's
broadcast and page-bar rules). Goals: F1 ≥ 0.9 for places and
actors, ≥ 0.8 for event types; boilerplate removed ≥ 95 %, article sentences lost ≤ 2 %.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from limes.intel.ingest import Reader
from limes.intel.scoring import CorpusScore, score_corpus

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="module", params=["dev", "heldout-1", "heldout-2", "heldout-3", "heldout-4"])
def scored(request: pytest.FixtureRequest, reader: Reader) -> CorpusScore:
    score, _ = score_corpus(CORPUS / request.param, reader)
    return score


def test_corpus_is_large_enough_and_mixed() -> None:
    files = [p for p in CORPUS.rglob("*") if p.suffix in (".txt", ".html", ".eml")]
    assert len(files) >= 30
    assert {p.suffix for p in files} == {".txt", ".html", ".eml"}
    assert all(p.with_suffix(".json").exists() for p in files)


def test_places_and_actors_reach_the_goal(scored: CorpusScore) -> None:
    assert scored.counts["places"].f1 >= 0.9, scored.misses
    assert scored.counts["actors"].f1 >= 0.9, scored.misses


def test_event_types_reach_the_goal(scored: CorpusScore) -> None:
    assert scored.counts["event_types"].f1 >= 0.8, scored.misses


def test_dates_and_quantities_are_mostly_right(scored: CorpusScore) -> None:
    # No goal is set for these; a floor keeps a regression visible.
    assert scored.counts["event_dates"].f1 >= 0.9, scored.misses
    assert scored.counts["quantities"].f1 >= 0.85, scored.misses


def test_boilerplate_is_removed_and_article_kept(scored: CorpusScore) -> None:
    assert scored.noise_lines >= 30
    assert scored.boilerplate_removed >= 0.95, scored.misses
    assert scored.sentences_lost_share <= 0.02, scored.misses
