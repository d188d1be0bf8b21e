"""Run Airflow's distributed stack as local processes: CeleryExecutor, PostgreSQL metadata, Redis broker.

The same components as docker-compose.yml (api-server, scheduler, dag-processor, one Celery worker for the
`default` queue and one for the `warehouse` queue), started as process groups of this machine so that
the stack can be exercised without a container engine. Only the processes started here are stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.config import Settings
from pipeline.ops.airflow_local import airflow_env, airflow_executable, init_airflow

# Polling intervals for a responsive stack; Airflow's defaults (seconds to minutes) suit production.
FAST_INTERVALS = {
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
    "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "600",
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
    "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC": "2",
    "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
    "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
}


def celery_env(settings: Settings, metadata_url: str, broker_url: str, api_port: int, jwt_secret: str,
               extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment shared by every component: one metadata database, one broker, one signing secret.

    `metadata_url` is a SQLAlchemy URL such as postgresql+psycopg2://user@host:5432/db.
    """
    env = airflow_env(settings)
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        # Keep the driver in the URL: SQLAlchemy 2.1 would pick psycopg 3 for a bare postgresql://.
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        # Workers get task tokens signed by the scheduler and checked by the api-server: one secret for all.
        "AIRFLOW__API_AUTH__JWT_SECRET": jwt_secret,
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",  # loopback only: no login for the test client
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(settings.airflow_home / "logs"),
        **FAST_INTERVALS,
    })
    env.update(extra or {})
    return env


# name -> airflow arguments. Worker names become Celery hostnames, so logs tell which worker ran what.
COMPONENTS: dict[str, list[str]] = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "worker-default": ["celery", "worker", "--queues", "default", "--concurrency", "2",
                       "--celery-hostname", "default@%h", "--without-mingle", "--without-gossip"],
    # The only writer of the DuckDB file: one process, one task at a time.
    "worker-warehouse": ["celery", "worker", "--queues", "warehouse", "--concurrency", "1",
                         "--celery-hostname", "warehouse@%h", "--without-mingle", "--without-gossip"],
}


@dataclass
class LocalCluster:
    """The started components, each the leader of its own process group, with a log file each."""

    settings: Settings
    env: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, names: list[str] | None = None) -> LocalCluster:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        init_airflow(self.settings, self.env, self.log_dir / "init.log")
        for name in names or list(COMPONENTS):
            with (self.log_dir / f"{name}.log").open("ab") as log:
                self.processes[name] = subprocess.Popen(
                    [airflow_executable(), *COMPONENTS[name]], env=self.env, stdout=log,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                )
        return self

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"airflow: {name} exited with {proc.returncode}:\n{self.log(name)[-3000:]}")

    def wait_for(self, predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.5):
        """Poll until `predicate()` is truthy; fail early if a component died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            result = predicate()
            if result:
                return result
            time.sleep(interval)
        raise TimeoutError(f"airflow: gave up after {timeout:.0f} s waiting for {what}")

    def cli(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run([airflow_executable(), *args], env=self.env, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed: {result.stderr[-3000:]}")
        return result.stdout

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM each process group (warm shutdown), then SIGKILL what is left after `grace` seconds."""
        for proc in self.processes.values():
            if proc.poll() is None:
                _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.processes.values():
            _signal_group(proc.pid, signal.SIGKILL)  # also task processes a component left behind
            proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
