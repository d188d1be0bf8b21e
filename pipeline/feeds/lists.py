"""Feed registry input: `feeds.yaml` and OPML (import and export)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement, tostring

import yaml
from defusedxml import ElementTree as SafeET

from pipeline.core.errors import FeedRegistryError
from pipeline.core.records import FeedSpec

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG_RE.sub("-", text.lower()).strip("-")[:60]


def feed_id_for(url: str, title: str | None = None) -> str:
    """A readable, stable id for a feed that has none: title slug plus a short hash of the URL."""
    digest = hashlib.sha1(url.encode()).hexdigest()[:8]
    return f"{slugify(title)}-{digest}" if title and slugify(title) else f"feed-{digest}"


def check_feed_url(url: str) -> str:
    url = url.strip()
    if not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
        raise FeedRegistryError(f"feeds: only http(s) feed URLs are accepted, got {url!r}")
    return url


def feed_from_mapping(item: dict, where: str) -> FeedSpec:
    if not isinstance(item, dict) or "url" not in item:
        raise FeedRegistryError(f"feeds: {where}: each feed needs at least a 'url'")
    url = check_feed_url(str(item["url"]))
    title = item.get("title")
    tags = item.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    try:
        poll_minutes = int(item.get("poll_minutes", 15))
    except (TypeError, ValueError) as exc:
        raise FeedRegistryError(f"feeds: {where}: poll_minutes must be an integer") from exc
    if poll_minutes < 1:
        raise FeedRegistryError(f"feeds: {where}: poll_minutes must be at least 1")
    return FeedSpec(
        feed_id=str(item.get("id") or feed_id_for(url, title)),
        url=url,
        title=title,
        tags=tuple(str(t) for t in tags),
        language=item.get("language"),
        poll_minutes=poll_minutes,
        full_text=bool(item.get("full_text", False)),
    )


def load_feeds_file(path: Path) -> list[FeedSpec]:
    """Read feeds.yaml: `{feeds: [{id, url, title, tags, language, poll_minutes, full_text}]}`."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise FeedRegistryError(f"feeds: feeds file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise FeedRegistryError(f"feeds: {path} is not valid YAML: {exc}") from exc
    items = data.get("feeds") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise FeedRegistryError(f"feeds: {path} must contain a list under 'feeds'")
    specs = [feed_from_mapping(item, f"{path} item {i + 1}") for i, item in enumerate(items)]
    seen: set[str] = set()
    for spec in specs:
        if spec.feed_id in seen:
            raise FeedRegistryError(f"feeds: {path}: duplicate feed id {spec.feed_id!r}")
        seen.add(spec.feed_id)
    return specs


def write_feeds_file(specs: list[FeedSpec], path: Path) -> None:
    items = []
    for s in specs:
        item = {"id": s.feed_id, "url": s.url}
        if s.title:
            item["title"] = s.title
        if s.tags:
            item["tags"] = list(s.tags)
        if s.language:
            item["language"] = s.language
        if s.poll_minutes != 15:
            item["poll_minutes"] = s.poll_minutes
        if s.full_text:
            item["full_text"] = True
        items.append(item)
    Path(path).write_text(yaml.safe_dump({"feeds": items}, sort_keys=False, allow_unicode=True), encoding="utf-8")


def parse_opml(data: bytes) -> list[FeedSpec]:
    """Every `outline` with an `xmlUrl`, at any depth; parent outline titles become tags."""
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml raises several types for hostile or broken XML
        raise FeedRegistryError(f"feeds: OPML could not be read: {exc}") from exc
    body = root.find("body")
    if body is None:
        raise FeedRegistryError("feeds: OPML has no <body>")
    specs: list[FeedSpec] = []

    def walk(node, tags: tuple[str, ...]) -> None:
        for outline in node.findall("outline"):
            url = outline.get("xmlUrl")
            title = outline.get("title") or outline.get("text")
            if url:
                try:
                    url = check_feed_url(url)
                except FeedRegistryError:
                    continue
                # OPML 2.0's comma-separated `category` (what export writes) adds to the folder tags
                categories = [c.strip().strip("/") for c in (outline.get("category") or "").split(",")]
                all_tags = tuple(dict.fromkeys([*tags, *(c for c in categories if c)]))
                specs.append(FeedSpec(feed_id=feed_id_for(url, title), url=url, title=title, tags=all_tags,
                                      language=(outline.get("language") or "").strip() or None))
            else:
                walk(outline, tags + ((title,) if title else ()))

    walk(body, ())
    return specs


def to_opml(specs: list[FeedSpec], title: str = "newsmon feeds") -> bytes:
    opml = Element("opml", version="2.0")
    SubElement(SubElement(opml, "head"), "title").text = title
    body = SubElement(opml, "body")
    for s in specs:
        attrs = {"type": "rss", "text": s.title or s.feed_id, "title": s.title or s.feed_id, "xmlUrl": s.url}
        if s.tags:
            attrs["category"] = ",".join(s.tags)
        if s.language:  # OPML 2.0's `language` of a subscription
            attrs["language"] = s.language
        SubElement(body, "outline", attrs)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(opml, encoding="utf-8")
