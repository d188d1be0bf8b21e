"""newsmon: fetch news feeds, classify articles against peace-talk themes, load them into DuckDB."""

__version__ = "0.1.0"
