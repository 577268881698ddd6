"""Section 4: deployment size, the installed bytes of each stack's dependency
closure plus its model file."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from bench.machine import ROOT

MB = 1e6
# What would serve the same models without ONNX: the trained pipeline's stack,
# plus the AWS pieces the function uses either way.
PIPELINE_STACK = ["pandas", "scikit-learn", "imbalanced-learn", "xgboost-cpu", "joblib"]
KERAS_STACK = ["pandas", "scikit-learn", "imbalanced-learn", "tensorflow-cpu", "keras", "joblib"]
AWS = ["boto3", "aws-lambda-powertools"]


def requirement_names(path: Path) -> list[str]:
    """Distribution names in a requirements file, leaving out lines for other platforms."""
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            if ";" in line and "linux" not in line.split(";")[1] and "sys_platform" in line:
                continue
            names.append(re.split(r"[=<>!~\[; ]", line)[0])
    return names


def closure(names: list[str]) -> dict[str, int]:
    """Installed bytes of each distribution in the dependency closure."""
    seen: dict[str, int] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        size = 0
        for f in dist.files or []:
            path = Path(f.locate())
            if path.is_file():
                size += path.stat().st_size
        seen[key] = size
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            todo.append(re.split(r"[=<>!~\[; (]", req)[0])
    return seen


def deployment_size(run: Path, keras_run: Path | None) -> dict:
    serving = closure(requirement_names(ROOT / "lambda_fn" / "requirements.txt"))
    model_mb = (run / "model.onnx").stat().st_size / MB
    keras_model_mb = (keras_run / "model.joblib").stat().st_size / MB if keras_run else 0.0
    return {
        "serving_mb": sum(serving.values()) / MB + model_mb,
        "serving_packages": len(serving),
        "model_onnx_mb": model_mb,
        "pipeline_xgboost_stack_mb": sum(closure(PIPELINE_STACK + AWS).values()) / MB
        + (run / "model.joblib").stat().st_size / MB,
        "pipeline_keras_stack_mb": sum(closure(KERAS_STACK + AWS).values()) / MB + keras_model_mb,
        "largest_serving_packages_mb": {
            k: round(v / MB, 1) for k, v in sorted(serving.items(), key=lambda kv: -kv[1])[:5]
        },
    }


def markdown(z: dict) -> list[str]:
    return [
        "## 4. Deployment size",
        "",
        "Installed bytes of each dependency closure, read from the installed",
        "packages' file lists, plus the model file.",
        "",
        "| stack | MB |",
        "|---|---|",
        f"| `lambda_fn/requirements.txt` + `model.onnx` ({z['model_onnx_mb']:.1f} MB) | "
        f"{z['serving_mb']:.0f} |",
        f"| pandas + scikit-learn + imbalanced-learn + XGBoost (+ boto3, Powertools) + "
        f"pipeline | {z['pipeline_xgboost_stack_mb']:.0f} |",
        f"| the same with TensorFlow + Keras, to serve the network | "
        f"{z['pipeline_keras_stack_mb']:.0f} |",
        "",
        f"Largest serving packages (MB): {z['largest_serving_packages_mb']}.",
        "",
    ]
