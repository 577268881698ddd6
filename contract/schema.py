"""The feature schema: the one definition both training and serving read.

Training writes it into the run folder and export copies it into the ONNX
graph's metadata; serving reads it back from there. Standard library only, so
the Lambda image can import it without the training stack, and so the two
sides can never disagree on the format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from contract.cells import MISSING_CATEGORY
from contract.kinds import BOOLEAN, DATE, NUMBER_TEXT, PARSED_KINDS

# v2 adds the kinds read from text (date, boolean, number_text) with their
# `format`. A schema without them is still written as v1, so older readers
# keep reading it; both are read here.
SCHEMA_FORMAT_V1 = "imbalanced-onnx/schema-v1"
SCHEMA_FORMAT = "imbalanced-onnx/schema-v2"
NUMERIC = "numeric"
CATEGORICAL = "categorical"
KINDS = (NUMERIC, CATEGORICAL, DATE, BOOLEAN, NUMBER_TEXT)


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str
    missing_allowed: bool = True
    categories: tuple[str, ...] = ()
    format: str = ""  # how a date, boolean or number-as-text column is written
    encoding: str = ""  # how training encoded a categorical (informational)

    @property
    def input_kind(self) -> str:
        """The graph input's kind: every kind read from text enters as a float32 number."""
        return NUMERIC if self.kind in PARSED_KINDS else self.kind

    def to_dict(self) -> dict:
        out = {"name": self.name, "kind": self.kind, "missing_allowed": self.missing_allowed}
        if self.kind == CATEGORICAL:
            out["categories"] = list(self.categories)
        if self.format:
            out["format"] = self.format
        if self.encoding:
            out["encoding"] = self.encoding
        return out


@dataclass(frozen=True)
class Schema:
    """Raw input columns of the model, plus the original label values."""

    features: tuple[Feature, ...]
    target: str
    negative_label: str
    positive_label: str
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def numeric(self) -> list[str]:
        """Every feature the graph takes as float32, the parsed kinds included."""
        return [f.name for f in self.features if f.input_kind == NUMERIC]

    @property
    def categorical(self) -> list[str]:
        return [f.name for f in self.features if f.kind == CATEGORICAL]

    def to_dict(self) -> dict:
        parsed = any(f.kind in PARSED_KINDS for f in self.features)
        return {
            "format": SCHEMA_FORMAT if parsed else SCHEMA_FORMAT_V1,
            "target": self.target,
            "labels": {"negative": self.negative_label, "positive": self.positive_label},
            "features": [f.to_dict() for f in self.features],
            "dropped": dict(self.dropped),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict) -> Schema:
        if not isinstance(data, dict) or data.get("format") not in (
            SCHEMA_FORMAT,
            SCHEMA_FORMAT_V1,
        ):
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"unsupported schema format {found!r}, expected {SCHEMA_FORMAT!r}")
        features = []
        for raw in data["features"]:
            if raw["kind"] not in KINDS:
                raise ValueError(f"feature {raw['name']!r} has unknown kind {raw['kind']!r}")
            features.append(
                Feature(
                    name=raw["name"],
                    kind=raw["kind"],
                    missing_allowed=bool(raw.get("missing_allowed", True)),
                    categories=tuple(raw.get("categories", ())),
                    format=str(raw.get("format", "")),
                    encoding=str(raw.get("encoding", "")),
                )
            )
        return cls(
            features=tuple(features),
            target=data["target"],
            negative_label=data["labels"]["negative"],
            positive_label=data["labels"]["positive"],
            dropped=dict(data.get("dropped", {})),
        )

    @classmethod
    def from_json(cls, text: str) -> Schema:
        return cls.from_dict(json.loads(text))

    def example_record(self) -> dict:
        """A record that passes validation: the first category, zero for numbers."""
        record: dict = {}
        for f in self.features:
            if f.kind == DATE:
                record[f.name] = _date_example(f.format)
            elif f.kind == BOOLEAN:
                record[f.name] = True
            elif f.input_kind == NUMERIC:
                record[f.name] = 0.0
            else:
                seen = [c for c in f.categories if c != MISSING_CATEGORY]
                record[f.name] = seen[0] if seen else "unknown"
        return record


def _date_example(fmt: str):
    """1970-01-01 written in the trained format (a number for epoch seconds)."""
    from datetime import date

    if fmt == "epoch":
        return 0
    return "1970-01-01T00:00:00Z" if fmt == "iso8601" else date(1970, 1, 1).strftime(fmt)
