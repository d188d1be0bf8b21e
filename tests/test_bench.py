"""bench: the README's table quotes the measured results file, never figures typed in from elsewhere."""

import json

from pipeline.config import REPO_ROOT

BENCH = REPO_ROOT / "bench"


def test_readme_quotes_every_throughput_in_results_json():
    results = json.loads((BENCH / "results.json").read_text())["results"]
    readme = (BENCH / "README.md").read_text()
    throughputs = {r["name"]: f"{r['figure']:,.0f} {r['unit']}" for r in results if r["unit"].endswith("/s")}
    assert set(throughputs) >= {"parse", "classify", "load", "end_to_end"}
    # load's row states its rate as "(108,035/s)"; the others as "2,811 articles/s".
    missing = [name for name, quoted in throughputs.items()
               if quoted not in readme and f"({quoted.split()[0]}/s)" not in readme]
    assert missing == [], f"bench/README.md: re-quote {missing} from results.json"


def test_readme_names_the_classify_model_and_what_the_other_models_measured_in_the_same_run():
    classify = next(r for r in json.loads((BENCH / "results.json").read_text())["results"] if r["name"] == "classify")
    row = next(line for line in (BENCH / "README.md").read_text().splitlines() if line.startswith("| classify"))
    assert classify["details"]["model_version"] in row and f"{classify['baseline']:,.0f}/s" in row
    for version, rate in classify["details"]["other_versions_articles_per_s"].items():
        assert f"{version} in the same run {rate:,.0f}/s" in row
