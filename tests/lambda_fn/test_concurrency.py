"""The handler called from many threads at once (a local server, a thread
pool): every request gets its own answer, every metrics line is valid JSON,
and the counts add up."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor

from lambda_fn.telemetry import Metrics
from tests.lambda_fn.conftest import EVENTS, RECORD

CALLS = 2000


def request(i: int):
    """Request i: its own records (1 to 3, some invalid), through one of the three event kinds."""
    flavour = sorted(EVENTS)[i % 3]
    records = [{**RECORD, "age": float(i % 90), "calls": j} for j in range(1 + i % 3)]
    if i % 7 == 0:
        records[0]["age"] = f"bad-{i}"  # a 400 naming record 0's age
    body = json.dumps({"records": records})
    return EVENTS[flavour]("POST", "/predict", body), len(records)


def answer(app, i: int):
    event, _ = request(i)
    response = app.handler(event, None)
    return response["statusCode"], json.loads(response["body"])


def test_2000_concurrent_calls_match_their_single_threaded_answers(app):
    single = [answer(app, i) for i in range(CALLS)]
    out = io.StringIO()
    metrics, app.metrics = app.metrics, Metrics(out=out)
    app.metrics.dimensions.update(metrics.dimensions)
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            threaded = list(pool.map(lambda i: answer(app, i), range(CALLS)))
    finally:
        app.metrics = metrics
    assert threaded == single
    assert sum(status == 400 for status, _ in single) == len(range(0, CALLS, 7))

    lines = out.getvalue().splitlines()
    documents = [json.loads(line) for line in lines]  # each line whole, valid JSON
    assert len(documents) == CALLS
    expected_scored = sum(n for i in range(CALLS) if i % 7 for _, n in [request(i)])
    assert sum(d["RecordsScored"] for d in documents) == expected_scored
    assert sum(d["Requests"] for d in documents) == CALLS
    assert sum(d["RecordsRejected"] for d in documents) == len(range(0, CALLS, 7))


def test_metrics_collected_on_two_threads_stay_apart():
    import threading

    out = io.StringIO()
    metrics = Metrics(out=out)
    barrier = threading.Barrier(2)

    def invocation(n):
        metrics.add("Requests", 1, "Count")
        barrier.wait()  # both threads have added before either flushes
        metrics.add("RecordsScored", n, "Count")
        metrics.flush()

    threads = [threading.Thread(target=invocation, args=(n,)) for n in (3, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    documents = [json.loads(line) for line in out.getvalue().splitlines()]
    assert sorted(d["RecordsScored"] for d in documents) == [3.0, 5.0]
    assert [d["Requests"] for d in documents] == [1.0, 1.0]
