"""Parse feed bytes with feedparser. Ill-formed feeds keep what can be recovered; the bozo reason is kept."""

from __future__ import annotations

import calendar
import codecs
import re
from datetime import UTC, datetime

import feedparser
from feedparser.datetimes.rfc822 import _parse_date_rfc822

from pipeline.core.errors import FeedParseError
from pipeline.core.records import ParsedFeed, RawEntry

# Month abbreviations seen in localized RFC 822 dates (pt, es, de, fr, it), e.g. "Seg, 24 Set 2018".
LOCAL_MONTHS = {
    "fev": "Feb", "abr": "Apr", "mai": "May", "ago": "Aug", "set": "Sep", "out": "Oct", "dez": "Dec",
    "ene": "Jan", "dic": "Dec", "mär": "Mar", "mrz": "Mar", "okt": "Oct", "janv": "Jan", "févr": "Feb",
    "mars": "Mar", "avr": "Apr", "juin": "Jun", "juil": "Jul", "août": "Aug", "sept": "Sep", "déc": "Dec",
    "gen": "Jan", "mag": "May", "giu": "Jun", "lug": "Jul", "ott": "Oct",
}


def parse_localized_rfc822(value: str):
    """feedparser date handler: RFC 822 dates whose day and month names are not English."""
    parts = value.replace(",", " ").split()
    if len(parts) < 4:
        return None
    if not parts[0][:1].isdigit():
        parts = parts[1:]  # the weekday name carries no information
    if len(parts) > 1:
        parts[1] = LOCAL_MONTHS.get(parts[1].lower().rstrip("."), parts[1])
    return _parse_date_rfc822(" ".join(parts))


feedparser.registerDateHandler(parse_localized_rfc822)


# An internal DTD subset is where entities are declared: external ones (XXE) and nested ones (billion
# laughs). Feeds have no use for it; it is removed before parsing, and references to its entities stay text.
_DOCTYPE_SUBSET_RE = re.compile(rb"<!DOCTYPE[^\[>]*\[.*?\]\s*>", re.DOTALL | re.IGNORECASE)
_FIRST_ELEMENT_RE = re.compile(rb"<[A-Za-z_]")


def strip_entity_declarations(body: bytes) -> tuple[bytes, bool]:
    """Remove the DOCTYPE's internal subset wherever it sits in the prolog (however much padding precedes it);
    a '<!DOCTYPE' after the root element is text, not a declaration."""
    if b"<!ENTITY" not in body.upper():
        return body, False
    match = _DOCTYPE_SUBSET_RE.search(body)
    root = _FIRST_ELEMENT_RE.search(body)
    if not match or (root and root.start() < match.start()):
        return body, False
    return body[:match.start()] + body[match.end():], True


_XML_ENCODING_RE = re.compile(rb"""(<\?xml[^>]*?encoding=)["'][^"']*["']""", re.IGNORECASE)


def redeclared_as_utf8(body: bytes, fallback: str | None) -> tuple[bytes, str] | None:
    """When the declared charset cannot decode the bytes, feedparser falls back to windows-1252 and Cyrillic
    or Greek text turns to mojibake. Detect the real charset (charset-normalizer) and hand feedparser UTF-8
    with a matching declaration; None when the detector agrees with feedparser's fallback."""
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    if best is None or codecs.lookup(best.encoding).name == codecs.lookup(fallback or "cp1252").name:
        return None
    text = body.decode(best.encoding, errors="replace").encode("utf-8")
    return _XML_ENCODING_RE.sub(rb'\1"utf-8"', text, count=1), best.encoding


def _struct_to_datetime(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC).replace(tzinfo=None)
    except (OverflowError, ValueError, TypeError):
        return None


def _entry_text(entry) -> str:
    """The longest text feedparser found: content:encoded or Atom content beats a short summary."""
    candidates = [entry.get("summary") or ""]
    candidates += [c.get("value") or "" for c in entry.get("content") or []]
    return max(candidates, key=len)


def _language(tag: str | None) -> str | None:
    if not tag:
        return None
    return tag.strip().split("-")[0].split("_")[0].lower()[:8] or None


def parse_feed(body: bytes, content_type: str | None = None) -> ParsedFeed:
    if not isinstance(body, bytes):
        raise TypeError("parse_feed takes bytes: feedparser must never be handed a URL or a path")
    headers = {"content-type": content_type} if content_type else {}
    body, stripped = strip_entity_declarations(body)
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=False)
    recoded = None
    if isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
        recoded = redeclared_as_utf8(body, parsed.get("encoding"))
        if recoded:
            body, actual = recoded
            parsed = feedparser.parse(body, response_headers={"content-type": "application/xml; charset=utf-8"},
                                      sanitize_html=True, resolve_relative_uris=False)
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        reason = str(parsed.get("bozo_exception") or "no feed elements found")
        raise FeedParseError("not_a_feed", f"body is not an RSS or Atom feed ({reason})")
    feed_language = _language(parsed.feed.get("language"))
    entries = [
        RawEntry(
            guid=(e.get("id") or None),
            link=(e.get("link") or None),
            title=e.get("title") or "",
            summary=_entry_text(e),
            author=e.get("author") or None,
            published=_struct_to_datetime(e.get("published_parsed") or e.get("updated_parsed")),
            language=_language(e.get("language")) or feed_language,
        )
        for e in parsed.entries
    ]
    broken = parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride)
    if broken and not entries:  # broken XML that yields nothing is a failure, not a quiet feed
        raise FeedParseError("parse", f"the feed's XML is broken and no entry could be read "
                                      f"({parsed.get('bozo_exception')})")
    bozo = bool(parsed.get("bozo")) or stripped or bool(recoded)
    reasons = ["DTD with entity declarations removed"] if stripped else []
    if recoded:
        reasons.append(f"declared charset was wrong: the bytes are {actual}")
    if parsed.get("bozo"):
        reasons.append(str(parsed.get("bozo_exception")))
    return ParsedFeed(
        title=parsed.feed.get("title"),
        language=feed_language,
        entries=entries,
        bozo=bozo,
        bozo_reason="; ".join(reasons)[:500] or None,
    )
