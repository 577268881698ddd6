"""Score CSV files dropped into S3, in bounded memory whatever their size.

The object is streamed: rows are parsed and scored in chunks, and outputs go
up as multipart uploads.

- csv_reader: CSV records from a stream of bytes, a bounded chunk at a time.
- scoring: chunks of records -> scored rows and error rows, with the model.
- s3_io: S3 objects as streams (a resumable, length-checked input; the
  multipart writer that completes nothing until commit), atomic publishing
  (publish: outputs, then the summary last, conditionally) and leases.
- job: one S3 event's files, one file's job (outputs, idempotency, summary).
- chunked: files too large for one invocation routed to the scoring state
  machine, and its tasks dispatched to plan (byte ranges on record
  boundaries), range_job (one range scored), merge (results assembled, or the
  failure recorded); staging holds their working objects.

Imported on the S3 path only: the API path never loads this package.
"""

from lambda_fn.batch.job import SUFFIXES, BatchFailed, handle_event, output_keys, score_object

__all__ = ["SUFFIXES", "BatchFailed", "handle_event", "output_keys", "score_object"]
