# The newsmon image for the distributed stack (docker-compose.yml): Airflow 3 plus the newsmon package.
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 AIRFLOW_HOME=/opt/airflow NEWSMON_HOME=/opt/newsmon
WORKDIR /opt/newsmon-src
COPY pyproject.toml constraints.txt README.md ./
COPY pipeline ./pipeline
RUN pip install -c constraints.txt . "apache-airflow-providers-celery" "psycopg2-binary" "redis"
COPY dags ./dags
COPY models ./models
COPY warehouse ./warehouse
COPY feeds.yaml ./feeds.yaml
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/newsmon-src/dags
