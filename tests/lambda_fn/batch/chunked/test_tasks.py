"""Each large-file task called directly, with S3 in moto: plan, score-range,
merge, fail; and the routing that sends a file to them."""

import gzip
import json

import boto3
import pytest
from moto import mock_aws

from lambda_fn import events
from lambda_fn.batch import chunked
from lambda_fn.batch.chunked import merge, plan, staging
from lambda_fn.batch.chunked.range_job import score_range_task
from lambda_fn.batch.s3_io import put_json
from lambda_fn.config import Config, ConfigError
from tests.lambda_fn.batch.chunked.test_state_machine import big_messy_body
from tests.lambda_fn.test_batch import features_csv

BUCKET = "scoring"
STAGING = "staging/"
CONFIG = Config(chunk_rows=5)


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def upload(s3, key, body):
    """The object put, as the task events name it (its version when the bucket keeps them)."""
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    etag, version = put["ETag"].strip('"'), put.get("VersionId", "")
    return {"bucket": BUCKET, "key": key, "etag": etag, "version": version, "run": "run-1"}


def run_all(s3, model, task, range_bytes):
    """plan, every range, merge, as the state machine runs them; the plan's answer."""
    pending = merge.begin_run(s3, task, CONFIG, model.version, model.threshold)
    planned = plan.plan_task(
        s3, {"task": "plan", **task}, STAGING, range_bytes, model.version, pending
    )
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=planned["manifest"])["Body"].read())
    for item in manifest:
        event = {"task": "score-range", **task, "range": item}
        events.check_task(event)
        score_range_task(s3, event, model, CONFIG, STAGING)
    merge.merge_task(s3, {"task": "merge", **task}, CONFIG, STAGING, model.threshold)
    return manifest


def outputs(s3, name):
    found = {}
    for kind, key in (("scored", f"scored/{name}"), ("errors", f"errors/{name}")):
        try:
            found[kind] = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            found[kind] = None
    found["summary"] = json.loads(
        s3.get_object(Bucket=BUCKET, Key=f"summaries/{name}.json")["Body"].read()
    )
    return found


def whole(s3, model, name, body):
    from lambda_fn.batch import score_object

    upload(s3, f"incoming/whole-{name}", body)
    score_object(s3, BUCKET, f"incoming/whole-{name}", model, CONFIG)
    return outputs(s3, f"whole-{name}")


COUNTS = ("rows_in", "rows_scored", "rows_rejected")


def assert_same(chunked_out, whole_out):
    assert chunked_out["scored"] == whole_out["scored"]
    assert chunked_out["errors"] == whole_out["errors"]
    for k in COUNTS:
        assert chunked_out["summary"][k] == whole_out["summary"][k]
    assert chunked_out["summary"]["outputs"].keys() == whole_out["summary"]["outputs"].keys() - {
        "summary"
    }


BODIES = {
    # quoted newlines, CRLF, blank, short, non-UTF-8 and non-number rows, cut by tiny ranges
    "messy": (big_messy_body(3), 200),
    "bom-and-crlf": (b"\xef\xbb\xbf" + features_csv(60).replace("\n", "\r\n").encode(), 300),
    "single-range": (features_csv(30).encode(), 10**9),
    "only-bad-rows-in-a-range": (
        features_csv(20).encode() + b"x,y\n" * 40 + features_csv(20).encode().split(b"\n", 1)[1],
        120,
    ),
    "header-only": (features_csv(2).encode().split(b"\n", 1)[0] + b"\n", 100),
}


@pytest.mark.parametrize("name", BODIES)
def test_plan_ranges_and_merge_give_what_one_invocation_gives(s3, model, name):
    body, range_bytes = BODIES[name]
    manifest = run_all(s3, model, upload(s3, f"incoming/{name}.csv", body), range_bytes)
    if name == "single-range":
        assert len(manifest) == 1
    elif name != "header-only":
        assert len(manifest) > 3
    assert_same(outputs(s3, f"{name}.csv"), whole(s3, model, f"{name}.csv", body))
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=STAGING).get("KeyCount") == 0


def test_ranges_grow_rather_than_outnumber_what_one_object_can_be_merged_from(
    s3, model, monkeypatch
):
    monkeypatch.setattr(plan, "MAX_RANGES", 3)
    task = upload(s3, "incoming/many.csv", features_csv(100).encode())
    planned = plan.plan_task(s3, {"task": "plan", **task}, STAGING, 10, model.version)
    assert planned["ranges"] == 3


def test_a_range_of_only_bad_rows_has_no_scored_rows_and_keeps_the_file_line_numbers(s3, model):
    body = features_csv(5).encode() + b"x,y\n" * 10
    task = upload(s3, "incoming/bad.csv", body)
    planned = plan.plan_task(s3, {"task": "plan", **task}, STAGING, 10**9, model.version)
    start = body.index(b"x,y")
    item = {"index": 0, "start": start, "end": len(body), "line": body[:start].count(b"\n")}
    result = score_range_task(s3, {**task, "range": item}, model, CONFIG, STAGING)
    assert planned["ranges"] == 1
    assert (result["rows_in"], result["rows_scored"], result["rows_rejected"]) == (10, 0, 10)
    part = staging.part_keys(STAGING, "run-1", 0)
    assert s3.get_object(Bucket=BUCKET, Key=part["scored"])["Body"].read() == b""
    errors = s3.get_object(Bucket=BUCKET, Key=part["errors"])["Body"].read().decode()
    assert errors.splitlines()[0] == '7,,,"expected 6 fields, got 2"'  # line 7 of the file
    assert len(errors.splitlines()) == 10


def test_an_empty_last_range_scores_nothing_and_merges_to_the_same_result(s3, model):
    body = features_csv(40).encode()
    task = upload(s3, "incoming/empty-last.csv", body)
    plan.plan_task(s3, {"task": "plan", **task}, STAGING, 10**9, model.version)
    first = body.index(b"\n") + 1
    middle = body.index(b"\n", len(body) // 2) + 1
    items = [
        {"index": 0, "start": first, "end": middle, "line": 1},
        {"index": 1, "start": middle, "end": len(body), "line": body[:middle].count(b"\n")},
        {"index": 2, "start": len(body), "end": len(body), "line": body.count(b"\n")},
    ]
    plan_key = staging.keys(STAGING, "run-1")["plan"]
    planned = json.loads(s3.get_object(Bucket=BUCKET, Key=plan_key)["Body"].read())
    put_json(s3, BUCKET, plan_key, {**planned, "ranges": 3})
    results = [score_range_task(s3, {**task, "range": i}, model, CONFIG, STAGING) for i in items]
    assert results[2]["rows_in"] == 0
    merge.merge_task(s3, task, CONFIG, STAGING, model.threshold)
    assert_same(outputs(s3, "empty-last.csv"), whole(s3, model, "empty-last.csv", body))


def test_a_source_overwritten_during_the_run_fails_the_range(s3, model):
    task = upload(s3, "incoming/moving.csv", features_csv(40).encode())
    planned = plan.plan_task(s3, {"task": "plan", **task}, STAGING, 500, model.version)
    s3.put_object(Bucket=BUCKET, Key="incoming/moving.csv", Body=features_csv(41).encode())
    item = json.loads(s3.get_object(Bucket=BUCKET, Key=planned["manifest"])["Body"].read())[0]
    with pytest.raises(staging.ObjectChanged, match="changed or went away"):
        score_range_task(s3, {**task, "range": item}, model, CONFIG, STAGING)


def test_compose_copies_large_pieces_and_uploads_small_ones(s3, monkeypatch):
    big = b"a" * (11 << 20) + b"\n"  # after the 5 MiB part it starts is filled, 6 MiB are left
    s3.put_object(Bucket=BUCKET, Key="p/1", Body=big)
    s3.put_object(Bucket=BUCKET, Key="p/2", Body=b"small\n")
    s3.put_object(Bucket=BUCKET, Key="p/3", Body=big)
    copies = []
    original = s3.upload_part_copy
    monkeypatch.setattr(s3, "upload_part_copy", lambda **kw: copies.append(kw) or original(**kw))
    pieces = [b"head\n", ("p/1", len(big)), ("p/2", 6), ("p/3", len(big)), ("p/2", 6)]
    size = merge.compose(s3, BUCKET, "out", pieces, "run-1", "text/csv")
    expected = b"head\n" + big + b"small\n" + big + b"small\n"
    assert s3.get_object(Bucket=BUCKET, Key="out")["Body"].read() == expected
    assert size == len(expected)
    # After a part of small pieces and the first bytes of a large one, the rest
    # of the large one is copied by S3, not read.
    assert [c["CopySource"]["Key"] for c in copies] == ["p/1", "p/3"]
    assert s3.head_object(Bucket=BUCKET, Key="out")["Metadata"] == {"scoring-run": "run-1"}


def test_the_fail_task_removes_only_what_its_run_published(s3, model):
    task = upload(s3, "incoming/f.csv", features_csv(10).encode())
    s3.put_object(Bucket=BUCKET, Key="errors/f.csv", Body=b"from an earlier run")
    merge.compose(s3, BUCKET, "scored/f.csv", [b"partial"], "run-1", "text/csv")
    put_json(s3, BUCKET, "staging/run-1/plan.json", {})
    error = {"Error": "States.ExceedToleratedFailureThreshold", "Cause": "range 3 failed"}
    result = merge.fail_task(
        s3, {**task, "error": error}, CONFIG, STAGING, model.version, model.threshold
    )
    assert result["reason"] == "States.ExceedToleratedFailureThreshold: range 3 failed"
    names = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert "scored/f.csv" not in names and "errors/f.csv" in names
    assert not [n for n in names if n.startswith(STAGING)]
    summary = json.loads(s3.get_object(Bucket=BUCKET, Key="summaries/f.csv.json")["Body"].read())
    assert summary["status"] == "failed" and summary["reason"] == result["reason"]


class StepFunctions:
    class exceptions:
        class ExecutionAlreadyExists(Exception):
            pass

    def __init__(self):
        self.names = []

    def start_execution(self, stateMachineArn, name, input):  # noqa: N803, A002 - boto3's names
        if name in self.names:
            raise self.exceptions.ExecutionAlreadyExists(name)
        self.names.append(name)
        return {"executionArn": f"{stateMachineArn}:{name}"}


def settings(**kw):
    return Config(chunk_rows=5, state_machine_arn="arn:sm", **kw)


def test_routing_keeps_small_files_and_files_rejected_at_the_header_in_place(s3, model):
    sfn = StepFunctions()
    upload(s3, "incoming/small.csv", features_csv(5).encode())
    upload(s3, "incoming/no-features.csv", b"a,b\n" + b"1,2\n" * 100)
    upload(s3, "incoming/big.csv", features_csv(100).encode())
    small = settings(inplace_max_bytes=10**6)
    tiny = settings(inplace_max_bytes=100)
    assert chunked.route(s3, BUCKET, "incoming/small.csv", model, small, sfn) is None
    assert chunked.route(s3, BUCKET, "incoming/no-features.csv", model, tiny, sfn) is None
    first = chunked.route(s3, BUCKET, "incoming/big.csv", model, tiny, sfn)
    again = chunked.route(s3, BUCKET, "incoming/big.csv", model, tiny, sfn)
    assert first["status"] == "chunked" and again["duplicate_delivery"] is True
    assert sfn.names == [first["run"]]
    assert len(first["run"]) <= 80 and first["run"].startswith("big-csv-")


def test_gzip_over_its_limit_is_rejected_with_a_summary_saying_why(s3, model):
    body = gzip.compress(features_csv(200).encode())
    upload(s3, "incoming/big.csv.gz", body)
    limit = settings(gzip_max_bytes=len(body) - 1, inplace_max_bytes=1)
    result = chunked.route(s3, BUCKET, "incoming/big.csv.gz", model, limit, StepFunctions())
    assert result["status"] == "rejected"
    assert "cannot be split" in result["reason"] and "upload it uncompressed" in result["reason"]
    errors = gzip.decompress(s3.get_object(Bucket=BUCKET, Key="errors/big.csv.gz")["Body"].read())
    assert errors.decode().splitlines()[0] == "line,column,value,reason"
    under = settings(gzip_max_bytes=len(body), inplace_max_bytes=1)
    assert chunked.route(s3, BUCKET, "incoming/big.csv.gz", model, under) is None


def test_task_events_are_validated_at_the_boundary():
    good = {"task": "merge", "bucket": "b", "key": "k", "run": "r"}
    assert events.kind_of(good) == events.TASK
    for bad, message in [
        ({**good, "task": "score"}, "not one of plan, score-range, merge, fail"),
        ({**good, "run": ""}, "needs 'run'"),
        ({**good, "task": "score-range", "range": {"index": 0}}, "non-negative integers"),
        (
            {**good, "task": "score-range", "range": dict(index=0, start=9, end=3, line=0)},
            "ends before it starts",
        ),
        ({**good, "task": "plan"}, "needs 'etag'"),
    ]:
        with pytest.raises(events.UnsupportedEvent, match=message):
            events.kind_of(bad)


def test_staging_may_not_overlap_the_other_prefixes():
    with pytest.raises(ConfigError, match="STAGING_PREFIX 'scored/tmp/' overlaps SCORED_PREFIX"):
        Config.from_env({"STAGING_PREFIX": "scored/tmp"})


def _plan_and_score(s3, model, task, range_bytes=300):
    pending = merge.begin_run(s3, task, CONFIG, model.version, model.threshold)
    planned = plan.plan_task(
        s3, {"task": "plan", **task}, STAGING, range_bytes, model.version, pending
    )
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=planned["manifest"])["Body"].read())
    for item in manifest:
        score_range_task(s3, {"task": "score-range", **task, "range": item}, model, CONFIG, STAGING)


def test_while_a_new_version_is_scored_the_old_result_is_gone_and_the_summary_pending(s3, model):
    run_all(s3, model, upload(s3, "incoming/v.csv", features_csv(40).encode()), 300)
    assert outputs(s3, "v.csv")["summary"]["status"] == "scored"
    task = {**upload(s3, "incoming/v.csv", features_csv(50, seed=2).encode()), "run": "run-2"}
    _plan_and_score(s3, model, task)
    now = outputs(s3, "v.csv")
    assert now["scored"] is None and now["errors"] is None
    assert now["summary"]["status"] == "pending" and now["summary"]["run_id"] == "run-2"
    merge.merge_task(s3, {"task": "merge", **task}, CONFIG, STAGING, model.threshold)
    done = outputs(s3, "v.csv")
    assert done["summary"]["status"] == "scored" and done["summary"]["rows_in"] == 50
    assert done["summary"]["source"]["etag"] == task["etag"]


def test_a_run_overtaken_by_a_newer_upload_publishes_nothing_over_it(s3, model):
    older = {**upload(s3, "incoming/race.csv", features_csv(40).encode()), "run": "run-a"}
    _plan_and_score(s3, model, older)
    newer = {**upload(s3, "incoming/race.csv", features_csv(30, seed=4).encode()), "run": "run-b"}
    merge.begin_run(s3, newer, CONFIG, model.version, model.threshold)
    with pytest.raises(merge.Superseded, match="no longer run run-a's pending summary"):
        merge.merge_task(s3, {"task": "merge", **older}, CONFIG, STAGING, model.threshold)
    error = {"Error": "Superseded", "Cause": "overtaken"}
    failed = merge.fail_task(
        s3, {**older, "error": error}, CONFIG, STAGING, model.version, model.threshold
    )
    assert failed["summary_written"] is False  # run-b's pending summary stays
    seen = outputs(s3, "race.csv")
    assert seen["scored"] is None and seen["summary"]["run_id"] == "run-b"


def test_a_chunked_result_on_a_versioned_bucket_matches_its_source_so_a_redelivery_is_done(
    s3, model
):
    """The committed summary names the source version it was made from, as the
    whole-file path's does: a later delivery of that version is a duplicate,
    answered from the summary, with nothing scored or written again."""
    from lambda_fn.batch import score_object

    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    task = upload(s3, "incoming/kept.csv", features_csv(40).encode())
    assert task["version"]
    run_all(s3, model, task, 300)
    summary = outputs(s3, "kept.csv")["summary"]
    assert summary["status"] == "scored"
    assert summary["source"]["version_id"] == task["version"]
    again = score_object(s3, BUCKET, "incoming/kept.csv", model, CONFIG)
    assert again.get("duplicate_delivery") is True and again["run_id"] == "run-1"
    history = s3.list_object_versions(Bucket=BUCKET, Prefix="summaries/kept.csv.json")
    assert len(history["Versions"]) == 2  # the run's pending summary, then its commit
