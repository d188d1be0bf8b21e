"""model_train: manual. Train a candidate model, promote it only if it is not worse on the gold sets in
models/training, and optionally relabel a date range with it (old labels stay beside the new ones).

Thin wiring only: each task calls one function of `pipeline.classify.modelops`. All three run on the `warehouse`
queue: the models directory and the DuckDB file live on that worker; the last two also take the pool slot.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, get_current_context, task

from pipeline.ops.dag_defaults import WAREHOUSE_TASK, common_dag_args, warehouse_asset


def _settings():
    from pipeline.core.config import load_settings

    return load_settings()


@dag(
    dag_id="model_train",
    schedule=None,  # manual; a weekly retrain is `schedule="@weekly"` here
    **common_dag_args("model", task_timeout=timedelta(minutes=30), retry_delay_base=timedelta(minutes=1)),
    params={
        "seed": Param(13, type="integer", description="training seed"),
        "reclassify_from": Param(None, type=["null", "string"], format="date",
                                 description="first publication day to relabel with the promoted model"),
        "reclassify_to": Param(None, type=["null", "string"], format="date", description="last day, inclusive"),
    },
    doc_md=__doc__,
)
def model_train():
    @task(queue=WAREHOUSE_TASK["queue"], multiple_outputs=False)
    def train() -> dict:
        """Train from models/training; models/CURRENT is not touched (XCom: the version ids)."""
        from pipeline.classify.modelops import train_candidate

        return train_candidate(_settings(), seed=int(get_current_context()["params"]["seed"]))

    @task(**WAREHOUSE_TASK, multiple_outputs=False)
    def promote(trained: dict) -> dict:
        """Make the candidate current only if it is not worse than the current model on the gold sets."""
        from pipeline.classify.modelops import promote_if_not_worse

        return promote_if_not_worse(_settings(), trained["candidate"])

    @task(**WAREHOUSE_TASK, outlets=[warehouse_asset()], multiple_outputs=False)
    def relabel(promotion: dict) -> dict:
        """Relabel the requested publication days with the promoted version (nothing when none asked)."""
        from pipeline.classify.modelops import reclassify_after_promotion

        params = get_current_context()["params"]
        return reclassify_after_promotion(_settings(), promotion, params["reclassify_from"], params["reclassify_to"])

    relabel(promote(train()))


model_train()
