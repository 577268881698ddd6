"""S3 objects as streams: reading an input, writing an output in parts.

Takes the caller's boto3 client, so that this package never imports boto3
(or botocore) itself.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib

READ_BUFFER_BYTES = 1 << 20


def open_object(s3, bucket: str, key: str) -> io.BufferedReader:
    """The object's bytes, gunzipped when the key ends in .gz, buffered so
    that the start can be peeked at before it is read."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    raw = gzip.GzipFile(fileobj=body) if key.lower().endswith(".gz") else body
    return io.BufferedReader(raw, READ_BUFFER_BYTES)


def read_json(s3, bucket: str, key: str):
    """The object's JSON; None when there is no such object or it is not JSON."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    except Exception as exc:  # botocore's ClientError, without importing botocore here
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code in ("404", "NoSuchKey"):
            return None
        raise
    try:
        return json.loads(body)
    except ValueError:
        return None


class S3Writer:
    """Bytes to one S3 object: a single PUT when small, multipart when large.
    Gzip-compresses on the fly when the key ends in .gz."""

    def __init__(self, s3, bucket: str, key: str, part_bytes: int, content_type: str):
        self.s3, self.bucket, self.key = s3, bucket, key
        self.part_bytes = part_bytes
        self.content_type = content_type
        self.buffer = bytearray()
        self.parts: list[dict] = []
        self.upload_id: str | None = None
        self.gzip = zlib.compressobj(6, zlib.DEFLATED, 31) if key.endswith(".gz") else None

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

    def close(self) -> None:
        if self.gzip:
            self.buffer += self.gzip.flush()
        if self.upload_id is None:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=bytes(self.buffer),
                ContentType=self.content_type,
            )
            return
        if self.buffer:
            self._upload_part(bytes(self.buffer))
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )

    def abort(self) -> None:
        if self.upload_id is not None:
            self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
            )
