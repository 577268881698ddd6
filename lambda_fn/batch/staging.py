"""The chunked path's working objects under one run's staging prefix.

<staging>/<run>/plan.json       header, source (etag, version), range count
<staging>/<run>/manifest.json   the ranges, read by the Distributed Map
<staging>/<run>/parts/<i>.scored.csv, <i>.errors.csv, <i>.json   one range's outputs

Nothing here is a result: the merge assembles the final objects and the
staging prefix is removed when the run ends, scored or failed (a lifecycle
rule removes what a crashed run leaves).
"""

from __future__ import annotations

import json

from lambda_fn.batch.s3_io import read_json


class ObjectChanged(Exception):
    """The source object is not the version the run was planned on (overwritten
    or deleted while it ran): its results would mix two files."""


def keys(staging: str, run: str) -> dict[str, str]:
    root = f"{staging}{run}/"
    return {"root": root, "plan": root + "plan.json", "manifest": root + "manifest.json"}


def part_keys(staging: str, run: str, index: int) -> dict[str, str]:
    stem = f"{staging}{run}/parts/{index:05d}"
    return {
        "scored": stem + ".scored.csv",
        "errors": stem + ".errors.csv",
        "tally": stem + ".json",
    }


def get_source(s3, task: dict, byte_range: str | None = None) -> dict:
    """get_object on exactly the planned version (VersionId when the bucket is
    versioned, else If-Match on the ETag)."""
    params = {"Bucket": task["bucket"], "Key": task["key"], "IfMatch": f'"{task["etag"]}"'}
    if task.get("version"):
        params["VersionId"] = task["version"]
    if byte_range:
        params["Range"] = byte_range
    try:
        return s3.get_object(**params)
    except Exception as exc:  # botocore's ClientError, without importing botocore here
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code in ("PreconditionFailed", "412", "NoSuchKey", "NoSuchVersion", "404"):
            raise ObjectChanged(
                f"s3://{task['bucket']}/{task['key']} changed or went away while it was "
                f"scored (planned on ETag {task['etag']}): {code}"
            ) from exc
        raise


def put_json(s3, bucket: str, key: str, value) -> None:
    s3.put_object(
        Bucket=bucket, Key=key, ContentType="application/json", Body=json.dumps(value).encode()
    )


def get_json(s3, bucket: str, key: str):
    value = read_json(s3, bucket, key)
    if value is None:
        raise FileNotFoundError(f"s3://{bucket}/{key} is missing or not JSON")
    return value


def remove(s3, bucket: str, prefix: str) -> int:
    """Deletes every object under prefix; the number deleted."""
    removed = 0
    token = None
    while True:
        page = s3.list_objects_v2(
            Bucket=bucket, Prefix=prefix, **({"ContinuationToken": token} if token else {})
        )
        objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            removed += len(objects)
        if not page.get("IsTruncated"):
            return removed
        token = page["NextContinuationToken"]
