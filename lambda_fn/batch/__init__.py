"""Score CSV files dropped into S3, in bounded memory whatever their size.

The object is streamed: rows are parsed and scored in chunks, and outputs go
up as multipart uploads.

- csv_reader: CSV records from a stream of bytes, a bounded chunk at a time.
- scoring: chunks of records -> scored rows and error rows, with the model.
- s3_io: S3 objects as streams (a resumable, length-checked input; the
  multipart writer that completes nothing until commit), atomic publishing
  (publish: outputs, then the summary last, conditionally), JSON objects,
  listing and error codes.
- keys: where a file's outputs go; summary: the summary document (the commit
  marker) and its pending, committed and failed writes; lease: one run per
  input name at a time.
- job: one S3 event's files, one file's job in one invocation.
- chunked: files too large for one invocation, scored in byte ranges by the
  scoring state machine (its tasks: plan, score-range, merge, fail).

Imported on the S3 path only: the API path never loads this package.
"""

from lambda_fn.batch.job import BatchFailed, handle_event, score_object
from lambda_fn.batch.keys import SUFFIXES, output_keys

__all__ = ["SUFFIXES", "BatchFailed", "handle_event", "output_keys", "score_object"]
