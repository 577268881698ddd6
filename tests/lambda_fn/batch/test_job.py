"""One file's job: published whole with its summary last, once per source
version however many deliveries overlap, and never an older result looking current."""

from __future__ import annotations

import json
import threading
import time

import pytest

from lambda_fn import batch
from lambda_fn.batch import job, s3_io
from lambda_fn.config import Config
from tests.lambda_fn.batch.conftest import BUCKET
from tests.lambda_fn.test_batch import features_csv, read, s3_event


def summary(s3, name):
    return json.loads(read(s3, f"summaries/{name}.json"))


def keys_under(s3, prefix):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def etag(s3, key):
    return s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')


def test_the_summary_names_the_source_version_and_is_written_last(s3, model):
    s3.put_object(Bucket=BUCKET, Key="incoming/a.csv", Body=features_csv(20).encode())
    order = []
    s3.meta.events.register(
        "before-parameter-build.s3.*",
        lambda params, model, **_kw: order.append((model.name, params.get("Key"))),
    )
    batch.score_object(s3, BUCKET, "incoming/a.csv", model, Config())
    writes = [k for op, k in order if op in ("PutObject", "CompleteMultipartUpload")]
    assert writes[-1] == "summaries/a.csv.json" and "scored/a.csv" in writes
    stored = summary(s3, "a.csv")
    assert stored["source"]["etag"] == etag(s3, "incoming/a.csv")
    assert stored["source"]["bytes"] > 0 and stored["status"] == "scored"


def test_a_rejected_new_version_removes_the_older_result(s3, model):
    s3.put_object(Bucket=BUCKET, Key="incoming/v.csv", Body=features_csv(20).encode())
    batch.score_object(s3, BUCKET, "incoming/v.csv", model, Config())
    assert keys_under(s3, "scored/") == ["scored/v.csv"]
    broken = features_csv(5).replace("region", "area")
    s3.put_object(Bucket=BUCKET, Key="incoming/v.csv", Body=broken.encode())
    result = batch.score_object(s3, BUCKET, "incoming/v.csv", model, Config())
    assert result["status"] == "rejected"
    assert keys_under(s3, "scored/") == []  # the first version's scores are gone
    stored = summary(s3, "v.csv")
    assert stored["status"] == "rejected"
    assert stored["source"]["etag"] == etag(s3, "incoming/v.csv")
    assert (stored["rows_in"], stored["rows_scored"], stored["rows_rejected"]) == (0, 0, 0)


def test_a_failing_new_version_leaves_no_older_result_looking_current(s3, faults, model):
    s3.put_object(Bucket=BUCKET, Key="incoming/v.csv", Body=features_csv(20).encode())
    batch.score_object(s3, BUCKET, "incoming/v.csv", model, Config())
    s3.put_object(Bucket=BUCKET, Key="incoming/v.csv", Body=features_csv(3000).encode())
    faults.break_bodies(after=5000, times=100)  # the input breaks off; summaries are shorter
    with pytest.raises(s3_io.SourceReadFailed):
        batch.score_object(s3, BUCKET, "incoming/v.csv", model, Config())
    faults.clear()
    assert keys_under(s3, "scored/") == []
    stored = summary(s3, "v.csv")
    assert stored["status"] == "failed" and stored["source"]["etag"] == etag(s3, "incoming/v.csv")


def test_an_event_for_a_replaced_object_is_superseded_not_scored(app, s3):
    s3.put_object(Bucket=BUCKET, Key="incoming/s.csv", Body=features_csv(10).encode())
    event = s3_event("incoming/s.csv")
    event["Records"][0]["s3"]["object"]["eTag"] = "0123456789abcdef0123456789abcdef"
    result = app.handler(event, None)["files"][0]
    assert result["status"] == "superseded" and keys_under(s3, "scored/") == []


def test_overlapping_deliveries_score_and_count_the_file_once(s3, model):
    s3.put_object(Bucket=BUCKET, Key="incoming/o.csv", Body=features_csv(3000).encode())
    results, errors = [], []

    def deliver():
        try:
            results.append(batch.score_object(s3, BUCKET, "incoming/o.csv", model, Config()))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counted = [r for r in results if not r.get("duplicate_delivery")]
    assert len(counted) == 1 and counted[0]["rows_scored"] == 3000
    assert {r["status"] for r in results} <= {"scored", "in_progress"}
    assert summary(s3, "o.csv")["run_id"] == counted[0]["run_id"]
    assert keys_under(s3, "leases/") == []


def test_a_live_lease_for_another_version_makes_the_delivery_retry(s3, model):
    s3.put_object(Bucket=BUCKET, Key="incoming/l.csv", Body=features_csv(10).encode())
    holder = {"source": {"etag": "another-version"}, "run_id": "x", "expires_at": time.time() + 60}
    s3_io.put_json(s3, BUCKET, "leases/l.csv.lease", holder)
    with pytest.raises(job.Busy, match="retried"):
        batch.score_object(s3, BUCKET, "incoming/l.csv", model, Config())
    assert keys_under(s3, "scored/") == []


def test_an_expired_lease_of_a_killed_run_is_taken_over(s3, model):
    s3.put_object(Bucket=BUCKET, Key="incoming/k.csv", Body=features_csv(10).encode())
    holder = {"source": {"etag": "whatever"}, "run_id": "dead", "expires_at": time.time() - 1}
    s3_io.put_json(s3, BUCKET, "leases/k.csv.lease", holder)
    result = batch.score_object(s3, BUCKET, "incoming/k.csv", model, Config())
    assert result["status"] == "scored" and keys_under(s3, "leases/") == []


def test_a_redelivery_after_a_committed_run_is_a_duplicate_and_writes_nothing(s3, model):
    s3.put_object(Bucket=BUCKET, Key="incoming/d.csv", Body=features_csv(10).encode())
    first = batch.score_object(s3, BUCKET, "incoming/d.csv", model, Config())
    writes = []
    s3.meta.events.register(
        "before-call.s3.*",
        lambda model, **_kw: writes.append(model.name) if "Get" not in model.name else None,
    )
    again = batch.score_object(s3, BUCKET, "incoming/d.csv", model, Config())
    assert again["duplicate_delivery"] and again["run_id"] == first["run_id"]
    assert [w for w in writes if w != "HeadObject"] == []


def test_a_file_with_a_key_at_the_limit_is_scored_with_short_output_names(s3, model):
    key = "incoming/" + "n" * (1024 - len("incoming/") - 4) + ".csv"
    s3.put_object(Bucket=BUCKET, Key=key, Body=features_csv(5).encode())
    result = batch.score_object(s3, BUCKET, key, model, Config())
    assert result["status"] == "scored"
    assert all(len(k.encode()) <= 1024 for k in result["outputs"].values())
    assert read(s3, result["outputs"]["scored"]).count("\n") == 6


def test_overlapping_deliveries_through_the_handler_count_in_the_metrics_once(app, s3):
    import io

    from lambda_fn.telemetry import Metrics

    s3.put_object(Bucket=BUCKET, Key="incoming/m.csv", Body=features_csv(2000).encode())
    out = io.StringIO()
    metrics, app.metrics = app.metrics, Metrics(out=out)
    try:
        threads = [
            threading.Thread(target=app.handler, args=(s3_event("incoming/m.csv"), None))
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        app.handler(s3_event("incoming/m.csv"), None)  # and a late redelivery
    finally:
        app.metrics = metrics
    documents = [json.loads(line) for line in out.getvalue().splitlines()]
    assert sum(d.get("RecordsScored", 0) for d in documents) == 2000
