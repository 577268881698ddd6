"""Files too large for one invocation, scored in byte ranges by the scoring
state machine (infra/statemachine/scoring.asl.json), with the same reader and
scoring code as the whole-file path, and published by the same protocol.

- router: an S3 file routed to the state machine (or kept in place), and
  the state machine's tasks dispatched to the modules below.
- plan: the object cut into byte ranges on record boundaries (plan task);
  merge.begin_run first marks the summary pending for the run.
- range_job: one range scored into staging (score-range task).
- merge: the final objects assembled from the ranges and the summary
  committed last (merge task), or the failure recorded (fail task).
- staging: the run's working objects under STAGING_PREFIX.
"""

from lambda_fn.batch.chunked.router import handle_task, route

__all__ = ["handle_task", "route"]
