"""A stand-in for S3 on local disk, so that the batch race measures parsing,
scoring and writing, not the network or moto's in-memory copies."""

from __future__ import annotations

from pathlib import Path


class LocalS3:
    """The handful of S3 calls the batch path makes, on local files: every
    `incoming/` key reads the one source file, every other key is a file in
    the sink folder. No conditions are checked: one run at a time."""

    class exceptions:  # noqa: N801 - mirrors boto3's client.exceptions
        class NoSuchKey(Exception):
            response = {"Error": {"Code": "NoSuchKey"}}  # what read_json looks for

    def __init__(self, source: Path, sink_dir: Path):
        self.source, self.sink = source, sink_dir
        self.parts: dict[str, object] = {}

    def _path(self, key):
        return self.sink / key.replace("/", "__")

    def head_object(self, Bucket, Key):  # noqa: N803 - boto3's names
        return {"ETag": '"local"', "ContentLength": self.source.stat().st_size}

    def get_object(self, Bucket, Key, Range=None, **kw):  # noqa: N803
        if not Key.startswith("incoming/"):
            if not self._path(Key).exists():
                raise self.exceptions.NoSuchKey(Key)
            return {"Body": open(self._path(Key), "rb"), "ETag": '"local"'}  # noqa: SIM115
        body = open(self.source, "rb")  # noqa: SIM115 - closed by the reader
        if Range:
            body.seek(int(Range.removeprefix("bytes=").split("-")[0]))
        return {"Body": body, "ETag": '"local"'}

    def put_object(self, Bucket, Key, Body, **kw):  # noqa: N803
        self._path(Key).write_bytes(Body)
        return {"ETag": '"local"'}

    def create_multipart_upload(self, Bucket, Key, **kw):  # noqa: N803
        self.parts[Key] = open(self._path(Key), "wb")  # noqa: SIM115
        return {"UploadId": Key}

    def upload_part(self, Bucket, Key, UploadId, PartNumber, Body):  # noqa: N803
        self.parts[Key].write(Body)
        return {"ETag": str(PartNumber)}

    def complete_multipart_upload(self, Bucket, Key, UploadId, MultipartUpload, **kw):  # noqa: N803
        self.parts.pop(Key).close()

    def abort_multipart_upload(self, Bucket, Key, UploadId):  # noqa: N803
        self.parts.pop(Key).close()

    def delete_object(self, Bucket, Key, **kw):  # noqa: N803
        self._path(Key).unlink(missing_ok=True)
