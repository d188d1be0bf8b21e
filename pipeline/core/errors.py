"""Named exceptions; every message starts with the component that raised it."""


class NewsmonError(Exception):
    """Base class for errors newsmon reports to the user."""


class FeedFetchError(NewsmonError):
    """A feed could not be fetched; `kind` is a short machine-readable reason."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(f"fetch: {message}")
        self.kind = kind
        self.status = status


class FeedParseError(NewsmonError):
    """A body could not be read as a feed at all (as opposed to a recoverable bozo feed)."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"parse: {message}")
        self.kind = kind


class FeedRegistryError(NewsmonError):
    """feeds.yaml or an OPML file is invalid."""


class WarehouseError(NewsmonError):
    """The warehouse is missing, locked or was given bad SQL."""


class ModelError(NewsmonError):
    """The classifier artifact is missing or untrusted."""
