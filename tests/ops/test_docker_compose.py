"""docker-compose.yml: valid for docker-compose (no engine needed for `config`), with the stack's shape."""

from __future__ import annotations

import subprocess

import yaml
from conftest import system_tool

from pipeline.core.config import REPO_ROOT


def compose_config(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([system_tool("docker-compose"), *args, "config"], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})


def test_compose_file_is_valid_with_the_example_env_and_has_the_celery_stack():
    result = compose_config("--env-file", ".env.example")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker", "airflow-worker-warehouse"} <= set(services)
    for name in set(services) - {"airflow-init"}:
        assert "healthcheck" in services[name], name
    for name, service in services.items():
        if name.startswith("airflow-"):
            env = service["environment"]
            assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
            assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql"), name
            assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
            assert env["AIRFLOW__API_AUTH__JWT_SECRET"], name

    def queue(name):
        command = services[name]["command"]
        return command[command.index("--queues") + 1]

    assert queue("airflow-worker") == "default" and queue("airflow-worker-warehouse") == "warehouse"
    assert "--concurrency" in services["airflow-worker-warehouse"]["command"]

    def volume_names(name):
        return {v["source"] if isinstance(v, dict) else v.split(":")[0] for v in services[name].get("volumes", [])}

    # The DuckDB volume belongs to the warehouse worker alone; staging is shared by every worker.
    owners = [name for name in services if "warehouse" in volume_names(name)]
    assert owners == ["airflow-worker-warehouse"]
    assert "staging" in volume_names("airflow-worker") and "staging" in volume_names("airflow-worker-warehouse")


def test_compose_refuses_to_start_without_the_secrets(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose_config("--env-file", str(empty))  # the metadata password and JWT secret are mandatory
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "AIRFLOW_JWT_SECRET" in result.stderr


def test_without_the_tool_and_no_way_to_install_it_the_test_is_skipped_with_the_reason(tmp_path):
    import os
    import sys

    bare_path = tmp_path / "bin"  # a PATH with python only: no docker-compose, no chromium
    bare_path.mkdir()
    (bare_path / "python").symlink_to(sys.executable)
    here = REPO_ROOT / "tests" / "ops" / "test_docker_compose.py"
    run = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", f"{here}::{COMPOSE_TEST}"]
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_REQUIRE_SYSTEM_TOOLS"} | {"PATH": str(bare_path)}
    skipped = subprocess.run(run, cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout
    assert "docker-compose is not installed" in skipped.stdout and "needs root and apt-get" in skipped.stdout
    required = subprocess.run(run, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                              env=env | {"NEWSMON_REQUIRE_SYSTEM_TOOLS": "1"})
    assert required.returncode == 1 and "1 failed" in required.stdout  # CI installs it, so it must be there


COMPOSE_TEST = "test_compose_file_is_valid_with_the_example_env_and_has_the_celery_stack"
