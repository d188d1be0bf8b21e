"""cli: the `newsmon` contracts, run as a real subprocess like users and other tools run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from conftest import make_settings

from pipeline.core.records import FeedSpec
from pipeline.ingest.cycle import run_cycle

NEWSMON = [sys.executable, "-m", "pipeline.cli"]


def newsmon(*args: str, home, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEWSMON_HOME": str(home), **(env or {})}
    return subprocess.run([*NEWSMON, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


def test_classify_contract_is_exact(tmp_path):
    lines = "\n".join(json.dumps(r) for r in [
        {"id": "a1", "title": "EU tightens sanctions on Russian banks", "summary": "New listings target lenders."},
        {"id": 2, "title": "Cup final", "text": "The holders won on penalties."},
    ])
    result = newsmon("classify", "-", home=tmp_path, stdin=lines)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a1", 2]
    for row in rows:
        assert list(row) == ["id", "labels", "scores", "evidence", "events", "model_version"]
        assert set(row["evidence"]) == set(row["labels"])
        assert {e["theme"] for e in row["events"]} <= set(row["labels"])
    assert "sanctions" in rows[0]["labels"] and rows[1]["labels"] == [] and rows[1]["events"] == []
    assert rows[0]["events"][0]["actor"] == "europe" and rows[0]["events"][0]["theme"] == "sanctions"


def test_classify_reports_bad_lines_by_number_and_keeps_going(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "title": "Truce holds"}\nnot json\n{"title": "no id"}\n{"id": 4, "title": "x"}\n')
    result = newsmon("classify", str(source), home=tmp_path)
    assert result.returncode == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1, 4]
    assert "line 2" in result.stderr and "line 3" in result.stderr


def test_classify_streams_output_before_the_input_ends(tmp_path):
    """Bounded memory: results for the first chunk arrive while stdin is still open."""
    env = {**os.environ, "NEWSMON_HOME": str(tmp_path)}
    with subprocess.Popen([*NEWSMON, "classify", "-", "--chunk", "3"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        for i in range(3):
            proc.stdin.write(json.dumps({"id": i, "title": "Kremlin rejects Ukraine ceasefire"}) + "\n")
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())  # would block forever if classify read all input first
        proc.stdin.close()
        rest = proc.stdout.read().splitlines()
        assert proc.wait(timeout=60) == 0
    assert first["id"] == 0 and "ceasefire" in first["labels"] and len(rest) == 2


def test_evaluate_prints_the_table_writes_json_and_scores_the_lexicon_alone(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(r) for r in [
        {"id": 1, "title": "EU adopts new sanctions on Russian oil", "summary": "", "labels": ["sanctions"]},
        {"id": 2, "title": "Cup final goes to penalties", "summary": "", "labels": []},
    ]))
    out = tmp_path / "report.json"
    result = newsmon("evaluate", "--gold", str(gold), "--json", str(out), home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "macro-F1" in result.stdout and "sanctions" in result.stdout
    report = json.loads(out.read_text())
    assert report["per_theme"]["sanctions"]["tp"] == 1 and report["off_topic_items"] == 1
    lexicon = newsmon("evaluate", "--gold", str(gold), "--lexicon-only", home=tmp_path)
    assert lexicon.returncode == 0 and "(lexicon only)" not in lexicon.stderr and "macro-F1" in lexicon.stdout


def test_reclassify_command_reports_counts_and_refuses_bad_dates(tmp_path, fixture_server):
    from pipeline.classify.model import current_version
    from pipeline.core.config import REPO_ROOT

    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")])
    run_cycle(settings)
    version = current_version(REPO_ROOT / "models")
    result = newsmon("reclassify", "--model", version, "--from", "2026-01-01", "--to", "2026-12-31",
                     home=settings.home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["articles_in_range"] == 3
    bad = newsmon("reclassify", "--model", version, "--from", "2026-13-01", "--to", "2026-12-31",
                  home=settings.home)
    assert bad.returncode == 1 and bad.stderr.startswith("reclassify: ")


def test_sql_formats_and_read_only(tmp_path, fixture_server):
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")])
    run_cycle(settings)
    home = settings.home
    as_json = newsmon("sql", "SELECT count(*) AS n FROM articles", "--format", "json", home=home)
    assert json.loads(as_json.stdout) == {"n": 3}
    as_csv = newsmon("sql", "SELECT feed_id, state FROM feed_health", "--format", "csv", home=home)
    assert as_csv.stdout.splitlines() == ["feed_id,state", "wire,ok"]
    table = newsmon("sql", "SELECT theme FROM theme_daily LIMIT 1", home=home)
    assert table.returncode == 0 and "theme" in table.stdout
    refused = newsmon("sql", "DROP TABLE articles", home=home)
    assert refused.returncode == 1 and refused.stderr.startswith("sql: ") and len(refused.stderr.splitlines()) == 1
    missing = newsmon("sql", "SELECT 1", home=tmp_path / "nowhere")
    assert missing.returncode == 1 and "no warehouse" in missing.stderr


def test_sql_runs_a_saved_query_file(tmp_path, fixture_server):
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")])
    run_cycle(settings)
    query = tmp_path / "q.sql"
    query.write_text("SELECT count(*) AS n FROM articles")
    result = newsmon("sql", "--file", str(query), "--format", "csv", home=settings.home)
    assert result.stdout.splitlines() == ["n", "3"]


def test_feeds_add_import_list_export_remove(tmp_path):
    home = tmp_path / "home"
    assert newsmon("feeds", "add", "https://ledger.example/rss", "--id", "ledger", "--language", "uk",
                   "--full-text", home=home).returncode == 0
    from pipeline.warehouse.store import open_readonly

    with open_readonly(home / "warehouse.duckdb") as con:
        assert con.execute("SELECT language, full_text FROM feeds WHERE feed_id = 'ledger'").fetchone() == ("uk", True)
    bad = newsmon("feeds", "add", "file:///etc/passwd", home=home)
    assert bad.returncode == 1 and "only http(s)" in bad.stderr
    opml = tmp_path / "in.opml"
    opml.write_text('<opml version="2.0"><body><outline text="W" xmlUrl="https://wire.example/rss"/></body></opml>')
    assert "imported 1 feeds" in newsmon("feeds", "import", str(opml), home=home).stdout
    listed = newsmon("feeds", "list", home=home).stdout
    assert "ledger" in listed and "https://wire.example/rss" in listed
    exported = newsmon("feeds", "export", home=home).stdout
    assert exported.count("<outline") == 2
    assert newsmon("feeds", "remove", "ledger", home=home).returncode == 0
    assert "ledger" not in newsmon("feeds", "list", home=home).stdout


def test_digest_command_defaults_to_the_latest_day(tmp_path, fixture_server):
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")])
    run_cycle(settings)
    result = newsmon("digest", home=settings.home)
    assert result.stdout.strip().endswith("2026-11-16/digest.html")
    assert newsmon("digest", "--date", "16/11/2026", home=settings.home).returncode == 1


def test_digest_email_flag_sends_through_the_smtp_settings(tmp_path, fixture_server, smtp_sink):
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")])
    run_cycle(settings)
    env = {"NEWSMON_SMTP_HOST": "127.0.0.1", "NEWSMON_SMTP_PORT": str(smtp_sink.port),
           "NEWSMON_SMTP_STARTTLS": "false", "NEWSMON_SMTP_USER": smtp_sink.user,
           "NEWSMON_SMTP_PASSWORD": smtp_sink.password, "NEWSMON_SMTP_RECIPIENTS": "a@newsmon.test, b@newsmon.test"}
    result = newsmon("digest", "--date", "2026-11-16", "--email", home=settings.home, env=env)
    assert result.returncode == 0, result.stderr
    assert "sent to a@newsmon.test, b@newsmon.test" in result.stderr
    assert [e.rcpt_tos for e in smtp_sink.received] == [["a@newsmon.test", "b@newsmon.test"]]
    no_server = newsmon("digest", "--date", "2026-11-16", "--email", home=settings.home)
    assert no_server.returncode == 1 and "no SMTP server configured" in no_server.stderr


def test_replay_and_feeds_enable_give_one_line_errors_for_bad_input(tmp_path):
    bad_date = newsmon("replay", "--from", "2026-13-01", "--to", "2026-11-02", home=tmp_path)
    assert bad_date.returncode != 0 and "YYYY-MM-DD" in bad_date.stderr and "Traceback" not in bad_date.stderr
    backwards = newsmon("replay", "--from", "2026-11-05", "--to", "2026-11-01", home=tmp_path)
    assert backwards.returncode != 0 and "before" in backwards.stderr
    unknown = newsmon("feeds", "enable", "no-such-feed", home=tmp_path)
    assert unknown.returncode != 0 and "no feed 'no-such-feed'" in unknown.stderr


def test_replay_of_days_without_raw_bytes_loads_nothing(tmp_path):
    result = newsmon("replay", "--from", "2026-11-01", "--to", "2026-11-02", home=tmp_path)
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert counts["raw_bodies"] == 0 and counts["articles_new"] == 0


def test_feeds_list_has_a_header_readable_times_and_three_formats(tmp_path, fixture_server):
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml"),
                                        FeedSpec("gone", f"{fixture_server}/missing.xml")])
    run_cycle(settings)
    table = newsmon("feeds", "list", home=settings.home).stdout
    assert "feed_id" in table.splitlines()[1] and "next_due_at" in table  # the header row under the frame
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \((\d+ minutes from now|an hour from now|\d+ hours from now)\)", table)
    rows = [json.loads(line) for line in newsmon("feeds", "list", "--format", "json", home=settings.home).stdout
            .splitlines()]
    assert {r["feed_id"]: r["state"] for r in rows} == {"gone": "failing", "wire": "ok"}
    assert datetime.fromisoformat(rows[0]["next_due_at"])  # machine formats keep ISO times
    as_csv = newsmon("feeds", "list", "--format", "csv", home=settings.home).stdout.splitlines()
    assert as_csv[0].startswith("feed_id,state,url") and len(as_csv) == 3


def feeds_with_failures(tmp_path, fixture_server) -> Path:
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml"),
                                        FeedSpec("gone", f"{fixture_server}/missing.xml"),
                                        FeedSpec("page", f"{fixture_server}/not_a_feed.html")])
    return settings.feeds_file


def run_env(tmp_path, feeds_file, **extra) -> dict:
    return {"NEWSMON_FEEDS_FILE": str(feeds_file), "NEWSMON_ALLOW_PRIVATE_NETWORKS": "true", **extra}


def test_run_prints_a_summary_naming_each_failed_feed_and_exits_0(tmp_path, fixture_server):
    feeds_file = feeds_with_failures(tmp_path, fixture_server)
    result = newsmon("run", home=tmp_path / "home", env=run_env(tmp_path, feeds_file))
    assert result.returncode == 0, result.stderr  # the run completed; two feeds failing does not fail it
    out = result.stdout.splitlines()
    assert out[0].startswith("run newsmon__")
    assert out[1] == "feeds: 1 fetched, 0 not modified, 2 failed (http_4xx 1, not_a_feed 1)"
    assert out[2] == "articles: 3 new, 0 changed" and out[3].startswith("new articles per theme: ")
    failed = [line for line in out if line.startswith("failed: ")]
    assert failed == [f"failed: gone {fixture_server}/missing.xml http_4xx: fetch: HTTP 404 from "
                      f"{fixture_server}/missing.xml", failed[1]]
    assert failed[1].startswith(f"failed: page {fixture_server}/not_a_feed.html not_a_feed: ")
    assert "readers see it since" in out[-1]
    # not a terminal: plain progress lines on stderr
    assert "newsmon: fetch, parse, classify (feeds): 3/3" in result.stderr and "newsmon: load: 1/1" in result.stderr


def test_run_json_is_the_counts_and_a_failed_run_exits_1(tmp_path, fixture_server):
    feeds_file = feeds_with_failures(tmp_path, fixture_server)
    result = newsmon("run", "--json", home=tmp_path / "home", env=run_env(tmp_path, feeds_file))
    counts = json.loads(result.stdout)
    assert result.returncode == 0 and counts["feeds"] == 3 and counts["failed"] == 2 and counts["articles_new"] == 3
    assert result.stderr == ""  # no progress lines around the JSON
    broken = tmp_path / "broken.yaml"
    broken.write_text("feeds: [{url: 42}]\n")
    failed = newsmon("run", home=tmp_path / "home", env=run_env(tmp_path, broken))
    assert failed.returncode == 1 and failed.stderr.strip() and "Traceback" not in failed.stderr


def test_run_on_a_terminal_draws_progress_bars(tmp_path, fixture_server):
    import pty

    feeds_file = feeds_with_failures(tmp_path, fixture_server)
    env = {**os.environ, "NEWSMON_HOME": str(tmp_path / "home"), **run_env(tmp_path, feeds_file), "COLUMNS": "100"}
    leader, follower = pty.openpty()
    process = subprocess.Popen([*NEWSMON, "run"], stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert process.wait(timeout=120) == 0
    screen = b"".join(chunks).decode(errors="replace")
    assert "━" in screen and "3/3" in screen  # rich's bar, feeds done of feeds
    assert "newsmon: fetch" not in screen  # not the plain lines
    assert "feeds: 1 fetched, 0 not modified, 2 failed" in screen


def test_logs_carry_their_keys_as_text_or_json_and_version_prints(tmp_path, fixture_server):
    feeds_file = feeds_with_failures(tmp_path, fixture_server)
    as_json = newsmon("-v", "run", home=tmp_path / "home",
                      env=run_env(tmp_path, feeds_file, NEWSMON_LOG_FORMAT="json"))
    records = [json.loads(line) for line in as_json.stderr.splitlines() if line.startswith("{")]
    failed = [r for r in records if r["message"] == "feed failed"]
    assert {r["feed_id"] for r in failed} == {"gone", "page"}
    assert all(r["feed_url"].startswith(fixture_server) and r["run_id"].startswith("newsmon__") and r["kind"]
               for r in failed)
    as_text = newsmon("run", "--force", home=tmp_path / "home",
                      env=run_env(tmp_path, feeds_file, NEWSMON_LOG_LEVEL="INFO"))
    assert re.search(r"info newsmon.ingest: feed failed feed_url=\S+missing.xml feed_id=gone run_id=\S+ "
                     r"kind=http_4xx", as_text.stderr)
    quiet = newsmon("-q", "run", "--force", home=tmp_path / "home", env=run_env(tmp_path, feeds_file))
    assert quiet.returncode == 0 and quiet.stderr == ""
    version = newsmon("--version", home=tmp_path / "home")
    assert version.returncode == 0 and re.fullmatch(r"newsmon \d+\.\d+\.\d+\n", version.stdout)


def test_long_commands_report_progress_as_plain_lines_off_a_terminal(tmp_path, fixture_server):
    settings = make_settings(tmp_path, [FeedSpec("wire", f"{fixture_server}/rss2_basic.xml")])
    run_cycle(settings)
    day = datetime.now().date().isoformat()
    env = {"NEWSMON_FEEDS_FILE": str(settings.feeds_file), "NEWSMON_ALLOW_PRIVATE_NETWORKS": "true"}
    replay = newsmon("replay", "--from", day, "--to", day, home=settings.home, env=env)
    assert replay.returncode == 0 and "newsmon: re-parse, classify (raw bodies): 1/1" in replay.stderr
    export = newsmon("export", "--to", str(tmp_path / "out"), home=settings.home, env=env)
    assert export.returncode == 0 and re.search(r"newsmon: export \(tables\): (\d+)/\1\n", export.stderr)
    maintain = newsmon("maintain", home=settings.home, env=env)
    assert maintain.returncode == 0 and "newsmon: prune, checkpoint, back up, export: 4/4" in maintain.stderr
    quiet = newsmon("-q", "export", "--to", str(tmp_path / "out2"), home=settings.home, env=env)
    assert quiet.returncode == 0 and quiet.stderr == ""
