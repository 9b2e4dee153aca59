"""Every knob jq reads from the environment or a `.env` file, with the reference defaults."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "jq"


class Settings(BaseSettings):
    """jq's configuration; `JQ_*` variables, plus the reference design's `REDIS_*`."""

    model_config = SettingsConfigDict(
        env_prefix="JQ_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Where Redis comes from: JQ_REDIS_URL, else REDIS_HOST/PORT/PASSWORD, else the embedded server.
    redis_url: SecretStr | None = None
    redis_host: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_HOST"))
    redis_port: int = Field(default=6379, validation_alias=AliasChoices("REDIS_PORT"))
    redis_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_PASSWORD")
    )
    redis_ca_file: Path | None = None
    redis_sentinel_master: str | None = None
    redis_sentinel_password: SecretStr | None = None  # the Sentinels' own, if they have one
    redis_connect_timeout: float = Field(default=2.0, gt=0)
    home: Path = Field(default_factory=_default_home)

    # Defaults for every task type; a task type or a job can override them.
    concurrency: int = Field(default=3, ge=1)
    attempts: int = Field(default=3, ge=1)
    backoff: float = Field(default=2.0, ge=0)
    keep_completed: int = Field(default=10, ge=0)
    keep_failed: int = Field(default=5, ge=0)
    timeout: float | None = Field(default=None, gt=0)

    # Workers.
    lease: float = Field(default=15.0, gt=0)
    grace: float = Field(default=30.0, ge=0)
    imports: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_data_bytes: int = Field(default=1_000_000, ge=1)

    # The scrape-reviews task type.
    google_places_api_key: SecretStr | None = None
    google_places_base_url: str = "https://places.googleapis.com/v1"
    scrape_user_agent: str = "jq-scrape-reviews/0.1 (+https://github.com/jq-jobs/jq)"
    scrape_delay: float = Field(default=1.0, ge=0)
    scrape_timeout: float = Field(default=20.0, gt=0)
    scrape_obey_robots: bool = True
    scrape_max_page_bytes: int = Field(default=5_000_000, ge=1)
    # Per worker process: the shared HTTP client never opens more connections than this.
    scrape_max_connections: int = Field(default=10, ge=1)

    @field_validator("imports", mode="before")
    @classmethod
    def _split_imports(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @cached_property
    def embedded(self) -> bool:
        """True when neither JQ_REDIS_URL nor REDIS_HOST is set: jq runs its own server."""
        return self.redis_url is None and self.redis_host is None


def load_settings() -> Settings:
    """Read the settings; a value that does not parse is a ConfigError."""
    from pydantic import ValidationError

    from jq.errors import ConfigError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise ConfigError(f"bad configuration: {where}: {first['msg']}") from exc
