"""S3 objects as streams, and publishing outputs so that readers never see half a result.

Takes the caller's boto3 client, so that this package never imports boto3
(or botocore) itself. Transient faults of each S3 call (throttling, 5xx,
timeouts) are retried, with backoff, by the client's retry mode
(Config.botocore_config); this module handles what botocore cannot:

- Reading: a fault in the middle of a body is resumed from the byte it
  stopped at (a ranged GET pinned to the ETag), and the bytes read are checked
  against ContentLength, so a broken connection is never taken for the end of
  the file. A fault that persists raises SourceReadFailed, which is not a read
  error of the data: the invocation fails and the file is retried.
- Gzip: decompressed on the fly with a limit on how far it may inflate;
  damaged or truncated streams raise what gzip raises (OSError, EOFError,
  zlib.error), which rejects the file.
- Writing: S3Writer uploads parts as they fill but completes nothing until
  commit(), so an output becomes visible whole or not at all.
- Publishing (publish): outputs committed, stale ones deleted, and the
  summary written last with a conditional PUT, as the commit marker.
- Listing (list_objects) and the error code of a failed call (error_code).
"""

from __future__ import annotations

import gzip
import io
import json
import random
import time
import zlib

READ_BUFFER_BYTES = 1 << 20
# How many times a body that broke off is reopened at the byte it stopped at.
READ_RESUMES = 3
# Before the k-th resume, a pause of up to RESUME_PAUSE_SECONDS * 2**(k-1) (full
# jitter): a connection that broke under load is not hammered straight away.
RESUME_PAUSE_SECONDS = 0.1
_sleep = time.sleep  # this module's own name for it, so tests can watch the pauses
# A gzip member may inflate to at most this many times the object's size
# (CSV text compresses 3-20x; a zip bomb compresses 1000x), and never past
# MAX_INFLATED_BYTES, whatever the ratio.
MAX_INFLATE_RATIO = 200
MIN_INFLATE_ALLOWANCE = 64 << 20
MAX_INFLATED_BYTES = 100 << 30
# What S3 answers when a conditional write loses (412) or races another (409).
CONDITION_FAILED = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")


class SourceReadFailed(Exception):
    """The input could not be read to its end (S3 or network fault, or it
    changed while being read). Not a problem of the data: the invocation
    fails, nothing is published, and the delivery is retried."""


class InflateLimitExceeded(OSError):
    """A gzip input decompresses to more than its allowance (a zip bomb, or
    a file too large for one invocation); the file is rejected."""


def error_code(exc: BaseException) -> str | None:
    """The S3 error code of a botocore ClientError (without importing botocore)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    return str(response.get("Error", {}).get("Code"))


def condition_failed(exc: BaseException) -> bool:
    return error_code(exc) in CONDITION_FAILED


class S3Body(io.RawIOBase):
    """One version of an object's bytes (pinned by its ETag), resumed from
    where it stopped when the connection breaks, and checked for length at
    the end: bytes [start, length) of the object, so a byte range is
    S3Body(..., length=end, start=start)."""

    def __init__(self, s3, bucket: str, key: str, etag: str, length: int, start: int = 0):
        self.s3, self.bucket, self.key, self.etag = s3, bucket, key, etag
        self.length = length
        self.position = start
        self.resumes = 0
        self.body = None

    def readable(self) -> bool:
        return True

    def _open(self):
        if self.position >= self.length:
            return None
        try:
            return self.s3.get_object(
                Bucket=self.bucket,
                Key=self.key,
                IfMatch=f'"{self.etag}"',
                Range=f"bytes={self.position}-{self.length - 1}",
            )["Body"]
        except Exception as exc:
            if condition_failed(exc):
                raise SourceReadFailed(
                    f"s3://{self.bucket}/{self.key} changed while it was being read"
                ) from exc
            raise SourceReadFailed(
                f"cannot read s3://{self.bucket}/{self.key} from byte {self.position:,}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def readinto(self, buffer) -> int:
        while True:
            if self.body is None:
                if self.position >= self.length:
                    return 0
                self.body = self._open()
            try:
                data = self.body.read(len(buffer))
            except Exception as exc:  # botocore/urllib3 stream errors, whatever their class
                self._broken(exc)
                continue
            if data:
                n = len(data)
                if self.position + n > self.length:
                    raise SourceReadFailed(
                        f"s3://{self.bucket}/{self.key} sent more than the "
                        f"{self.length:,} bytes asked for"
                    )
                buffer[:n] = data
                self.position += n
                return n
            if self.position >= self.length:
                return 0
            self._broken(EOFError(f"the body ended at byte {self.position:,}"))

    def _broken(self, exc: BaseException) -> None:
        """The body stopped early: reopen it where it stopped, a few times."""
        self.body = None
        self.resumes += 1
        if self.resumes > READ_RESUMES:
            raise SourceReadFailed(
                f"s3://{self.bucket}/{self.key} broke off at byte {self.position:,} of "
                f"{self.length:,} {READ_RESUMES + 1} times; last: {type(exc).__name__}: {exc}"
            ) from exc
        _sleep(random.uniform(0, RESUME_PAUSE_SECONDS * 2 ** (self.resumes - 1)))  # noqa: S311


class _Inflated(io.RawIOBase):
    """A gzip stream, counted: past `limit` decompressed bytes it raises InflateLimitExceeded."""

    def __init__(self, compressed: io.RawIOBase, limit: int):
        self.gzip = gzip.GzipFile(fileobj=io.BufferedReader(compressed, READ_BUFFER_BYTES))
        self.limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.gzip.readinto(buffer)
        self.count += n
        if self.count > self.limit:
            raise InflateLimitExceeded(
                f"the gzip data decompresses to more than {self.limit:,} bytes "
                f"({MAX_INFLATE_RATIO}x its compressed size, at most {MAX_INFLATED_BYTES:,}): "
                "split the file, or upload it uncompressed"
            )
        return n


def inflate_limit(compressed_bytes: int) -> int:
    return min(MAX_INFLATED_BYTES, max(MIN_INFLATE_ALLOWANCE, MAX_INFLATE_RATIO * compressed_bytes))


def open_object(
    s3, bucket: str, key: str, etag: str | None = None, length: int | None = None
) -> io.BufferedReader:
    """The object's bytes, gunzipped when the key ends in .gz (any case),
    buffered so that the start can be peeked at before it is read.

    Give the ETag and ContentLength from a HEAD to pin the version read and
    to have a broken-off body resumed; without them, one HEAD finds them."""
    if etag is None or length is None:
        head = s3.head_object(Bucket=bucket, Key=key)
        etag, length = head["ETag"].strip('"'), head["ContentLength"]
    raw: io.RawIOBase = S3Body(s3, bucket, key, etag, length)
    if key.lower().endswith(".gz"):
        raw = _Inflated(raw, inflate_limit(length))
    return io.BufferedReader(raw, READ_BUFFER_BYTES)


def read_json(s3, bucket: str, key: str):
    """The object's JSON; None when there is no such object or it is not JSON."""
    return read_json_versioned(s3, bucket, key)[0]


def read_json_versioned(s3, bucket: str, key: str) -> tuple[object, str | None]:
    """(the object's JSON or None, its ETag or None when there is no object)."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
        body = response["Body"].read()
    except Exception as exc:  # botocore's ClientError, without importing botocore here
        if error_code(exc) in ("404", "NoSuchKey"):
            return None, None
        raise
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    return data, response["ETag"]


def put_json(
    s3, bucket: str, key: str, data: dict, if_match: str | None = None, create: bool = False
) -> str:
    """PUT the JSON; with if_match (an ETag) or create (If-None-Match: *),
    only when nobody else wrote the object since. Returns the new ETag."""
    conditions = {}
    if if_match:
        conditions["IfMatch"] = if_match
    elif create:
        conditions["IfNoneMatch"] = "*"
    return s3.put_object(
        Bucket=bucket,
        Key=key,
        ContentType="application/json",
        Body=json.dumps(data, indent=2).encode(),
        **conditions,
    )["ETag"]


def put_json_once(
    s3, bucket: str, key: str, data: dict, if_match: str | None = None, create: bool = False
) -> str:
    """put_json with a condition, safe to retry: when the condition fails
    because an earlier attempt of this very write was applied (its answer
    lost to a timeout, so botocore tried again), the object holds our
    data["run_id"] and the write counts as done. Any other loser re-raises."""
    try:
        return put_json(s3, bucket, key, data, if_match=if_match, create=create)
    except Exception as exc:
        if not condition_failed(exc):
            raise
        seen, etag = read_json_versioned(s3, bucket, key)
        if isinstance(seen, dict) and etag and seen.get("run_id") == data["run_id"]:
            return etag
        raise


def list_objects(s3, bucket: str, prefix: str):
    """Every object under prefix (its Key, Size, ...), page after page."""
    token = None
    while True:
        page = s3.list_objects_v2(
            Bucket=bucket, Prefix=prefix, **({"ContinuationToken": token} if token else {})
        )
        yield from page.get("Contents", [])
        if not page.get("IsTruncated"):
            return
        token = page["NextContinuationToken"]


def delete_if_present(s3, bucket: str, key: str) -> None:
    s3.delete_object(Bucket=bucket, Key=key)  # S3 answers 204 whether or not it existed


class S3Writer:
    """Bytes to one S3 object, visible only once commit() is called.

    Parts of part_bytes go up as they fill (memory stays at one part); an
    output that never fills a part is kept and PUT whole at commit. Until
    commit, nothing appears under the key; abort() discards it. Gzip-compresses
    on the fly when the key ends in .gz (any case). close() = finish + commit."""

    def __init__(self, s3, bucket: str, key: str, part_bytes: int, content_type: str):
        self.s3, self.bucket, self.key = s3, bucket, key
        self.part_bytes = part_bytes
        self.content_type = content_type
        self.buffer = bytearray()
        self.parts: list[dict] = []
        self.upload_id: str | None = None
        self.finished = False
        self.committing = False
        self.gzip = zlib.compressobj(6, zlib.DEFLATED, 31) if key.lower().endswith(".gz") else None

    def write(self, data: bytes) -> None:
        self.buffer += self.gzip.compress(data) if self.gzip else data
        if len(self.buffer) >= self.part_bytes:
            self._upload_part(bytes(self.buffer))
            self.buffer.clear()

    def _upload_part(self, data: bytes) -> None:
        if self.upload_id is None:
            self.upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )["UploadId"]
        number = len(self.parts) + 1
        etag = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )["ETag"]
        self.parts.append({"ETag": etag, "PartNumber": number})

    def finish(self) -> None:
        """Everything written goes up, except what commit PUTs whole; nothing is visible yet."""
        if self.finished:
            return
        if self.gzip:
            self.buffer += self.gzip.flush()
        if self.upload_id is not None and self.buffer:
            self._upload_part(bytes(self.buffer))
            self.buffer.clear()
        self.finished = True

    def commit(self) -> None:
        """Make the object visible, whole."""
        self.finish()
        self.committing = True
        if self.upload_id is None:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=bytes(self.buffer),
                ContentType=self.content_type,
            )
            return
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )

    def close(self) -> None:
        self.commit()

    def abort(self) -> None:
        """Discard what was uploaded, and the object itself once commit was
        tried (it may have been applied with its answer lost). Best effort:
        the bucket's lifecycle rule removes incomplete uploads a killed run leaves."""
        self.buffer.clear()
        upload_id, self.upload_id = self.upload_id, None
        try:
            if upload_id is not None:
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id)
        except Exception:  # noqa: BLE001, S110 - completed already, or the lifecycle rule's job
            pass
        try:
            if self.committing:
                delete_if_present(self.s3, self.bucket, self.key)
        except Exception:  # noqa: BLE001, S110 - already failing; the next run deletes it
            pass


def publish(
    s3,
    bucket: str,
    outputs: list[S3Writer],
    stale: list[str],
    summary_key: str,
    summary: dict,
    summary_etag: str | None,
) -> str:
    """Commit a finished run: every output made visible, stale outputs of an
    earlier run deleted, then the summary, last, as the commit marker.

    The summary PUT is conditional on summary_etag (the summary this run saw
    or wrote when it started; None: there was none), so that of two runs
    that overlap only one commits: the loser gets a ClientError for which
    condition_failed() is true. Returns the summary's new ETag."""
    for writer in outputs:
        writer.finish()
    for writer in outputs:
        writer.commit()
    for key in stale:
        delete_if_present(s3, bucket, key)
    return put_json_once(s3, bucket, summary_key, summary, if_match=summary_etag, create=True)
