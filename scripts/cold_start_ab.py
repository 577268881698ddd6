"""INIT under the real runtime of this checkout's lambda_fn/ against a git revision's,
side by side: fresh starts alternate between the two, so a busy machine slows both
alike. As invoke_rie.py: RIE + awslambdaric as a non-root user, tracing on.

    python scripts/cold_start_ab.py --before main --model artifacts/model.onnx --starts 5
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts import invoke_rie  # noqa: E402
from scripts.invoke_rie import (  # noqa: E402
    EVENTS,
    Emulator,
    RieError,
    function_python,
    init_duration_ms,
    task_root,
    unprivileged_user,
)

# The imports of this checkout's init, in order (invoke_rie.py's list still has
# Powertools, which the handler no longer imports).
STEPS = (
    ("runtime client", "awslambdaric.bootstrap"),
    ("numpy", "numpy"),
    ("onnxruntime", "onnxruntime"),
    ("logs and metrics (telemetry)", "lambda_fn.telemetry"),
    ("handler modules + model load", "lambda_fn.app"),
)
TRACING = {"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}


def swap_in(task: Path, revision: str) -> None:
    """Replace the task root's lambda_fn/ by the revision's, compiled as the image does."""
    archive = subprocess.run(
        ["git", "archive", revision, "lambda_fn"],  # noqa: S607
        cwd=ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    shutil.rmtree(task / "lambda_fn")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(task, filter="data")
    (task / "lambda_fn" / "model.onnx").unlink(missing_ok=True)
    shutil.copyfile(
        task.parent / "task" / "lambda_fn" / "model.onnx", task / "lambda_fn" / "model.onnx"
    )
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(task / "lambda_fn")], check=True)
    for path in [task, *task.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def compare(model: Path, before: str, starts: int) -> dict[str, list[float]]:
    user = unprivileged_user()
    python = function_python(user)
    env = {"POWERTOOLS_METRICS_DISABLED": "true", **TRACING}
    health = json.loads((EVENTS / "api-health.json").read_text())
    inits: dict[str, list[float]] = {before: [], "this checkout": []}
    with task_root(model) as (base, task, runtime):
        old = base / "task-before"
        shutil.copytree(task, old, symlinks=True)
        swap_in(old, before)
        for k in range(starts):
            for name, folder in ((before, old), ("this checkout", task)):
                emulator = Emulator(
                    folder, runtime, python, user, env, base / f"{k}-{folder.name}.log"
                )
                try:
                    answer, _ = emulator.invoke(health)
                    if not (isinstance(answer, dict) and answer.get("statusCode") == 200):
                        raise RieError(f"health request failed ({name}): {answer}")
                    init = init_duration_ms(emulator.log())
                    if init is None:
                        raise RieError(f"no INIT figure ({name}): {emulator.log()[-1000:]}")
                    inits[name].append(init)
                finally:
                    emulator.stop()
    return inits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git revision to compare with")
    parser.add_argument("--model", type=Path, default=ROOT / "artifacts" / "model.onnx")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument(
        "--imports",
        type=int,
        metavar="N",
        help="also: this checkout's "
        "imports one by one, as the function's user (medians of N processes)",
    )
    args = parser.parse_args(argv)
    if not args.model.is_file():
        print(f"error: no model at {args.model}; run `make export` first", file=sys.stderr)
        return 2
    try:
        inits = compare(args.model, args.before, args.starts)
    except (RieError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"INIT under RIE as a non-root user, tracing on, {args.starts} alternating fresh starts:")
    for name, values in inits.items():
        print(
            f"  {name:15} median {statistics.median(values):6.1f} ms "
            f"(min {min(values):.1f}, max {max(values):.1f})"
        )
    if args.imports:
        invoke_rie.IMPORT_STEPS = STEPS
        times = invoke_rie.import_times(args.model, args.imports)
        print(f"this checkout's imports as the function's user, median of {args.imports}:")
        for name, values in times.items():
            print(f"  {name:30} {statistics.median(values):6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
