"""Run Airflow for newsmon: its environment (SQLite metadata under NEWSMON_HOME), db set-up, `dags test`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipeline.core.config import Settings

WAREHOUSE_POOL = "warehouse"


def airflow_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    home = settings.airflow_home
    # Tasks report to the api-server's execution API: follow its port when the user moves it.
    port = (extra or {}).get("AIRFLOW__API__PORT") or os.environ.get("AIRFLOW__API__PORT") or "8080"
    env = {
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        # The UI and its generated admin password stay on this machine unless the user says otherwise
        # (Airflow's own default, 0.0.0.0, serves every network a laptop joins).
        "AIRFLOW__API__HOST": "127.0.0.1",
        **os.environ,
        "NEWSMON_HOME": str(settings.home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # `airflow standalone` starts its components as `airflow ...` found on PATH: use this venv's.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    env.update(extra or {})
    return env


def airflow_executable() -> str:
    local = Path(sys.executable).with_name("airflow")
    return str(local) if local.exists() else (shutil.which("airflow") or "airflow")


def _run(args: list[str], env: dict[str, str], log_path: Path | None) -> subprocess.CompletedProcess:
    if log_path is None:
        return subprocess.run([airflow_executable(), *args], env=env, check=False)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.run([airflow_executable(), *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                              check=False)


def init_airflow(settings: Settings, env: dict[str, str], log_path: Path | None = None) -> None:
    """Create or upgrade the metadata database and the one-slot `warehouse` pool (the single writer)."""
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    for args in (["db", "migrate"],
                 ["pools", "set", WAREHOUSE_POOL, "1", "newsmon: one writer of the DuckDB warehouse"]):
        result = _run(args, env, log_path)
        if result.returncode != 0:
            raise RuntimeError(f"airflow: `airflow {' '.join(args)}` failed (exit {result.returncode}); see {log_path}")


def dags_test(settings: Settings, dag_id: str, extra_env: dict[str, str] | None = None,
              log_path: Path | None = None, conf: dict | None = None, logical_date: str | None = None) -> None:
    """Run one DAG run in-process under real Airflow (`airflow dags test`), raising if it fails."""
    env = airflow_env(settings, extra_env)
    init_airflow(settings, env, log_path)
    args = ["dags", "test", dag_id] + ([logical_date] if logical_date else [])
    args += ["--conf", json.dumps(conf)] if conf else []
    result = _run(args, env, log_path)
    if result.returncode != 0:
        raise RuntimeError(f"airflow: `airflow dags test {dag_id}` failed (exit {result.returncode}); see {log_path}")


def standalone(settings: Settings) -> int:
    """`airflow standalone` with newsmon's DAGs, metadata under NEWSMON_HOME/airflow; blocks until stopped."""
    env = airflow_env(settings)
    init_airflow(settings, env)
    return subprocess.run([airflow_executable(), "standalone"], env=env, check=False).returncode
