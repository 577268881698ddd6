"""EXPLAIN_TOP_K: scored/ files gain reason_1, reason_1_contribution, ... columns,
the same from one invocation and from the chunked (plan, ranges, merge) path."""

import csv
import io
import json

import numpy as np
import pytest

from lambda_fn import reasons
from lambda_fn.batch import score_object
from lambda_fn.batch.chunked import merge, plan
from lambda_fn.batch.chunked.range_job import score_range_task
from lambda_fn.config import Config, ConfigError
from tests.lambda_fn.batch.chunked.test_state_machine import big_messy_body
from tests.lambda_fn.batch.chunked.test_tasks import BUCKET, STAGING, outputs, upload
from tests.lambda_fn.test_batch import features_csv

EXPLAIN = Config(chunk_rows=5, explain_top_k=3)


def chunked(s3, model, task, range_bytes, config):
    pending = merge.begin_run(s3, task, config, model.version, model.threshold)
    planned = plan.plan_task(
        s3, {"task": "plan", **task}, STAGING, range_bytes, model.version, pending
    )
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=planned["manifest"])["Body"].read())
    for item in manifest:
        score_range_task(s3, {"task": "score-range", **task, "range": item}, model, config, STAGING)
    merge.merge_task(s3, {"task": "merge", **task}, config, STAGING, model.threshold)
    return manifest


def test_scored_rows_carry_the_top_reasons_of_the_graph(s3, model):
    body = features_csv(40, seed=2).encode()
    upload(s3, "incoming/people.csv", body)
    score_object(s3, BUCKET, "incoming/people.csv", model, EXPLAIN)
    table = list(csv.reader(io.StringIO(outputs(s3, "people.csv")["scored"].decode())))
    header, rows = table[0], table[1:]
    extra = ["reason_1", "reason_1_contribution", "reason_2", "reason_2_contribution"]
    assert header[-8:-2] == ["probability", "label"] + extra
    assert header[-2:] == ["reason_3", "reason_3_contribution"] and len(rows) == 40
    # The same rows through the API path give the same reasons, to 6 digits.
    frame = list(csv.DictReader(io.StringIO(body.decode())))
    columns = {
        f.name: np.array(
            [[float(r[f.name]) if r[f.name] else np.nan] for r in frame], dtype=np.float32
        )
        if f.kind == "numeric"
        else np.array([[r[f.name]] for r in frame], dtype=object)
        for f in model.schema.features
    }
    _, _, contributions = reasons.score(model, columns)
    expl = reasons.explanation(model)
    for row, contrib in zip(rows, contributions, strict=True):
        expected = reasons.top(expl, contrib, 3)
        got = [(row[-6 + 2 * i], float(row[-5 + 2 * i])) for i in range(3)]
        assert [g[0] for g in got] == [r["feature"] for r in expected]
        for (_, value), r in zip(got, expected, strict=True):
            assert value == pytest.approx(r["contribution"], rel=1e-5, abs=1e-6)


def test_the_chunked_path_is_byte_identical_with_reasons(s3, model):
    body = big_messy_body(3)
    manifest = chunked(s3, model, upload(s3, "incoming/messy.csv", body), 200, EXPLAIN)
    upload(s3, "incoming/whole-messy.csv", body)
    score_object(s3, BUCKET, "incoming/whole-messy.csv", model, EXPLAIN)
    ranges, whole = outputs(s3, "messy.csv"), outputs(s3, "whole-messy.csv")
    assert len(manifest) > 3
    assert ranges["scored"] == whole["scored"] and ranges["errors"] == whole["errors"]
    assert b"reason_3_contribution" in whole["scored"].split(b"\n", 1)[0]


def test_more_reasons_than_columns_leave_the_rest_empty(s3, model):
    width = len(reasons.explanation(model).names)
    upload(s3, "incoming/few.csv", features_csv(3).encode())
    score_object(s3, BUCKET, "incoming/few.csv", model, Config(explain_top_k=width + 2))
    rows = list(csv.reader(io.StringIO(outputs(s3, "few.csv")["scored"].decode())))
    assert rows[0][-1] == f"reason_{width + 2}_contribution"
    assert all(r[-4:] == ["", "", "", ""] and r[-5] != "" for r in rows[1:])


def test_explain_top_k_is_checked_at_start():
    with pytest.raises(ConfigError, match="EXPLAIN_TOP_K must be at most 1000"):
        Config.from_env({"EXPLAIN_TOP_K": "1001"})
    with pytest.raises(ConfigError, match="EXPLAIN_TOP_K"):
        Config.from_env({"EXPLAIN_TOP_K": "-1"})
    assert Config.from_env({}).explain_top_k == 0

    class Unexplained:
        version = "v-test"
        metadata = {"learner": "keras", "explanation_unavailable": "no paths"}

    with pytest.raises(
        ConfigError,
        match=r"EXPLAIN_TOP_K=3 but keras models are not explained \(no paths\); set it to 0",
    ):
        reasons.check_batch_setting(Unexplained(), 3)
    reasons.check_batch_setting(Unexplained(), 0)
    Unexplained.metadata = {"learner": "xgboost"}  # exported before contributions existed
    with pytest.raises(ConfigError, match=r"exported without contributions \(re-export it\)"):
        reasons.check_batch_setting(Unexplained(), 1)
