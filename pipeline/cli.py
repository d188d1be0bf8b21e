"""The `newsmon` command line. Each command opens what it needs and calls one library function."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

import typer

from pipeline.core.config import load_settings
from pipeline.core.errors import NewsmonError
from pipeline.ops.console import ProgressReporter

app = typer.Typer(help="newsmon: monitor news feeds for peace-talk themes of the Russia-Ukraine war.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
feeds_app = typer.Typer(help="Manage the feed registry (warehouse table `feeds`).", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")
alerts_app = typer.Typer(help="Alerts: the rules and channels of alerts.yaml, checked after every load.",
                         no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


STATE = {"quiet": False}


def version_callback(value: bool) -> None:
    if value:
        from pipeline import __version__

        typer.echo(f"newsmon {__version__}")
        raise typer.Exit()


@app.callback()
def main(verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="-v: info, -vv: debug logs"),
         quiet: bool = typer.Option(False, "--quiet", "-q", help="errors only, no progress"),
         version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                      help="print the version and exit")):
    """Logs go to stderr at NEWSMON_LOG_LEVEL (default WARNING), as text or NEWSMON_LOG_FORMAT=json."""
    from pipeline.core import logs

    settings = load_settings()
    level = "ERROR" if quiet else {0: settings.log_level, 1: "INFO"}.get(verbose, "DEBUG")
    logs.configure(level, settings.log_format)
    STATE["quiet"] = quiet


def fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@app.command()
def demo(no_airflow: bool = typer.Option(False, help="run the cycle in-process instead of under Airflow")):
    """Serve the bundled demo feeds on 127.0.0.1, run news_ingest once under Airflow, build the digest."""
    from pipeline.ops.demo import run_demo

    try:
        run_demo(load_settings(), use_airflow=not no_airflow)
    except NewsmonError as exc:
        fail(str(exc))


@app.command()
def run(force: bool = typer.Option(False, help="fetch every enabled feed, due or not"),
        as_json: bool = typer.Option(False, "--json", help="print the run's counts as one JSON object")):
    """One ingest cycle over the configured feeds (what the news_ingest DAG does, without Airflow). Exit 0 when
    the run completed, failed feeds included; 1 when the run itself failed."""
    from pipeline.ingest.cycle import run_and_report
    from pipeline.ops.console import run_summary_lines

    try:
        with ProgressReporter(quiet=as_json or STATE["quiet"]) as progress:
            counts, report = run_and_report(load_settings(), force=force, progress=progress)
    except NewsmonError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(counts, default=str))
    else:
        typer.echo("\n".join(run_summary_lines(report)))


@app.command()
def classify(
    file: str = typer.Argument("-", help="JSON Lines with id, title and summary (or text); - for stdin"),
    chunk: int = typer.Option(1000, min=1, help="lines classified together (bounds memory)"),
    model: str | None = typer.Option(None, help="model version (default: models/CURRENT)"),
):
    """Write one JSON line per input: id, labels, scores, evidence, events, model_version. Bad lines go to stderr."""
    from pipeline.classify.model import classify_jsonl

    settings = load_settings()
    try:
        stream = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        fail(f"classify: cannot read {file}: {exc.strerror}")
    try:
        counts = classify_jsonl(settings.models_dir, model or settings.model_version, stream, sys.stdout, sys.stderr,
                                chunk=chunk)
    except NewsmonError as exc:
        fail(str(exc))
    finally:
        if file != "-":
            stream.close()
    if counts["bad"]:
        typer.echo(f"classify: {counts['bad']} bad line(s) of {counts['lines']} skipped", err=True)
        raise typer.Exit(1)


@app.command()
def evaluate(gold: Path = typer.Option(..., exists=True, help="JSON Lines: id, title, summary, labels"),
             json_out: Path | None = typer.Option(None, "--json", help="also write the report as JSON"),
             model: str | None = typer.Option(None, help="model version (default: models/CURRENT)"),
             lexicon_only: bool = typer.Option(False, help="score the model's lexicon alone (the baseline)"),
             events: Path | None = typer.Option(None, exists=True,
                                                help="JSON Lines of id and events to add to the gold items")):
    """Per-theme precision, recall, F1 and macro-F1 of the shipped model against gold labels; event figures
    (who did what) too when the gold lines carry "events": [[actor, action, theme], ...]."""
    from pipeline.classify.evaluate import evaluate_gold, format_report

    settings = load_settings()
    try:
        report = evaluate_gold(settings.models_dir, model or settings.model_version, gold, lexicon_only, events)
    except (ValueError, NewsmonError) as exc:
        fail(str(exc))
    typer.echo(format_report(report))
    if json_out:
        json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


@app.command()
def train(seed: int = typer.Option(13), shared_gold: Path | None = typer.Option(
              None, help="outside gold set to measure on (never trained or tuned on)"),
          make_current: bool = typer.Option(True, help="point models/CURRENT at the new version")):
    """Train the theme classifier from models/training and make it the current version."""
    from pipeline.classify.train import train_model

    settings = load_settings()
    try:
        with ProgressReporter(quiet=STATE["quiet"]) as progress:
            version = train_model(settings.models_dir, seed=seed, shared_gold=shared_gold, make_current=make_current,
                                  progress=progress)
    except (ValueError, NewsmonError) as exc:
        fail(str(exc))
    typer.echo(f"trained {version} -> {settings.models_dir / version}")


@app.command()
def reclassify(model: str = typer.Option(..., help="model version to label with"),
               date_from: str = typer.Option(..., "--from", help="first publication day, YYYY-MM-DD (UTC)"),
               date_to: str = typer.Option(..., "--to", help="last publication day, YYYY-MM-DD (UTC)")):
    """Add a model version's labels beside the existing ones for articles published in a date range."""
    from pipeline.classify.reclassify import reclassify as run_reclassify

    start, end = parse_day(date_from, "--from", "reclassify"), parse_day(date_to, "--to", "reclassify")
    try:
        with ProgressReporter(quiet=STATE["quiet"]) as progress:
            counts = run_reclassify(load_settings(), model, start, end, progress=progress)
    except (ValueError, NewsmonError) as exc:
        fail(str(exc))
    typer.echo(json.dumps(counts))


@app.command("detect-languages")
def detect_languages():
    """Detect the language of every stored article again (rows loaded before detection hold the declared one)."""
    from pipeline.classify.reclassify import detect_stored_languages

    try:
        with ProgressReporter(quiet=STATE["quiet"]) as progress:
            counts = detect_stored_languages(load_settings(), progress=progress)
    except NewsmonError as exc:
        fail(str(exc))
    typer.echo(json.dumps(counts))


@app.command()
def sql(query: str | None = typer.Argument(None), file: Path | None = typer.Option(None, "--file", exists=True),
        fmt: OutputFormat = typer.Option(OutputFormat.table, "--format"),
        path: bool = typer.Option(False, "--path", help="print the read file to open in any DuckDB client")):
    """Read-only SQL on the warehouse's read path (which never blocks a load)."""
    from pipeline.warehouse.query import run_query

    if path:
        from pipeline.warehouse.readpath import read_db_path

        typer.echo(str(read_db_path(load_settings().home)))
        return
    if (query is None) == (file is None):
        fail("sql: give a QUERY or --file, not both")
    text = file.read_text(encoding="utf-8") if file else query
    try:
        columns, rows = run_query(load_settings().home, text)
    except NewsmonError as exc:
        fail(str(exc))
    print_rows(columns, rows, fmt)


def print_rows(columns: list[str], rows: list[tuple], fmt: OutputFormat, table_rows: list[tuple] | None = None,
               width: int | None = None) -> None:
    """Rows as JSON Lines, CSV (with a header) or a table; `table_rows` are the rows as a person reads them
    (e.g. times as 'in 12 minutes'), used by the table only."""
    if fmt is OutputFormat.json:
        for row in rows:
            typer.echo(json.dumps(dict(zip(columns, row, strict=True)), default=str, ensure_ascii=False))
    elif fmt is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows(rows)
        typer.echo(buffer.getvalue(), nl=False)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns, show_lines=False)
        for row in table_rows if table_rows is not None else rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        Console(width=width or max(100, min(220, 30 * len(columns)))).print(table)


@app.command()
def digest(
    day: str | None = typer.Option(None, "--date", help="YYYY-MM-DD (UTC); default: the latest day with articles"),
    email: bool = typer.Option(False, "--email", help="also send it to NEWSMON_SMTP_RECIPIENTS via NEWSMON_SMTP_*"),
):
    """Build that day's digest (HTML, Markdown, chart, Atom entry) under NEWSMON_HOME/digests/<date>/."""
    from pipeline.digest.build import build_and_send

    target = parse_day(day, "--date", "digest") if day else None
    try:
        path, recipients = build_and_send(load_settings(), target, email)
    except NewsmonError as exc:
        fail(str(exc))
    typer.echo(str(path))
    if recipients:
        typer.echo(f"digest: sent to {', '.join(recipients)}", err=True)


@app.command()
def replay(
    first: str = typer.Option(..., "--from", help="first fetch day, YYYY-MM-DD (UTC)"),
    last: str = typer.Option(..., "--to", help="last fetch day, YYYY-MM-DD (UTC), inclusive"),
):
    """Re-parse and re-classify the raw feed bodies kept for those days and load them (idempotent)."""
    from pipeline.ingest.cycle import replay as replay_days

    try:
        with ProgressReporter(quiet=STATE["quiet"]) as progress:
            counts = replay_days(load_settings(), parse_day(first, "--from", "replay"),
                                 parse_day(last, "--to", "replay"), progress=progress)
    except (NewsmonError, ValueError) as exc:
        fail(str(exc))
    typer.echo(json.dumps(counts))


def parse_day(value: str, option: str, command: str) -> date:
    """A command's date option, or the one-line error every message here has: '<command>: ...'."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{command}: {option}: expected a date as YYYY-MM-DD, got {value!r}")


class ExportFormat(StrEnum):
    parquet = "parquet"


@app.command()
def export(
    to: Path = typer.Option(..., "--to", help="directory; <table>/day=YYYY-MM-DD/ partitions are written there"),
    fmt: ExportFormat = typer.Option(ExportFormat.parquet, "--format"),
    first: str | None = typer.Option(None, "--from", help="first publication day (default: all)"),
    last: str | None = typer.Option(None, "--to-day", help="last publication day (default: all)"),
):
    """Export articles and classifications as date-partitioned Parquet for other engines."""
    from pipeline.warehouse.maintenance import export_parquet

    try:
        with ProgressReporter(quiet=STATE["quiet"]) as progress:
            counts = export_parquet(load_settings(), to, first and parse_day(first, "--from", "export"),
                                    last and parse_day(last, "--to-day", "export"), progress=progress)
    except NewsmonError as exc:
        fail(str(exc))
    typer.echo(json.dumps(counts))


@app.command()
def maintain(
    raw_days: int | None = typer.Option(None, help="keep raw bodies this many days (default: setting)"),
    staging_days: int | None = typer.Option(None, help="keep staging this many days (default: setting)"),
):
    """Prune old raw bodies and staging, checkpoint the warehouse, back it up and refresh the export."""
    from pipeline.core.clock import utcnow
    from pipeline.warehouse.maintenance import run_maintenance

    overrides = {k: v for k, v in {"raw_retention_days": raw_days, "staging_retention_days": staging_days}.items()
                 if v is not None}
    try:
        with ProgressReporter(quiet=STATE["quiet"]) as progress:
            report = run_maintenance(load_settings(**overrides), utcnow(), progress=progress)
    except NewsmonError as exc:
        fail(str(exc))
    typer.echo(json.dumps(report))


@app.command()
def backup(to: Path | None = typer.Option(None, "--to", help="file to write (default: NEWSMON_HOME/backups/)")):
    """A consistent copy of the warehouse as a new DuckDB file."""
    from pipeline.core.clock import utcnow
    from pipeline.warehouse.maintenance import backup as backup_warehouse

    try:
        report = backup_warehouse(load_settings(), utcnow(), to)
    except (NewsmonError, FileExistsError) as exc:
        fail(str(exc))
    typer.echo(json.dumps(report))


@app.command()
def failures(limit: int = typer.Option(20, help="how many of the newest records"),
             fmt: OutputFormat = typer.Option(OutputFormat.table, "--format")):
    """Failed Airflow task tries, newest first (NEWSMON_HOME/failures/task_failures.jsonl)."""
    from pipeline.ops.failures import read_failures

    columns, rows = read_failures(load_settings(), limit)
    print_rows(columns, rows, fmt, width=200)


@alerts_app.command("check")
def alerts_check(as_json: bool = typer.Option(False, "--json", help="print the counts as one JSON object")):
    """Run the rules on the last 48 hours and send what is new (what the news_alerts DAG does after each load).
    Exit 1 when a rule is invalid or a delivery failed; the other rules run all the same."""
    from pipeline.alerts.check import check_alerts

    try:
        counts = check_alerts(load_settings())
    except NewsmonError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        typer.echo(f"alerts: {counts['alerts']} found; {counts['sent']} sent in {counts['messages']} message(s), "
                   f"{counts['failed']} failed, {counts['already_sent']} already sent, {counts['held']} held "
                   f"(quiet), {counts['stuck']} stuck; rules: {counts['rules']} valid, "
                   f"{counts['invalid_rules']} invalid")
    if counts["invalid_rules"] or counts["failed"]:
        raise typer.Exit(1)


@alerts_app.command("test")
def alerts_test(rule: str = typer.Argument(..., help="the rule's name in alerts.yaml")):
    """Send a sample of RULE through its channels (its newest real alert if it has one, marked TEST); nothing
    is recorded as sent."""
    from pipeline.alerts.check import send_test

    try:
        results = send_test(load_settings(), rule)
    except NewsmonError as exc:
        fail(str(exc))
    for channel, result in results.items():
        typer.echo(f"{channel}: {result}")
    if any(result != "sent" for result in results.values()):
        raise typer.Exit(1)


@alerts_app.command("list")
def alerts_list(fmt: OutputFormat = typer.Option(OutputFormat.table, "--format")):
    """Every rule, what it watches, its channels and when it last fired; invalid rules with their error."""
    from pipeline.alerts.check import list_rules

    try:
        columns, rows = list_rules(load_settings())
    except NewsmonError as exc:
        fail(str(exc))
    print_rows(columns, rows, fmt, width=220)


@app.command()
def airflow():
    """Start `airflow standalone` with newsmon's DAGs (UI on http://localhost:8080)."""
    from pipeline.ops.airflow_local import standalone

    raise typer.Exit(standalone(load_settings()))


@feeds_app.command("list")
def feeds_list(fmt: OutputFormat = typer.Option(OutputFormat.table, "--format")):
    """Show every registered feed with its state (times in UTC; relative to now in the table)."""
    from pipeline.feeds.registry import feed_health, readable_times

    try:
        columns, rows = feed_health(load_settings())
    except NewsmonError as exc:
        fail(str(exc))
    print_rows(columns, rows, fmt, table_rows=readable_times(rows, datetime.now(UTC).replace(tzinfo=None)),
               width=200)


@feeds_app.command("add")
def feeds_add(url: str, title: str | None = typer.Option(None), feed_id: str | None = typer.Option(None, "--id"),
              tags: str = typer.Option("", help="comma-separated"), poll_minutes: int = typer.Option(15),
              language: str | None = typer.Option(None, help="e.g. en, ru, uk (default: what the feed says)"),
              full_text: bool = typer.Option(False, "--full-text", help="also fetch each article's page text")):
    """Register one feed."""
    from pipeline.feeds.registry import add_feed

    try:
        spec = add_feed(load_settings(), {"url": url, "title": title, "id": feed_id, "tags": tags,
                                          "poll_minutes": poll_minutes, "language": language, "full_text": full_text})
    except NewsmonError as exc:
        fail(str(exc))
    typer.echo(f"added {spec.feed_id} {spec.url}")


@feeds_app.command("remove")
def feeds_remove(feed_id: str):
    """Remove a feed from the registry (its articles stay)."""
    from pipeline.feeds.registry import remove_feeds

    if not remove_feeds(load_settings(), [feed_id]):
        fail(f"feeds: no feed {feed_id!r}")
    typer.echo(f"removed {feed_id}")


@feeds_app.command("enable")
def feeds_enable(feed_id: str):
    """Re-enable a feed that was disabled (gone, failing or removed) and make it due now."""
    from pipeline.feeds.registry import enable_feeds

    if not enable_feeds(load_settings(), [feed_id]):
        fail(f"feeds: no feed {feed_id!r}")
    typer.echo(f"enabled {feed_id}")


@feeds_app.command("import")
def feeds_import(opml: Path = typer.Argument(..., exists=True)):
    """Register every feed of an OPML file."""
    from pipeline.feeds.registry import import_opml

    try:
        specs = import_opml(load_settings(), opml.read_bytes())
    except NewsmonError as exc:
        fail(str(exc))
    typer.echo(f"imported {len(specs)} feeds from {opml}")


@feeds_app.command("export")
def feeds_export():
    """Write the registry as OPML to stdout."""
    from pipeline.feeds.registry import export_opml

    try:
        sys.stdout.write(export_opml(load_settings()).decode("utf-8") + "\n")
    except NewsmonError as exc:
        fail(str(exc))


if __name__ == "__main__":
    app()
