"""Reading a text — plain text, HTML or e-mail — into one cleaned document with its metadata.

A document is the article body (one paragraph a line; every extracted fact's span points
into it), the outlet it came from, its publication time and title, and the lines that were
cut from it with the reason. Nothing is fetched: links are not followed, HTML is parsed
offline.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from limes.intel.cleaning import OUTSIDE_BODY, RemovedLine, classify_line, clean_lines
from limes.intel.dates import parse_publication
from limes.intel.errors import IntelError
from limes.intel.register import SourceRegister
from limes.intel.text import normalise_space

SUFFIXES = {".txt": "text", ".text": "text", ".html": "html", ".htm": "html", ".eml": "email"}
_SOURCE_HEADER = re.compile(r"^(source|from|outlet|publisher)\s*:\s*(?P<v>.+)$", re.I)
BYLINE = re.compile(r"^(by|reporting by|written by)\s+[A-Z][\w.'’ -]+$", re.I)
_TITLE_HEADER = re.compile(r"^(title|subject|headline)\s*:\s*(?P<v>.+)$", re.I)


@dataclass
class Document:
    """One text as read: metadata, the cleaned body, and what was cut from it."""

    id: str
    path: str
    format: str
    source: str | None
    published: datetime | None
    title: str
    body: str
    removed: list[RemovedLine] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "path": self.path,
            "format": self.format,
            "source": self.source,
            "published": self.published.isoformat() if self.published else None,
            "title": self.title,
            "body": self.body,
            "removed": [{"line": r.line, "text": r.text, "reason": r.reason} for r in self.removed],
        }


def _header(
    lines: list[str], register: SourceRegister
) -> tuple[str | None, datetime | None, str, int]:
    """Source, publication time and title from the first lines; how many lines they took."""
    source: str | None = None
    published: datetime | None = None
    title = ""
    used = 0
    for i, raw in enumerate(lines[:10]):
        line = normalise_space(raw)
        if not line:
            used = i + 1
            continue
        m = _SOURCE_HEADER.match(line)
        if m and source is None:
            outlet = register.lookup(m.group("v")) or register.find_in(m.group("v"))
            source = outlet.name if outlet else m.group("v").strip()
            used = i + 1
            continue
        m = _TITLE_HEADER.match(line)
        if m and not title:
            title, used = m.group("v").strip(), i + 1
            continue
        if published is None and (when := parse_publication(line)) is not None:
            published, used = when, i + 1
            outlet = register.find_in(line)
            if outlet and source is None:
                source = outlet.name
            continue
        outlet = register.find_in(line)
        if source is None and outlet and len(line.split()) <= 6:
            source, used = outlet.name, i + 1
            continue
        if BYLINE.match(line) and len(line.split()) <= 8:
            used = i + 1
            continue
        if classify_line(line) is not None:
            continue  # navigation above the headline: left to the cleaner
        words = line.split()
        if not title and len(words) <= 20 and not line.endswith("."):
            title, used = line, i + 1
            continue
        break
    return source, published, title, used


def read_text(text: str, doc_id: str, path: str, register: SourceRegister) -> Document:
    """A plain-text article: a header (outlet, date, title, byline), then lines to clean."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    source, published, title, used = _header(lines, register)
    cleaned = clean_lines(lines[used:], first_line=used)
    return Document(doc_id, path, "text", source, published, title, cleaned.body, cleaned.removed)


def _visible_blocks(html: str) -> list[str]:
    """The page's visible text, one block-level element a line (what a reader would see)."""
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return []
    for bad in root.xpath("//script|//style|//noscript|//template|//head"):
        bad.drop_tree()
    blocks = {
        "p",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "td",
        "th",
        "dt",
        "dd",
        "figcaption",
        "blockquote",
        "pre",
        "caption",
        "summary",
        "button",
        "label",
    }
    out: list[str] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag in blocks and not any(
            isinstance(a.tag, str) and a.tag.lower() in blocks for a in el.iterancestors()
        ):
            text = normalise_space(el.text_content())
            if text:
                out.append(text)
        elif tag in ("div", "span", "a", "section", "footer", "header", "nav", "aside"):
            own = normalise_space(el.text or "")
            if own and not any(
                isinstance(a.tag, str) and a.tag.lower() in blocks for a in el.iterancestors()
            ):
                out.append(own)
        if tag not in blocks and el.tail and normalise_space(el.tail):
            parent = el.getparent()
            if parent is not None and not any(
                isinstance(a.tag, str) and a.tag.lower() in blocks
                for a in (parent, *parent.iterancestors())
            ):
                out.append(normalise_space(el.tail))
    return out


def read_html(html: str, doc_id: str, path: str, register: SourceRegister) -> Document:
    """An HTML page: trafilatura finds the article; the line cleaner then trims inside it.

    Every visible block not in the body is kept as a removed line, with the cleaner's reason
    when it has one, else "outside the article body".
    """
    import trafilatura

    if not html.strip():
        raise IntelError(f"{path}: the HTML file is empty")
    got = trafilatura.bare_extraction(
        html,
        favor_recall=True,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
        fast=True,
    )
    text = getattr(got, "text", None) or ""
    cleaned = clean_lines(text.split("\n"))
    kept = {normalise_space(x) for x in cleaned.body.split("\n")}
    cut_inside = {r.text for r in cleaned.removed}
    title = normalise_space(getattr(got, "title", None) or "")
    removed = list(cleaned.removed)
    body_text = " ".join(kept)
    for i, block in enumerate(_visible_blocks(html)):
        if block in kept or block in cut_inside or block == title:
            continue
        if len(block) > 40 and block in body_text:
            continue
        removed.append(RemovedLine(i, block, classify_line(block) or OUTSIDE_BODY))
    source_name = getattr(got, "sitename", None) or getattr(got, "hostname", None)
    outlet = register.lookup(source_name) or (
        register.find_in(source_name) if source_name else None
    )
    published = _aware(getattr(got, "date", None))
    return Document(
        doc_id,
        path,
        "html",
        outlet.name if outlet else source_name,
        published,
        title,
        cleaned.body,
        removed,
    )


def _aware(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return parse_publication(value)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def read_email(raw: bytes, doc_id: str, path: str, register: SourceRegister) -> Document:
    """An e-mail (.eml): From is the source, Date the publication time, Subject the title."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    name, address = parseaddr(str(msg.get("From", "")))
    outlet = register.lookup(name) or register.lookup(address) or register.find_in(name)
    try:
        published = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
    except (TypeError, ValueError):
        published = None
    if published is not None:
        published = (published if published.tzinfo else published.replace(tzinfo=UTC)).astimezone(
            UTC
        )
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        raise IntelError(f"{path}: the e-mail has no text or HTML body")
    content = part.get_content()
    if part.get_content_subtype() == "html":
        doc = read_html(content, doc_id, path, register)
    else:
        cleaned = clean_lines(content.replace("\r\n", "\n").split("\n"))
        doc = Document(doc_id, path, "email", None, None, "", cleaned.body, cleaned.removed)
    doc.format = "email"
    doc.source = outlet.name if outlet else (name or address or None)
    doc.published = published or doc.published
    doc.title = str(msg.get("Subject", "")) or doc.title
    return doc


def read_document(path: Path, register: SourceRegister, doc_id: str | None = None) -> Document:
    """Read one file by its suffix (.txt, .html/.htm, .eml)."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise IntelError(f"{path}: not a text, HTML or e-mail file (.txt, .html, .eml)")
    ident = doc_id or path.stem
    raw = path.read_bytes()
    if kind == "email":
        return read_email(raw, ident, str(path), register)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if kind == "html":
        return read_html(text, ident, str(path), register)
    return read_text(text, ident, str(path), register)


def document_paths(root: Path) -> list[Path]:
    """The readable files under a folder (sorted), or the file itself."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise IntelError(f"{root}: no such file or folder")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def read_documents(root: Path, register: SourceRegister) -> Iterator[Document]:
    """Every document under a folder, ids from their paths relative to it."""
    for p in document_paths(root):
        rel = p.relative_to(root) if root.is_dir() else Path(p.name)
        yield read_document(p, register, str(rel.with_suffix("")).replace("/", "-"))
