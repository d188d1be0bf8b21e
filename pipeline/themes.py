"""The theme taxonomy (models/themes.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    core: bool
    description: str


@lru_cache(maxsize=4)
def load_themes(models_dir: Path) -> tuple[Theme, ...]:
    data = yaml.safe_load((Path(models_dir) / "themes.yaml").read_text(encoding="utf-8"))
    return tuple(
        Theme(id=t["id"], name=t["name"], core=bool(t.get("core")), description=t["description"].strip())
        for t in data["themes"]
    )


def theme_ids(models_dir: Path) -> list[str]:
    return [t.id for t in load_themes(models_dir)]
