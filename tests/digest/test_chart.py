"""digest_chart: a PNG readable at email width, with the core themes and their spike days drawn."""

from __future__ import annotations

import io
from datetime import date

from matplotlib.image import imread

from pipeline.classify.themes import load_themes
from pipeline.digest.chart import DPI, HEIGHT_PX, WIDTH_PX, render_chart
from pipeline.digest.collect import Digest, collect


def colour_pixels(png: bytes, hex_colour: str, tolerance: float = 0.06):
    pixels = imread(io.BytesIO(png))[..., :3]
    target = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return (abs(pixels - target) < tolerance).all(axis=-1)


def test_chart_of_a_spike_day_draws_every_theme_at_twice_email_width(demo_settings):
    digest = collect(demo_settings, date(2026, 11, 15))
    png = render_chart(digest, load_themes(demo_settings.models_dir))
    pixels = imread(io.BytesIO(png))
    assert pixels.shape[:2] == (HEIGHT_PX * DPI // 100, WIDTH_PX * DPI // 100) == (680, 1280)
    for theme, colour in digest.colours.items():
        assert colour_pixels(png, colour).sum() > 50, theme
    ceasefire = colour_pixels(png, digest.colours["ceasefire"])
    columns = ceasefire.any(axis=0).nonzero()[0]
    assert columns.max() > 0.9 * pixels.shape[1]  # drawn up to the digest day, at the right edge


def test_chart_of_an_empty_warehouse_still_renders(settings):
    themes = load_themes(settings.models_dir)
    digest = Digest(date(2026, 1, 1), colours={t.id: "#000000" for t in themes})
    assert imread(io.BytesIO(render_chart(digest, themes))).shape[1] == 1280
