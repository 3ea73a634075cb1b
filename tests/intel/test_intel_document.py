"""Reading files: plain text headers, HTML through trafilatura, e-mail; registers; errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from limes.intel.cleaning import OUTSIDE_BODY
from limes.intel.document import read_document
from limes.intel.errors import IntelError
from limes.intel.register import load_register

CORPUS = Path(__file__).parent / "corpus"


def test_plain_text_header_gives_source_date_and_title() -> None:
    d = read_document(CORPUS / "dev" / "d01-wire-qaim.txt", load_register())
    assert (d.source, d.published.isoformat() if d.published else None) == (
        "Euphrates Wire",
        "2021-06-03T09:40:00+00:00",
    )
    assert d.title.startswith("Iraqi forces on alert")
    assert d.body.startswith("AL-QAIM, Iraq")


def test_html_keeps_every_cut_block_with_a_reason() -> None:
    d = read_document(CORPUS / "dev" / "d05-kfn-closure.html", load_register())
    assert d.source == "Kurdistan Frontier News"
    reasons = {r.text: r.reason for r in d.removed}
    assert reasons["DM me for crypto signals"] == "spam"
    assert reasons["Read more: Winter fuel prices set to climb"] == "headline list"
    assert all(r.reason for r in d.removed)
    assert OUTSIDE_BODY in reasons.values() or "page furniture" in reasons.values()


def test_email_from_and_date_headers() -> None:
    d = read_document(CORPUS / "dev" / "d09-coalition-summary.eml", load_register())
    assert d.format == "email"
    assert d.source == "Coalition liaison summary"
    assert d.published is not None and d.published.date().isoformat() == "2021-10-10"
    assert "Sent from my secure terminal" not in d.body


def test_unknown_outlets_are_graded_f() -> None:
    reg = load_register()
    assert reg.reliability("Some Unknown Blog") == "F"
    assert reg.reliability("news.euphrateswire.example") == "B"


def test_a_bad_register_names_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "register.yaml"
    bad.write_text("sources:\n  - {name: X, reliability: G}\n")
    with pytest.raises(IntelError, match=r"register\.yaml: sources\[0\]\.reliability"):
        load_register(bad)


def test_an_unreadable_kind_of_file_is_named(tmp_path: Path) -> None:
    p = tmp_path / "report.pdf"
    p.write_bytes(b"%PDF")
    with pytest.raises(IntelError, match=r"report\.pdf"):
        read_document(p, load_register())
