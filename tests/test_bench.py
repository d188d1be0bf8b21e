"""bench: the README's table quotes the measured results file, never figures typed in from elsewhere."""

import json

from pipeline.core.config import REPO_ROOT

BENCH = REPO_ROOT / "bench"


ROWS = {"parse": "| parse", "classify": "| classify (", "classify_mixed_languages": "| classify, mixed languages",
        "load": "| load", "end_to_end": "| end to end"}


def table_row(prefix: str) -> str:
    return next(line for line in (BENCH / "README.md").read_text().splitlines() if line.startswith(prefix))


def test_readme_quotes_every_throughput_in_results_json():
    results = {r["name"]: r for r in json.loads((BENCH / "results.json").read_text())["results"]}
    assert {name for name, r in results.items() if r["unit"].endswith("/s")} == set(ROWS)
    for name, prefix in ROWS.items():
        figure, unit = f"{results[name]['figure']:,.0f}", results[name]["unit"]
        row = table_row(prefix)
        # Most rows say "2,811 articles/s"; load's says "(108,035/s)".
        assert f"| {figure} {unit}" in row or f"({figure}/s)" in row, f"bench/README.md: re-quote {name}"


def test_readme_names_the_classify_model_and_what_the_other_models_measured_in_the_same_run():
    classify = next(r for r in json.loads((BENCH / "results.json").read_text())["results"] if r["name"] == "classify")
    row = table_row(ROWS["classify"])
    assert classify["details"]["model_version"] in row and f"{classify['baseline']:,.0f}/s" in row
    assert f"event coder off {classify['details']['themes_only_articles_per_s']:,.0f}/s" in row
    for version, rate in classify["details"]["other_versions_articles_per_s"].items():
        assert f"{version} in the same run {rate:,.0f}/s" in row


def test_the_mixed_language_row_quotes_the_english_only_rate_of_the_same_run():
    results = {r["name"]: r for r in json.loads((BENCH / "results.json").read_text())["results"]}
    mixed, english = results["classify_mixed_languages"], results["classify"]
    assert mixed["baseline"] == english["figure"]  # measured side by side, one tenth of each in turn
    row = table_row(ROWS["classify_mixed_languages"])
    assert f"English only in the same run {english['figure']:,.0f}/s" in row and f"| {mixed['ratio']:.2f} |" in row


def test_the_classify_and_end_to_end_rows_name_the_host_probe_of_their_run():
    results = {r["name"]: r for r in json.loads((BENCH / "results.json").read_text())["results"]}
    for name in ("classify", "end_to_end"):
        assert f"host probe {results[name]['host_probe_s']} s" in table_row(ROWS[name]), name


def test_the_load_and_end_to_end_rows_quote_the_read_path_refresh_and_the_plain_script():
    results = {r["name"]: r for r in json.loads((BENCH / "results.json").read_text())["results"]}
    load, e2e = results["load"]["details"], results["end_to_end"]
    row = table_row(ROWS["load"])
    assert f"{load['read_refresh_day_files']} day files in {load['read_refresh_seconds']:.2f} s" in row
    assert f"({load['read_refresh_per_load']:.2f} of the load)" in row
    assert f"its refresh ({load['small_load_day_files']} day files" in row
    assert f"{load['small_load_refresh_seconds']:.2f} s" in row
    row = table_row(ROWS["end_to_end"])
    assert f"{e2e['baseline']:,.0f} articles/s" in row and f"| {e2e['ratio']:.2f} |" in row
