"""Running newsmon: Airflow helpers (standalone and `dags test` locally, a Celery cluster, the arguments every
DAG shares), task-failure records and alerts, the daily-digest task, and the offline demo with its loopback
feed server. Top of the tree below cli.py: it may import every stage."""
