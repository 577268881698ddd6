"""The run-folder files some sections draw on, each read only if it is there.

A search that writes no `trials.csv` or `ensemble.json`, or a leaderboard
without cost columns, gets a report without those sections. A file that is
there but malformed is a bug upstream: it stops the report with an error that
names the file and the field, rather than rendering something wrong.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

TRIALS_FILE = "trials.csv"
ENSEMBLE_FILE = "ensemble.json"
LEADERBOARD_FILE = "leaderboard.csv"
TRIAL_COLUMNS = ("trial", "elapsed_seconds", "learner", "sampler", "score", "best_so_far", "state")
COST_COLUMNS = ("onnx_bytes", "us_per_row")
MEMBER_FIELDS = {"name": str, "learner": str, "sampler": str, "weight": float}


class RunFileError(ValueError):
    """A run-folder file the report reads is malformed."""


def _csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RunFileError(f"{path}: not a readable CSV ({exc})") from exc


def _require(frame: pd.DataFrame, path: Path, columns) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RunFileError(f"{path}: missing column(s) {', '.join(missing)}")


def _numeric(frame: pd.DataFrame, path: Path, columns) -> None:
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0]) + 2  # header is line 1
            raise RunFileError(
                f"{path}: line {row}, column {column}: {frame[column][bad].iloc[0]!r} "
                "is not a number"
            )
        frame[column] = values


def trials(folder: Path) -> pd.DataFrame | None:
    """The search's trials in the order they finished."""
    path = Path(folder) / TRIALS_FILE
    if not path.exists():
        return None
    frame = _csv(path)
    _require(frame, path, TRIAL_COLUMNS)
    _numeric(frame, path, ("trial", "elapsed_seconds", "score", "best_so_far"))
    if frame.empty:
        return None
    frame["learner"] = frame["learner"].astype(str)
    frame["state"] = frame["state"].astype(str)
    return frame.sort_values("elapsed_seconds", kind="mergesort").reset_index(drop=True)


def ensemble(folder: Path) -> dict | None:
    """The ensemble the search built (chosen or not), with its members."""
    path = Path(folder) / ENSEMBLE_FILE
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunFileError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise RunFileError(f"{path}: expected an object at the top level")
    if doc.get("cv_score") is None and doc.get("members") == [] and doc.get("chosen") is False:
        return None  # the search formed no ensemble (too few candidates): no section
    for key, kind in (
        ("chosen", bool),
        ("cv_score", float),
        ("single_best_cv_score", float),
        ("metric", str),
        ("members", list),
    ):
        value = doc.get(key)
        ok = isinstance(value, kind) or (
            kind is float and isinstance(value, int) and not isinstance(value, bool)
        )
        if not ok:
            raise RunFileError(f"{path}: field {key!r} must be a {kind.__name__}, got {value!r}")
    for k, member in enumerate(doc["members"]):
        for key, kind in MEMBER_FIELDS.items():
            value = member.get(key) if isinstance(member, dict) else None
            ok = isinstance(value, kind) or (
                kind is float and isinstance(value, int) and not isinstance(value, bool)
            )
            if kind is float and ok and not math.isfinite(value):
                ok = False
            if not ok:
                raise RunFileError(
                    f"{path}: members[{k}].{key} must be a {kind.__name__}, got {value!r}"
                )
    if not doc["members"]:
        raise RunFileError(f"{path}: 'members' is empty")
    return doc


def leaderboard(folder: Path) -> pd.DataFrame | None:
    """leaderboard.csv as written; cost columns, when there, made numeric."""
    path = Path(folder) / LEADERBOARD_FILE
    if not path.exists():
        return None
    frame = _csv(path)
    _require(frame, path, ("learner", "strategy", "selected", "error"))
    frame["error"] = frame["error"].fillna("").astype(str)
    frame["selected"] = frame["selected"].astype(str).str.lower().eq("true")
    numeric = [c for c in frame.columns if c.endswith(("_mean", "_std")) or c in COST_COLUMNS]
    _numeric(frame, path, numeric)
    return frame


def has_costs(frame: pd.DataFrame | None, metric: str) -> bool:
    """Whether the leaderboard can draw the cost-against-quality plot."""
    if frame is None or any(c not in frame.columns for c in (*COST_COLUMNS, f"{metric}_mean")):
        return False
    usable = frame[[*COST_COLUMNS, f"{metric}_mean"]].notna().all(axis=1)
    return bool(usable.any())
