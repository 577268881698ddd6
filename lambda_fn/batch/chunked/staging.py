"""The chunked path's working objects under one run's staging prefix.

<staging>/<run>/plan.json       header, source (as the summary names it), range count
<staging>/<run>/manifest.json   the ranges, read by the Distributed Map
<staging>/<run>/parts/<i>.scored.csv, <i>.errors.csv, <i>.json   one range's outputs

Nothing here is a result: the merge assembles the final objects and the
staging prefix is removed when the run ends, scored or failed (a lifecycle
rule removes what a crashed run leaves).
"""

from __future__ import annotations

from lambda_fn.batch.s3_io import error_code, list_objects, read_json

# DeleteObjects takes at most 1,000 keys.
DELETE_BATCH = 1000


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


def get_source(s3, source: dict, byte_range: str | None = None) -> dict:
    """get_object on exactly the planned version of `source` (a summary's
    source): VersionId when the bucket is versioned, else If-Match on the ETag."""
    params = {"Bucket": source["bucket"], "Key": source["key"], "IfMatch": f'"{source["etag"]}"'}
    if source.get("version_id"):
        params["VersionId"] = source["version_id"]
    if byte_range:
        params["Range"] = byte_range
    try:
        return s3.get_object(**params)
    except Exception as exc:  # botocore's ClientError, without importing botocore here
        code = error_code(exc)
        if code in ("PreconditionFailed", "412", "NoSuchKey", "NoSuchVersion", "404"):
            raise ObjectChanged(
                f"s3://{source['bucket']}/{source['key']} changed or went away while it was "
                f"scored (planned on ETag {source['etag']}): {code}"
            ) from exc
        raise


def get_json(s3, bucket: str, key: str):
    value = read_json(s3, bucket, key)
    if value is None:
        raise FileNotFoundError(f"s3://{bucket}/{key} is missing or not JSON")
    return value


def remove(s3, bucket: str, prefix: str) -> int:
    """Deletes every object under prefix; the number deleted."""
    found = [{"Key": o["Key"]} for o in list_objects(s3, bucket, prefix)]
    for i in range(0, len(found), DELETE_BATCH):
        batch = found[i : i + DELETE_BATCH]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    return len(found)
