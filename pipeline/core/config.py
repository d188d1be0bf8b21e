"""One validated settings object: `newsmon.toml` (optional) overridden by `NEWSMON_*` environment variables."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSMON_", toml_file="newsmon.toml", extra="ignore")

    home: Path = Field(default=Path("var"), description="state directory: warehouse, staging, raw, digests")
    feeds_file: Path = Field(default=REPO_ROOT / "feeds.yaml")
    models_dir: Path = Field(default=REPO_ROOT / "models")
    model_version: str | None = Field(default=None, description="None: the version named in models/CURRENT")
    dags_folder: Path = Field(default=REPO_ROOT / "dags")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING", description="the command line's log level (-v: INFO, -vv: DEBUG, -q: ERROR)")
    log_format: Literal["text", "json"] = Field(default="text", description="json: one object per line")

    # fetching
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    fetch_deadline_s: float = 30.0
    max_body_bytes: int = 15 * 1024 * 1024
    max_redirects: int = 5
    fetch_concurrency: int = 32
    per_host_concurrency: int = 2
    allow_private_networks: bool = Field(
        default=False, description="fetch from private/loopback/reserved addresses too (demo and tests only)"
    )
    allowed_addresses: list[str] = Field(
        default_factory=list, description="addresses or networks allowed although non-public, e.g. ['127.0.0.1']"
    )
    host_timeout_limit: int = Field(default=2, ge=1, description="timeouts on one host before its feeds are skipped")
    unconditional_every_h: float = Field(default=12.0, description="ignore stored validators this often")
    user_agent: str = "newsmon/0.1 (+https://github.com/newsmon/newsmon)"
    batch_size: int = Field(default=25, ge=1, description="feeds per mapped Airflow task")
    run_workers: int = Field(default=os.cpu_count() or 1, ge=1, description="processes for `newsmon run`")

    # feed health
    disable_after_errors: float = Field(default=10.0, description="error score (hard 1, soft 0.5) that disables")
    disabled_probe_h: float = Field(default=24.0, description="how often a disabled feed is still tried")
    moved_after_redirects: int = Field(default=3, ge=1, description="permanent redirects in a row that move a feed")
    max_backoff_h: float = 24.0

    # full text (feeds with full_text: true)
    fulltext_per_feed: int = Field(default=20, ge=0, description="article pages fetched per feed and cycle")
    fulltext_max_chars: int = 20_000

    # maintenance
    raw_retention_days: int = Field(default=90, ge=1, description="raw feed bodies kept for replay")
    staging_retention_days: int = Field(default=7, ge=1, description="staged Parquet of past runs")
    backups_keep: int = Field(default=7, ge=1)

    # normalizing
    max_article_age_days: int = Field(default=3650, description="older publication dates are treated as missing")

    # digest
    digest_top_per_theme: int = Field(default=5, ge=1, description="stories shown per core theme")
    digest_top_per_other_theme: int = Field(default=3, ge=1, description="stories shown per other theme")
    digest_new_stories: int = Field(default=10, ge=0, description="stories listed under 'new since yesterday'")
    digest_feed_entries: int = Field(default=30, ge=1, description="digests kept in digests/feed.xml")
    digest_base_url: str | None = Field(
        default=None, description="public URL of the digests directory, for the Atom feed's links"
    )

    # digest email (the DAG may use an Airflow SMTP connection instead of the server settings)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = Field(default=False, description="implicit TLS (port 465) instead of STARTTLS")
    smtp_sender: str = "newsmon <newsmon@localhost>"
    smtp_recipients: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated in NEWSMON_SMTP_RECIPIENTS"
    )
    smtp_timeout_s: float = 30.0
    smtp_conn_id: str | None = Field(default=None, description="Airflow connection id used by the news_digest DAG")

    @field_validator("smtp_recipients", mode="before")
    @classmethod
    def _split_recipients(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    # task-failure alerts (Airflow callbacks) go through the SMTP server above; no alert_emails: record only
    alert_emails: list[str] = Field(default_factory=list, description="who is mailed when a task fails for good")

    # alerts (pipeline/alerts): rules and channels in alerts.yaml; e-mail goes through the SMTP settings above,
    # webhooks through the fetcher's address guard (allow_private_networks, allowed_addresses)
    alerts_file: Path | None = Field(default=None, description="None: alerts.yaml beside the feeds file")
    alerts_lookback_h: float = Field(default=48.0, gt=0, description="rules look at articles first seen this recently")
    alerts_webhook_timeout_s: float = Field(default=10.0, gt=0, description="per webhook attempt")
    alerts_webhook_attempts: int = Field(default=3, ge=1, description="tries per webhook delivery in one check")
    alerts_retry_backoff_s: float = Field(default=2.0, ge=0, description="first wait between tries, doubled each time")

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @cached_property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @cached_property
    def staging_dir(self) -> Path:
        return self.home / "staging"

    @cached_property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @cached_property
    def digests_dir(self) -> Path:
        return self.home / "digests"

    @cached_property
    def failures_log(self) -> Path:
        """One JSON line per failed task attempt, written by the Airflow failure callbacks on any worker."""
        return self.home / "failures" / "task_failures.jsonl"

    @cached_property
    def alerts_path(self) -> Path:
        return self.alerts_file or self.feeds_file.parent / "alerts.yaml"

    @cached_property
    def alerts_dir(self) -> Path:
        """The alerts' own state (the sent-ledger): never the warehouse, which has one writer."""
        return self.home / "alerts"

    @cached_property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    def ensure_home(self) -> Path:
        for path in (self.home, self.staging_dir, self.raw_dir, self.digests_dir):
            path.mkdir(parents=True, exist_ok=True)
        return self.home


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
