"""Score-range task: one byte range of a large file, scored with the same core
as the whole-file path (csv_reader.Records, scoring.score_chunks).

The range starts on a record boundary and knows how many physical lines come
before it (plan.py), so its rows and rejected-row line numbers are exactly
those of the whole file's run over the same bytes. Its outputs go under the
run's staging prefix, without a header; running it again overwrites them with
the same bytes, so a retried child is harmless.
"""

from __future__ import annotations

import io
import time

import lambda_fn.batch.chunked.staging as stage
from lambda_fn.batch.csv_reader import Records
from lambda_fn.batch.s3_io import READ_BUFFER_BYTES, S3Writer, put_json
from lambda_fn.batch.scoring import Outputs, feature_columns, header_problems, score_chunks
from lambda_fn.config import Config
from lambda_fn.model import Model


class PlanMismatch(Exception):
    """The plan was made for another model or header than this child has."""


def score_range_task(s3, task: dict, model: Model, config: Config, staging: str) -> dict:
    started = time.perf_counter()
    bucket, run = task["bucket"], task["run"]
    item = task["range"]
    index, start, end, line = item["index"], item["start"], item["end"], item["line"]
    plan = stage.get_json(s3, bucket, stage.keys(staging, run)["plan"])
    if plan["model_version"] != model.version:
        raise PlanMismatch(
            f"planned for model {plan['model_version']}, this function serves {model.version}"
        )
    header = plan["header"]
    if header_problems(header, model):
        raise PlanMismatch("the planned header cannot be scored by this model")
    columns = feature_columns(header, model)
    parts = stage.part_keys(staging, run, index)
    scored = S3Writer(s3, bucket, parts["scored"], config.part_bytes, "text/csv")
    errors = S3Writer(s3, bucket, parts["errors"], config.part_bytes, "text/csv")
    out = Outputs(scored, errors, config.explain_top_k)
    try:
        if end > start:
            body = stage.get_source(s3, plan["source"], f"bytes={start}-{end - 1}")["Body"]
            records = Records(io.BufferedReader(body, READ_BUFFER_BYTES), line_num=line)
            score_chunks(records.chunks(config.chunk_rows, columns.width), columns, model, out)
        out.errors.flush()
        scored.close()
        errors.close()
    except BaseException:
        scored.abort()
        errors.abort()
        raise
    tally = {
        "index": index,
        **out.tally.counts(),
        "timings": out.tally.timings(),
        "seconds": time.perf_counter() - started,
    }
    put_json(s3, bucket, parts["tally"], tally)
    return {k: tally[k] for k in ("index", "rows_in", "rows_scored", "rows_rejected")}
