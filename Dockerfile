# The newsmon image for the distributed stack (docker-compose.yml): Airflow 3 with the Celery provider,
# the PostgreSQL and Redis clients (all pinned in pyproject.toml / constraints.txt) and the newsmon package.
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 AIRFLOW_HOME=/opt/airflow NEWSMON_HOME=/opt/newsmon \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/newsmon-src/dags
# curl for the health checks; dumb-init forwards signals so Celery workers shut down warmly.
RUN apt-get update && apt-get install -y --no-install-recommends curl dumb-init \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/newsmon-src
COPY pyproject.toml constraints.txt README.md ./
COPY pipeline ./pipeline
COPY dags ./dags
COPY models ./models
COPY warehouse ./warehouse
COPY feeds.yaml ./feeds.yaml
# Editable: newsmon finds its migrations, views, templates and models beside the package, in this tree.
RUN pip install -c constraints.txt -e .
# Same uid as Airflow's official image; group 0 so an arbitrary AIRFLOW_UID can still write.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home airflow \
    && mkdir -p /opt/newsmon/staging /opt/newsmon/raw /opt/newsmon/failures /opt/airflow/logs \
    && chown -R 50000:0 /opt/newsmon /opt/airflow /opt/newsmon-src/models \
    && chmod -R g+rwX /opt/newsmon /opt/airflow /opt/newsmon-src/models
USER 50000
ENTRYPOINT ["dumb-init", "--"]
CMD ["airflow", "version"]
