"""Run the function under the real Lambda runtime, without Docker (`make invoke-rie`).

The Lambda Runtime Interface Emulator (the binary inside the aws-sam-cli
wheel, in .venv-tools) starts `python -m awslambdaric lambda_fn.app.handler`
as the image does, in a task root laid out from the Dockerfile's own COPY
lines (same files, same modes) with the serving pins installed beside it. As
root, it drops to an unprivileged user first, as Lambda does. Then it sends
every event in infra/events/ (S3 ones against a moto server on 127.0.0.1,
with the object put there first) and a set of events the function does not
serve, checks every answer, and reads the runtime's INIT/REPORT lines.

    python scripts/invoke_rie.py --model artifacts/model.onnx --data data/marketing_data.csv
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import platform
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "infra" / "events"
sys.path.insert(0, str(ROOT))

from scripts.invoke_local import free_port, sample_csv  # noqa: E402

AWSLAMBDARIC = "awslambdaric==4.2.2"
HANDLER = "lambda_fn.app.handler"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
# What the template sets, plus what Lambda sets (the Dockerfile's ENV lines
# come first: image_environment).
FUNCTION_ENV = {
    "INPUT_PREFIX": "incoming/",
    "SCORED_PREFIX": "scored/",
    "ERRORS_PREFIX": "errors/",
    "SUMMARY_PREFIX": "summaries/",
    "MAX_RECORDS": "1000",
    "POWERTOOLS_SERVICE_NAME": "imbalanced-classifier",
    "METRICS_NAMESPACE": "ImbalancedClassifier",
    "AWS_LAMBDA_FUNCTION_NAME": "imbalanced-classifier-local",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769",
    "AWS_LAMBDA_FUNCTION_TIMEOUT": "60",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",  # moto's dummy credentials, local only
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}

# Events Lambda may deliver that this function does not serve: each must end
# in UnsupportedEvent, never in a KeyError/TypeError/AttributeError.
UNSUPPORTED_EVENTS = {
    "empty object": {},
    "null": None,
    "list": [1, 2],
    "string": "hello",
    "number": 42,
    "boolean": True,
    "empty Records": {"Records": []},
    "S3 record without its fields": {"Records": [{"eventSource": "aws:s3"}]},
    "S3 delete event": {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectRemoved:Delete",
                "s3": {"bucket": {"name": "b"}, "object": {"key": "incoming/x.csv"}},
            }
        ]
    },
    "SQS record without messageId": {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]},
    "SNS notification": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "hi"}}]},
    "DynamoDB stream": {"Records": [{"eventSource": "aws:dynamodb", "dynamodb": {}}]},
    "EventBridge schedule": {"source": "aws.events", "detail-type": "Scheduled Event"},
    "CloudWatch Logs": {"awslogs": {"data": "H4sIAAAAAAAA"}},
    "REST event without httpMethod": {"path": "/predict", "requestContext": {}},
    "HTTP API event without rawPath": {
        "version": "2.0",
        "requestContext": {"http": {"method": "GET"}},
    },
    "API event with a list body": {
        "version": "2.0",
        "rawPath": "/predict",
        "requestContext": {"http": {"method": "POST"}},
        "body": ["not", "a", "string"],
    },
}
ALLOWED_ERROR = "UnsupportedEvent"


class RieError(RuntimeError):
    """The emulator or the function could not be started; the message says why."""


@dataclass
class Answer:
    name: str
    ok: bool
    detail: str
    duration_ms: float | None = None
    payload: object = None


@dataclass
class Report:
    answers: list[Answer] = field(default_factory=list)
    init_ms: float | None = None
    user: str = ""
    python: str = ""
    log: str = ""

    def to_dict(self) -> dict:
        return {
            "init_ms": self.init_ms,
            "user": self.user,
            "python": self.python,
            "answers": [
                {"name": a.name, "ok": a.ok, "detail": a.detail, "duration_ms": a.duration_ms}
                for a in self.answers
            ],
        }


# ---------------------------------------------------------------- the task root


def rie_binary(arch: str | None = None) -> Path:
    arch = arch or {"aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), "x86_64")
    override = os.environ.get("AWS_LAMBDA_RIE")
    if override:
        return Path(override)
    pattern = str(ROOT / ".venv-tools/lib/python*/site-packages/samcli/local/rapid")
    found = sorted(glob.glob(f"{pattern}/aws-lambda-rie-{arch}"))
    if not found:
        raise RieError(
            f"no aws-lambda-rie-{arch} in .venv-tools (run `make tools`; it ships in the "
            "aws-sam-cli wheel), or set AWS_LAMBDA_RIE to the binary"
        )
    return Path(found[0])


def copy_instructions(dockerfile: Path) -> list[tuple[str, str, int]]:
    """(source, destination, mode) of each COPY into the task root."""
    copies = []
    for line in dockerfile.read_text().splitlines():
        match = re.match(r"COPY\s+--chmod=(\d+)\s+(\S+)\s+\$\{LAMBDA_TASK_ROOT\}/(\S*)", line)
        if match:
            copies.append((match[2], match[3], int(match[1], 8)))
        elif line.startswith("COPY") and "LAMBDA_TASK_ROOT" in line:
            raise RieError(f"Dockerfile: COPY into the task root without --chmod: {line}")
    return copies


def image_environment(dockerfile: Path = ROOT / "Dockerfile") -> dict[str, str]:
    """The Dockerfile's ENV lines (ENV NAME=value form)."""
    return dict(
        re.findall(r"^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)\s*$", dockerfile.read_text(), re.M)
    )


def compiled_folders(dockerfile: Path) -> list[str]:
    """Task-root folders the Dockerfile byte-compiles (RUN python -m compileall)."""
    lines = re.findall(
        r"^RUN\s+python\S*\s+-m\s+compileall\b.*$", dockerfile.read_text(), flags=re.MULTILINE
    )
    return [f for line in lines for f in re.findall(r"\$\{LAMBDA_TASK_ROOT\}/([^\"\s]+)", line)]


def lay_out_task_root(task: Path, model: Path, dockerfile: Path = ROOT / "Dockerfile") -> None:
    """The image's /var/task: the Dockerfile's COPY lines, with their --chmod modes,
    and its bytecode (compiled by this Python, whose version the function runs)."""
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", "model.onnx")
    for source, destination, mode in copy_instructions(dockerfile):
        origin = model if source == "artifacts/model.onnx" else ROOT / source
        target = task / destination
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=ignored, dirs_exist_ok=True)
            for path in [target, *target.rglob("*")]:
                path.chmod(mode)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, target)
            target.chmod(mode)
    for folder in compiled_folders(dockerfile):
        command = [sys.executable, "-m", "compileall", "-q", str(task / folder)]
        run = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if run.returncode != 0:
            raise RieError(f"compileall {folder} failed: {(run.stdout + run.stderr)[-1500:]}")
        for path in (task / folder).rglob("__pycache__"):  # as the image's umask 022 leaves them
            path.chmod(0o755)
            for compiled in path.iterdir():
                compiled.chmod(0o644)


def install_packages(target: Path, requirements: list[str]) -> None:
    """pip install --target, as the Dockerfile's RUN line does (pip's cache makes reruns quick)."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--only-binary=:all:", "--target", str(target), *requirements]
    run = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if run.returncode != 0:
        raise RieError(f"pip install --target {target} failed: {run.stderr.strip()[-1500:]}")
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)


@contextlib.contextmanager
def task_root(model: Path):
    """A temporary folder any user may enter: (folder, task root, runtime dir)."""
    with tempfile.TemporaryDirectory(prefix="rie-") as folder:
        base = Path(folder)
        base.chmod(0o755)
        task, runtime = base / "task", base / "runtime"
        task.mkdir(mode=0o755)
        runtime.mkdir(mode=0o755)
        install_packages(task, ["-r", str(ROOT / "lambda_fn" / "requirements.txt")])
        install_packages(runtime, [AWSLAMBDARIC])
        lay_out_task_root(task, model)
        # A copy the function's user may run, wherever the checkout is (/root is 0700).
        shutil.copyfile(rie_binary(), base / "aws-lambda-rie")
        (base / "aws-lambda-rie").chmod(0o755)
        yield base, task, runtime


# ---------------------------------------------------------------- the user


def unprivileged_user() -> pwd.struct_passwd | None:
    """Lambda's user is not root: drop to `nobody` when running as root."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam(os.environ.get("RIE_USER", "nobody"))


def as_user(user: pwd.struct_passwd | None) -> list[str]:
    if user is None:
        return []
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]


def python_as(user: pwd.struct_passwd | None, python: str, *args: str) -> list[str]:
    """The command that runs `python args` as `user`. Through a shell: setpriv's
    own exec still has root's capabilities, the emulator's exec of the runtime
    (and this shell's) does not."""
    return [*as_user(user), "/bin/sh", "-c", 'exec "$0" "$@"', python, *args]


def function_python(user: pwd.struct_passwd | None) -> str:
    """An interpreter of this Python's version that the function's user may run.

    As root, this interpreter may live where `nobody` cannot enter (pyenv under
    /root, say); the system's python3.X serves then.
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [os.path.realpath(sys.executable), shutil.which(f"python{version}") or ""]
    candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for python in dict.fromkeys(c for c in candidates if c):
        probe = subprocess.run(
            python_as(user, python, "-c", "import sys; print(sys.version_info[:2])"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if probe.returncode == 0 and probe.stdout.strip() == str(sys.version_info[:2]):
            return python
    who = user.pw_name if user else "this user"
    raise RieError(f"no Python {version} that {who} may run (tried {', '.join(candidates)})")


# ---------------------------------------------------------------- the emulator


class Emulator:
    """aws-lambda-rie running the handler; one process = one execution environment."""

    def __init__(self, task: Path, runtime: Path, python: str, user, env: dict, log: Path):
        self.port = free_port()
        self.log_path = log
        command = [
            *as_user(user),
            str(task.parent / "aws-lambda-rie"),
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{self.port}",
            "--runtime-api-address",
            f"127.0.0.1:{free_port()}",
            python,
            "-m",
            "awslambdaric",
            HANDLER,
        ]
        environment = function_environment(task, runtime, env)
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=task, env=environment, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_until_listening()

    def _wait_until_listening(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RieError(f"aws-lambda-rie exited: {self.log()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise RieError("aws-lambda-rie did not listen within 30 s")

    def invoke(self, event, timeout: float = 120) -> tuple[object, float]:
        data = json.dumps(event).encode()
        request = urllib.request.Request(  # noqa: S310 - a fixed http://127.0.0.1 URL
            f"http://127.0.0.1:{self.port}{INVOKE_PATH}", data=data, method="POST"
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise RieError(
                f"the emulator answered HTTP {exc.code}; its log:\n{self.log()[-3000:]}"
            ) from None
        return json.loads(body or b"null"), (time.perf_counter() - started) * 1000

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def init_duration_ms(log: str) -> float | None:
    """The runtime's own INIT figure: 'INIT REPORT ... durationMs' or REPORT's 'Init Duration'."""
    match = re.search(r"INIT REPORT\(.*?durationMs: ([\d.]+)", log) or re.search(
        r"Init Duration: ([\d.]+) ms", log
    )
    return float(match[1]) if match else None


def report_durations(log: str) -> list[float]:
    return [float(m) for m in re.findall(r"REPORT RequestId: [^\n]*?\tDuration: ([\d.]+) ms", log)]


# ---------------------------------------------------------------- checks


def check_api(name: str, answer) -> tuple[bool, str]:
    if not isinstance(answer, dict) or "statusCode" not in answer:
        return False, f"not an API Gateway response: {str(answer)[:300]}"
    body = json.loads(answer.get("body") or "null")
    if answer["statusCode"] != 200:
        return False, f"HTTP {answer['statusCode']}: {str(body)[:300]}"
    if "predict" in name:
        predictions = body.get("predictions") or []
        ok = bool(predictions) and all(0.0 <= p["probability"] <= 1.0 for p in predictions)
        return ok, f"HTTP 200, {len(predictions)} predictions"
    if "schema" in name:
        return bool(body.get("features")), f"HTTP 200, {len(body.get('features', []))} features"
    return "model_version" in body, f"HTTP 200, model {body.get('model_version')}"


def check_s3(answer, s3, bucket: str) -> tuple[bool, str]:
    if not isinstance(answer, dict) or "files" not in answer:
        return False, f"unexpected answer: {str(answer)[:300]}"
    (summary,) = answer["files"]
    if summary.get("status") != "scored":
        return False, f"file {summary.get('status')}: {summary.get('error') or summary}"
    scored = s3.get_object(Bucket=bucket, Key=summary["outputs"]["scored"])["Body"].read()
    lines = scored.decode().splitlines()
    ok = len(lines) == summary["rows_scored"] + 1 and "probability" in lines[0]
    return ok, (
        f"scored {summary['rows_scored']} of {summary['rows_in']} rows, "
        f"{summary['rows_rejected']} rejected; {len(lines) - 1} rows in scored/"
    )


def check_sqs(answer) -> tuple[bool, str]:
    failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    return failures == [], f"batchItemFailures: {failures}"


def check_rejected(answer) -> tuple[bool, str]:
    kind = answer.get("errorType") if isinstance(answer, dict) else None
    message = answer.get("errorMessage", "") if isinstance(answer, dict) else ""
    return kind == ALLOWED_ERROR, f"{kind}: {message[:160]}"


def check_log_context(log: str) -> tuple[bool, str]:
    """Every log line of the function carries cold_start, the request id and the model version."""
    lines = [json.loads(line) for line in log.splitlines() if line.startswith('{"level"')]
    keys = ("cold_start", "function_request_id", "model_version")
    missing = [line["message"] for line in lines if not all(k in line for k in keys)]
    if not lines or missing:
        return (
            False,
            f"{len(missing)} of {len(lines)} log lines lack {', '.join(keys)}: {missing[:3]}",
        )
    return True, f"all {len(lines)} log lines carry {', '.join(keys)}"


def run(model: Path, data: Path | None, target: str, rows: int, env: dict | None = None) -> Report:
    """Every sample event and every unsupported one through one emulator; returns the checks."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    report = Report()
    user = unprivileged_user()
    report.user = user.pw_name if user else pwd.getpwuid(os.geteuid()).pw_name
    report.python = function_python(user)
    with task_root(model) as (base, task, runtime):
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        emulator = None
        try:
            endpoint = f"http://127.0.0.1:{port}"
            import boto3

            s3 = boto3.client(
                "s3",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="local",
                aws_secret_access_key="local",  # noqa: S106 - moto's dummy credentials
            )
            emulator = Emulator(
                task,
                runtime,
                report.python,
                user,
                {"AWS_ENDPOINT_URL": endpoint, **(env or {})},
                base / "rie.log",
            )
            for path in sorted(EVENTS.glob("*.json")):
                event = json.loads(path.read_text())
                if path.name.startswith(("s3-", "sqs-")):
                    if data is None or not data.exists():
                        report.answers.append(Answer(path.name, True, "skipped: no --data CSV"))
                        continue
                    notification = (
                        json.loads(event["Records"][0]["body"])
                        if path.name.startswith("sqs-")
                        else event
                    )
                    s3_event = notification["Records"][0]["s3"]
                    bucket, key = s3_event["bucket"]["name"], s3_event["object"]["key"]
                    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
                        s3.create_bucket(Bucket=bucket)
                    # A fresh object each time, so that the SQS delivery scores it too.
                    s3.put_object(Bucket=bucket, Key=key, Body=sample_csv(data, target, rows))
                answer, ms = emulator.invoke(event)
                if path.name.startswith("api-"):
                    ok, detail = check_api(path.name, answer)
                elif path.name.startswith("s3-"):
                    ok, detail = check_s3(answer, s3, bucket)
                else:
                    ok, detail = check_sqs(answer)
                report.answers.append(Answer(path.name, ok, detail, ms, answer))
            test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}
            answer, ms = emulator.invoke(test_event)
            ok = isinstance(answer, dict) and answer.get("status") == "test-event"
            report.answers.append(Answer("s3:TestEvent", ok, f"answered {answer}", ms, answer))
            for name, event in UNSUPPORTED_EVENTS.items():
                answer, ms = emulator.invoke(event)
                ok, detail = check_rejected(answer)
                report.answers.append(Answer(f"unsupported: {name}", ok, detail, ms, answer))
            log = report.log = emulator.log()
            report.init_ms = init_duration_ms(log)
            for answer, duration in zip(report.answers, report_durations(log), strict=False):
                answer.duration_ms = duration
            report.answers.append(Answer("log context", *check_log_context(log)))
            if "Traceback" in log and not re.search(ALLOWED_ERROR, log):
                report.answers.append(Answer("runtime log", False, log[-2000:]))
        finally:
            if emulator is not None:
                emulator.stop()
            server.stop()
    return report


def cold_starts(model: Path, starts: int, tracing: bool) -> list[float]:
    """INIT durations of `starts` fresh execution environments (one health request each)."""
    user = unprivileged_user()
    python = function_python(user)
    env = {"POWERTOOLS_METRICS_DISABLED": "true"}
    if tracing:
        # X-Ray active, as Lambda sets it for Tracing: Active (the segments go nowhere).
        env |= {
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        }
    health = json.loads((EVENTS / "api-health.json").read_text())
    inits = []
    with task_root(model) as (base, task, runtime):
        for k in range(starts):
            emulator = Emulator(task, runtime, python, user, env, base / f"cold-{k}.log")
            try:
                answer, _ = emulator.invoke(health)
                if not (isinstance(answer, dict) and answer.get("statusCode") == 200):
                    raise RieError(f"health request failed under RIE: {answer}")
                init = init_duration_ms(emulator.log())
                if init is None:
                    raise RieError(f"no INIT figure in the runtime's log: {emulator.log()[-1000:]}")
                inits.append(init)
            finally:
                emulator.stop()
    return inits


def function_environment(task: Path, runtime: Path, env: dict) -> dict[str, str]:
    """The function's environment: the image's ENV lines, the template's and
    Lambda's variables, then `env` (a None value removes a variable)."""
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(task.parent),
        "LAMBDA_TASK_ROOT": str(task),
        "LAMBDA_RUNTIME_DIR": str(runtime),
        "PYTHONPATH": f"{task}:{runtime}",
        "PYTHONDONTWRITEBYTECODE": "1",
        **image_environment(),
        **FUNCTION_ENV,
        **env,
    }
    return {k: v for k, v in environment.items() if v is not None}


# What init imports, in order; each step's time excludes what earlier steps loaded.
IMPORT_STEPS = (
    ("runtime client", "awslambdaric.bootstrap"),
    ("numpy", "numpy"),
    ("onnxruntime", "onnxruntime"),
    ("handler modules + model load", "lambda_fn.app"),
)


def import_times(model: Path, starts: int, unset: tuple[str, ...] = ()) -> dict[str, list[float]]:
    """Milliseconds of each IMPORT_STEPS import in `starts` fresh processes, as
    the function's user, in the task root, with the function's environment."""
    user = unprivileged_user()
    python = function_python(user)
    code = "import time, json\nt = [time.perf_counter()]\n"
    for _, module in IMPORT_STEPS:
        code += f"import {module}\nt.append(time.perf_counter())\n"
    code += "print(json.dumps([(b - a) * 1000 for a, b in zip(t, t[1:])]))\n"
    times: dict[str, list[float]] = {name: [] for name, _ in IMPORT_STEPS}
    with task_root(model) as (base, task, runtime):
        env = function_environment(task, runtime, dict.fromkeys(unset))
        for _ in range(starts):
            run = subprocess.run(
                python_as(user, python, "-c", code),
                cwd=task,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if run.returncode != 0:
                raise RieError(f"importing the handler failed: {run.stderr[-1500:]}")
            for (name, _), ms in zip(IMPORT_STEPS, json.loads(run.stdout), strict=True):
                times[name].append(ms)
    return times


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=ROOT / "artifacts" / "model.onnx")
    p.add_argument("--data", type=Path, default=ROOT / "data" / "marketing_data.csv")
    p.add_argument("--target", default="y")
    p.add_argument("--rows", type=int, default=200)
    p.add_argument("--json", type=Path, help="also write the checks as JSON here")
    p.add_argument(
        "--cold-starts",
        type=int,
        metavar="N",
        help="instead of the checks: INIT of N fresh starts, tracing on and off (medians)",
    )
    p.add_argument(
        "--import-times",
        type=int,
        metavar="N",
        help="instead of the checks: where init goes, import by import (medians of N processes)",
    )
    p.add_argument(
        "--unset",
        action="append",
        default=[],
        metavar="NAME",
        help="with --import-times: without this variable of the image's environment",
    )
    args = p.parse_args(argv)
    if not args.model.exists():
        print(f"error: no model at {args.model}; run `make export` first", file=sys.stderr)
        return 2
    if args.import_times:
        import statistics

        try:
            times = import_times(args.model, args.import_times, tuple(args.unset))
        except RieError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        without = f", without {', '.join(args.unset)}" if args.unset else ""
        print(f"imports as the function's user, median of {args.import_times} processes{without}:")
        for name, ms in times.items():
            print(f"  {name:30} {statistics.median(ms):6.1f} ms (min {min(ms):.1f})")
        total = [sum(step) for step in zip(*times.values(), strict=True)]
        print(f"  {'total':30} {statistics.median(total):6.1f} ms")
        return 0
    if args.cold_starts:
        import statistics

        for tracing in (True, False):
            try:
                inits = cold_starts(args.model, args.cold_starts, tracing)
            except RieError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            print(
                f"INIT under RIE, tracing {'on ' if tracing else 'off'}: median "
                f"{statistics.median(inits):.0f} ms of {len(inits)} starts "
                f"(min {min(inits):.0f}, max {max(inits):.0f})"
            )
        return 0
    try:
        report = run(args.model, args.data, args.target, args.rows)
    except RieError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"aws-lambda-rie as user {report.user!r}, {report.python}; init {report.init_ms} ms")
    for a in report.answers:
        ms = f"{a.duration_ms:8.1f} ms" if a.duration_ms is not None else " " * 11
        print(f"  {'ok  ' if a.ok else 'FAIL'} {ms}  {a.name}: {a.detail}")
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    failed = [a.name for a in report.answers if not a.ok]
    if failed:
        print(f"error: {len(failed)} check(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all {len(report.answers)} checks passed under the real runtime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
