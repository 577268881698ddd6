"""S3 faults during a file's run: a transient one is retried and the file
completes; one that persists fails the invocation with nothing final
published, and the next delivery completes the file. Counts always add up."""

from __future__ import annotations

import json

import pytest

from lambda_fn import batch
from lambda_fn.batch import s3_io
from lambda_fn.config import Config
from tests.lambda_fn.batch.conftest import BUCKET
from tests.lambda_fn.test_batch import features_csv, read, rows, s3_event

ROWS = 400


def wide_csv(n: int) -> str:
    """Rows with a long pass-through column, so that a few thousand rows make
    multipart-sized outputs (parts are at least 5 MiB)."""
    lines = features_csv(n, seed=8).splitlines()
    return "\n".join(
        [lines[0] + ",notes"] + [f"{line},{'n' * 1000}{i}" for i, line in enumerate(lines[1:])]
    )


def summary(s3, name="f.csv"):
    return json.loads(read(s3, f"summaries/{name}.json"))


def listed(s3, prefix):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def clean_run(s3, model, body: bytes, config=None) -> tuple[str, dict]:
    s3.put_object(Bucket=BUCKET, Key="incoming/clean.csv", Body=body)
    result = batch.score_object(s3, BUCKET, "incoming/clean.csv", model, config or Config())
    return read(s3, "scored/clean.csv"), result


def assert_complete(s3, result, expected_scored: str, n: int):
    assert result["status"] == "scored"
    assert (result["rows_in"], result["rows_scored"], result["rows_rejected"]) == (n, n, 0)
    assert read(s3, "scored/f.csv") == expected_scored
    stored = summary(s3)
    assert stored["status"] == "scored" and stored["rows_in"] == n
    assert stored["rows_in"] == stored["rows_scored"] + stored["rows_rejected"]
    assert listed(s3, "leases/") == []


@pytest.mark.parametrize(
    ("op", "fault"),
    [
        ("HeadObject", {"status": 503, "code": "SlowDown"}),
        ("GetObject", {"status": 503, "code": "SlowDown"}),
        ("GetObject", {"timeout": True}),
        ("PutObject", {"status": 500, "code": "InternalError"}),
        ("PutObject", {"timeout": True}),
        ("PutObject", {"connect": True}),
        ("GetObject", {"connect": True}),
        ("DeleteObject", {"status": 503, "code": "SlowDown"}),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(map(str, v.values())),
)
def test_a_transient_fault_is_retried_by_botocore_and_the_file_completes(
    s3, faults, model, op, fault
):
    body = features_csv(ROWS, seed=1).encode()
    expected, _ = clean_run(s3, model, body)
    s3.put_object(Bucket=BUCKET, Key="incoming/f.csv", Body=body)
    faults.calls.clear()
    faults.fail(op, times=2, **fault)  # max_attempts=3: the third attempt goes through
    result = batch.score_object(s3, BUCKET, "incoming/f.csv", model, Config())
    assert faults.plans[op][0] == 0 and faults.calls[op] >= 3
    assert_complete(s3, result, expected, ROWS)


def test_a_body_that_breaks_off_mid_file_is_resumed_not_taken_for_its_end(s3, faults, model):
    body = features_csv(3000, seed=1).encode()
    expected, _ = clean_run(s3, model, body)
    s3.put_object(Bucket=BUCKET, Key="incoming/f.csv", Body=body)
    faults.break_bodies(after=len(body) // 3, times=2)  # twice, at a third and two thirds
    result = batch.score_object(s3, BUCKET, "incoming/f.csv", model, Config())
    assert faults.broken == 2
    assert_complete(s3, result, expected, 3000)


def test_a_gzip_body_that_breaks_off_is_resumed_too(s3, faults, model):
    import gzip

    text = features_csv(3000, seed=1).encode()
    expected, _ = clean_run(s3, model, text)
    s3.put_object(Bucket=BUCKET, Key="incoming/f.csv.gz", Body=gzip.compress(text))
    faults.break_bodies(after=20_000, times=1)
    result = batch.score_object(s3, BUCKET, "incoming/f.csv.gz", model, Config())
    assert faults.broken == 1 and result["rows_scored"] == 3000
    assert read(s3, "scored/f.csv.gz") == expected


def test_a_body_that_keeps_breaking_fails_the_file_and_the_redelivery_completes_it(
    app, s3, faults, model, monkeypatch
):
    """A read timeout mid-file must not end the file early: the rows read so
    far are never saved as a finished result, and the redelivery scores the
    file rather than taking it for a duplicate."""
    from lambda_fn.batch import s3_io

    body = features_csv(3000, seed=1).encode()
    expected, _ = clean_run(s3, model, body)
    s3.put_object(Bucket=BUCKET, Key="incoming/f.csv", Body=body)
    faults.break_bodies(after=len(body) // 10, times=100)  # more breaks than resumes
    pauses = []
    monkeypatch.setattr(s3_io, "_sleep", pauses.append)
    monkeypatch.setattr(s3_io.random, "uniform", lambda low, high: high)
    with pytest.raises(batch.BatchFailed, match="incoming/f.csv"):
        app.handler(s3_event("incoming/f.csv"), None)
    # Each resume waits (up to) twice as long as the one before.
    base = s3_io.RESUME_PAUSE_SECONDS
    assert pauses == [base * 2**k for k in range(s3_io.READ_RESUMES)]
    assert listed(s3, "scored/") == ["scored/clean.csv"]  # nothing of f.csv
    assert listed(s3, "errors/") == []
    stored = summary(s3)
    assert stored["status"] == "failed" and "broke off" in stored["error"]
    assert stored["source"]["etag"] == s3.head_object(Bucket=BUCKET, Key="incoming/f.csv")[
        "ETag"
    ].strip('"')
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    faults.clear()
    result = app.handler(s3_event("incoming/f.csv"), None)["files"][0]
    assert not result.get("duplicate_delivery")
    assert_complete(s3, result, expected, 3000)


def test_a_body_shorter_than_its_content_length_is_never_a_finished_file(s3, faults, model):
    """A stream that ends quietly early (no error) is resumed from where it ended."""
    body = features_csv(2000, seed=1).encode()
    expected, _ = clean_run(s3, model, body)
    s3.put_object(Bucket=BUCKET, Key="incoming/f.csv", Body=body)

    class EndsEarly:
        def __init__(self, inner, left):
            self.inner, self.left = inner, left

        def read(self, n=-1):
            if self.left <= 0:
                return b""
            data = self.inner.read(min(n, self.left) if n and n > 0 else self.left)
            self.left -= len(data)
            return data

    cut = {"done": False}

    def shorten(parsed, **_kw):
        if not cut["done"] and "Body" in parsed:
            cut["done"] = True
            parsed["Body"] = EndsEarly(parsed["Body"], 10_000)

    s3.meta.events.register("after-call.s3.GetObject", shorten)
    result = batch.score_object(s3, BUCKET, "incoming/f.csv", model, Config())
    assert cut["done"]
    assert_complete(s3, result, expected, 2000)


@pytest.mark.parametrize("op", ["UploadPart", "CompleteMultipartUpload"])
def test_a_failing_multipart_upload_publishes_nothing_and_the_redelivery_completes(
    s3, faults, model, op
):
    text = wide_csv(6000).encode()  # about 6 MB of scored output: two parts
    config = Config(part_bytes=5 * 1024 * 1024)
    expected, _ = clean_run(s3, model, text, config)
    s3.put_object(Bucket=BUCKET, Key="incoming/f.csv", Body=text)
    faults.fail(op, times=1000, status=500, code="InternalError")
    with pytest.raises(Exception, match="InternalError"):
        batch.score_object(s3, BUCKET, "incoming/f.csv", model, config)
    assert "scored/f.csv" not in listed(s3, "scored/")
    assert summary(s3)["status"] == "failed"
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    faults.clear()
    result = batch.score_object(s3, BUCKET, "incoming/f.csv", model, config)
    assert "-" in s3.head_object(Bucket=BUCKET, Key="scored/f.csv")["ETag"]  # multipart
    assert_complete(s3, result, expected, 6000)


def final_summary_fault(s3, applied: bool):
    """Writing the final summary fails: every attempt, before it is sent
    (applied=False), or the first, after S3 applied it, with the answer lost."""
    from botocore.exceptions import ConnectTimeoutError

    from tests.lambda_fn.batch.conftest import error_response

    armed = {"on": False}

    def arm(params, **_kw):
        armed["on"] = b'"status": "scored"' in params.get("Body", b"")

    def fault(request, **_kw):
        if not armed["on"]:
            return None
        if not applied:
            raise ConnectTimeoutError(endpoint_url=request.url)
        armed["on"] = False  # botocore's next attempt goes through
        return error_response(500, "InternalError")

    s3.meta.events.register("before-parameter-build.s3.PutObject", arm)
    if applied:
        s3.meta.events.register("before-send.s3.PutObject", fault)
    else:
        s3.meta.events.register_first("before-send.s3.PutObject", fault)
    return fault


def test_a_summary_write_that_never_lands_leaves_the_file_to_the_redelivery(s3, model):
    body = features_csv(ROWS, seed=1).encode()
    expected, _ = clean_run(s3, model, body)
    s3.put_object(Bucket=BUCKET, Key="incoming/f.csv", Body=body)
    fault = final_summary_fault(s3, applied=False)
    with pytest.raises(Exception, match="Connect timeout"):
        batch.score_object(s3, BUCKET, "incoming/f.csv", model, Config())
    assert summary(s3)["status"] == "failed"  # never "scored": the commit did not happen
    assert "scored/f.csv" not in listed(s3, "scored/")
    s3.meta.events.unregister("before-send.s3.PutObject", fault)
    result = batch.score_object(s3, BUCKET, "incoming/f.csv", model, Config())
    assert_complete(s3, result, expected, ROWS)


def test_a_summary_write_applied_with_its_answer_lost_counts_as_done(s3, model):
    """botocore retries the conditional PUT, which then fails its condition
    against the summary its own first attempt wrote: recognised by run_id."""
    body = features_csv(ROWS, seed=1).encode()
    expected, _ = clean_run(s3, model, body)
    s3.put_object(Bucket=BUCKET, Key="incoming/f.csv", Body=body)
    final_summary_fault(s3, applied=True)
    result = batch.score_object(s3, BUCKET, "incoming/f.csv", model, Config())
    assert_complete(s3, result, expected, ROWS)


def test_persistent_throttling_fails_and_the_redelivery_completes(s3, faults, model):
    body = features_csv(ROWS, seed=1).encode()
    expected, _ = clean_run(s3, model, body)
    s3.put_object(Bucket=BUCKET, Key="incoming/f.csv", Body=body)
    faults.fail("GetObject", times=1000, status=503, code="SlowDown")
    with pytest.raises(Exception, match="SlowDown"):
        batch.score_object(s3, BUCKET, "incoming/f.csv", model, Config())
    assert "scored/f.csv" not in listed(s3, "scored/")
    faults.clear()
    result = batch.score_object(s3, BUCKET, "incoming/f.csv", model, Config())
    assert_complete(s3, result, expected, ROWS)


def test_the_function_s3_client_uses_botocore_retry_modes(app):
    config = app.CONFIG.botocore_config()
    assert config.retries == {"mode": "standard", "max_attempts": 5}
    adaptive = Config.from_env({"S3_RETRY_MODE": "adaptive", "S3_MAX_ATTEMPTS": "8"})
    assert adaptive.botocore_config().retries == {"mode": "adaptive", "max_attempts": 8}


def test_reads_are_pinned_to_the_version_headed(s3, model, monkeypatch):
    """An object replaced while it is read fails the run (If-Match), never mixes versions."""
    s3.put_object(Bucket=BUCKET, Key="incoming/f.csv", Body=features_csv(50).encode())
    real = s3_io.S3Body._open

    def replaced_first(self):
        s3.put_object(Bucket=BUCKET, Key="incoming/f.csv", Body=features_csv(60).encode())
        return real(self)

    monkeypatch.setattr(s3_io.S3Body, "_open", replaced_first)
    with pytest.raises(s3_io.SourceReadFailed, match="changed while it was being read"):
        batch.score_object(s3, BUCKET, "incoming/f.csv", model, Config())
    assert listed(s3, "scored/") == []
    assert rows  # the helpers stay imported for the tests above
