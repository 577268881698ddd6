"""Path (Saabas) contributions of a fitted tree ensemble, per leaf.

Every tree is read from its library into one shape (children, split feature,
leaf value, cover). A node's expected value is the cover-weighted mean of the
leaves below it, as XGBoost's `approx_contribs` computes it. Walking from the
root to a leaf, each split moves the expected value from the node's to the
child's; that change is credited to the split's feature. So each leaf holds a
fixed vector of per-feature deltas, and a row's contributions are the sum of
its leaves' vectors: they add up, with the base value (the expected output
over the training data), to the row's margin exactly.

This is not TreeSHAP: a feature's credit depends on where in the tree it is
split (features split near the root get more), and a feature the row's path
never tests gets nothing even when the model uses it elsewhere.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

MARGIN = "margin"  # trees add up to log-odds (boosters)
PROBABILITY = "probability"  # trees average probabilities (forests)


EXPLAINED = (
    "tree ensembles (XGBoost, LightGBM, random forest, gradient boosting, a decision tree) "
    "and logistic regression"
)


class Unexplained(Exception):
    """This model's contributions cannot be computed here; the message says why."""


@dataclass
class Tree:
    """One tree: node k is a leaf when left[k] < 0."""

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    value: np.ndarray  # leaf values (internal nodes: ignored)
    cover: np.ndarray
    root: int = 0

    def means(self) -> np.ndarray:
        """Each node's expected value: its children's means weighted by their cover."""
        mean = self.value.astype(np.float64).copy()

        def fill(k: int) -> float:
            if self.left[k] < 0:
                return mean[k]
            lo, hi = self.left[k], self.right[k]
            total = fill(lo) * self.cover[lo] + fill(hi) * self.cover[hi]
            mean[k] = total / self.cover[k] if self.cover[k] > 0 else 0.0
            return mean[k]

        fill(self.root)
        return mean

    def leaf_deltas(self) -> dict[int, dict[int, float]]:
        """leaf node -> {feature index: change of the expected value on its path}."""
        mean = self.means()
        out: dict[int, dict[int, float]] = {}
        stack = [(self.root, {})]
        while stack:
            k, deltas = stack.pop()
            if self.left[k] < 0:
                out[k] = deltas
                continue
            f = int(self.feature[k])
            for child in (self.left[k], self.right[k]):
                step = dict(deltas)
                step[f] = step.get(f, 0.0) + mean[child] - mean[k]
                stack.append((int(child), step))
        return out


@dataclass
class PathTrees:
    """An ensemble's trees and how they combine: output = offset + weight * sum of leaves."""

    trees: list[Tree]
    weight: float
    offset: float
    scale: str  # MARGIN or PROBABILITY
    leaves: object  # X_enc -> [N, trees] node index of each row's leaf, by the library itself

    def base(self) -> float:
        return self.offset + self.weight * sum(t.means()[t.root] for t in self.trees)

    def tables(self, n_features: int) -> list[dict[int, np.ndarray]]:
        """Per tree: leaf node -> dense delta vector over the encoded features, weighted."""
        out = []
        for tree in self.trees:
            table = {}
            for leaf, deltas in tree.leaf_deltas().items():
                vec = np.zeros(n_features)
                for f, d in deltas.items():
                    vec[f] += d * self.weight
                table[leaf] = vec
            out.append(table)
        return out


def _sklearn_tree(t, value: np.ndarray) -> Tree:
    return Tree(
        t.children_left.astype(np.int64),
        t.children_right.astype(np.int64),
        t.feature.astype(np.int64),
        value,
        t.weighted_n_node_samples.astype(np.float64),
    )


def _forest(estimator) -> PathTrees:
    from sklearn.tree import DecisionTreeClassifier

    estimators = [estimator] if isinstance(estimator, DecisionTreeClassifier) else []
    estimators = estimators or list(estimator.estimators_)
    trees = []
    for est in estimators:
        v = est.tree_.value[:, 0, :]
        trees.append(_sklearn_tree(est.tree_, v[:, 1] / np.maximum(v.sum(axis=1), 1e-300)))

    def leaves(X):
        X = np.asarray(X, dtype=np.float32)
        return np.column_stack([e.apply(X) for e in estimators])

    return PathTrees(trees, 1.0 / len(trees), 0.0, PROBABILITY, leaves)


def _sklearn_boosting(estimator) -> PathTrees:
    regressors = [row[0] for row in estimator.estimators_]
    trees = [_sklearn_tree(r.tree_, r.tree_.value[:, 0, 0].copy()) for r in regressors]
    lr = float(estimator.learning_rate)

    def leaves(X):
        return estimator.apply(np.asarray(X, dtype=np.float32))[:, :, 0].astype(np.int64)

    # The initial raw score: the decision function of any row minus its trees.
    probe = np.zeros((1, estimator.n_features_in_), dtype=np.float32)
    trees_sum = sum(r.predict(probe)[0] for r in regressors) * lr
    offset = float(estimator.decision_function(probe)[0] - trees_sum)
    return PathTrees(trees, lr, offset, MARGIN, leaves)


def _xgboost(estimator) -> PathTrees:
    import xgboost

    booster = estimator.get_booster()
    config = json.loads(booster.save_config())
    objective = config["learner"]["objective"]["name"]
    if objective != "binary:logistic":
        raise Unexplained(f"XGBoost objective {objective} is not explained (binary:logistic is)")
    base_score = float(config["learner"]["learner_model_param"]["base_score"].strip("[]"))
    frame = booster.trees_to_dataframe()
    trees = []
    for _, rows in frame.groupby("Tree", sort=True):
        n = int(rows["Node"].max()) + 1
        left, right = np.full(n, -1), np.full(n, -1)
        feature, value, cover = np.zeros(n, np.int64), np.zeros(n), np.zeros(n)
        for row in rows.itertuples(index=False):
            k = int(row.Node)
            cover[k] = row.Cover
            if row.Feature == "Leaf":
                value[k] = row.Gain
                continue
            left[k] = int(row.Yes.split("-")[1])
            right[k] = int(row.No.split("-")[1])
            feature[k] = int(str(row.Feature).lstrip("f"))
        trees.append(Tree(left, right, feature, value, cover))

    def leaves(X):
        data = xgboost.DMatrix(np.asarray(X, dtype=np.float32))
        return booster.predict(data, pred_leaf=True).astype(np.int64).reshape(len(X), -1)

    return PathTrees(trees, 1.0, math.log(base_score / (1 - base_score)), MARGIN, leaves)


def _lightgbm_tree(structure: dict) -> tuple[Tree, dict[int, int]]:
    """One tree of LightGBM's dump_model, and its leaf_index -> node map.
    Cover: the leaves' and nodes' sum of hessians (LightGBM's "weight")."""
    cols: dict[str, list] = {k: [] for k in ("left", "right", "feature", "value", "cover")}
    by_leaf: dict[int, int] = {}

    def add(node) -> int:
        k = len(cols["left"])
        for seq in cols.values():
            seq.append(0)
        if "leaf_value" in node:
            cols["left"][k] = cols["right"][k] = -1
            cols["value"][k] = node["leaf_value"]
            cols["cover"][k] = node.get("leaf_weight", 0.0)
            by_leaf[node.get("leaf_index", 0)] = k
            return k
        cols["feature"][k] = node["split_feature"]
        cols["cover"][k] = node["internal_weight"]
        cols["left"][k] = add(node["left_child"])
        cols["right"][k] = add(node["right_child"])
        return k

    add(structure)
    return Tree(
        *(np.asarray(cols[k]) for k in ("left", "right", "feature", "value", "cover"))
    ), by_leaf


def _lightgbm(estimator) -> PathTrees:
    booster = estimator.booster_
    dump = booster.dump_model()
    if dump.get("objective", "binary").split()[0] != "binary":
        raise Unexplained(f"LightGBM objective {dump.get('objective')} is not explained")
    trees, leaf_maps = [], []
    for info in dump["tree_info"]:
        tree, by_leaf = _lightgbm_tree(info["tree_structure"])
        trees.append(tree)
        leaf_maps.append(by_leaf)

    def leaves(X):
        index = booster.predict(np.asarray(X), pred_leaf=True).reshape(len(X), -1)
        return np.column_stack(
            [np.vectorize(m.__getitem__)(index[:, t]) for t, m in enumerate(leaf_maps)]
        ).astype(np.int64)

    return PathTrees(trees, 1.0, 0.0, MARGIN, leaves)


def path_trees(estimator) -> PathTrees:
    """The estimator's trees, or Unexplained when it is not a supported tree ensemble."""
    kind = type(estimator).__name__
    readers = {
        "RandomForestClassifier": _forest,
        "ExtraTreesClassifier": _forest,
        "DecisionTreeClassifier": _forest,
        "GradientBoostingClassifier": _sklearn_boosting,
        "XGBClassifier": _xgboost,
        "LGBMClassifier": _lightgbm,
    }
    if kind not in readers:
        raise Unexplained(f"{kind}: only {EXPLAINED} are explained")
    return readers[kind](estimator)


def onnx_leaves(node) -> dict[int, dict[int, int]]:
    """treeid -> {ONNX node id -> position}, for the ONNX tree node's attributes."""
    from onnx import helper

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    out: dict[int, dict[int, int]] = {}
    for pos, (t, n) in enumerate(zip(attrs["nodes_treeids"], attrs["nodes_nodeids"], strict=True)):
        out.setdefault(int(t), {})[int(n)] = pos
    return out


def match_leaves(node, trees: list[Tree]) -> list[dict[int, int]]:
    """For each tree: ONNX leaf node id -> the model's leaf node, by walking the
    ONNX tree and the model's tree side by side (true branch = left child).

    Raises Unexplained when the two disagree on the shape or a split feature."""
    from onnx import helper

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    modes = [m.decode() if isinstance(m, bytes) else m for m in attrs["nodes_modes"]]
    positions = onnx_leaves(node)
    if len(positions) != len(trees):
        raise Unexplained(f"the graph has {len(positions)} trees, the model {len(trees)}")
    out = []
    for (treeid, where), tree in zip(sorted(positions.items()), trees, strict=True):
        children = set()
        for pos in where.values():
            if modes[pos] != "LEAF":
                children.update((attrs["nodes_truenodeids"][pos], attrs["nodes_falsenodeids"][pos]))
        roots = [n for n in where if n not in children]
        if len(roots) != 1:
            raise Unexplained(f"tree {treeid} of the graph has {len(roots)} roots")
        mapping: dict[int, int] = {}
        stack = [(roots[0], tree.root)]
        while stack:
            onnx_id, k = stack.pop()
            pos = where[onnx_id]
            if (modes[pos] == "LEAF") != (tree.left[k] < 0):
                raise Unexplained(f"tree {treeid}: graph and model differ in shape")
            if modes[pos] == "LEAF":
                mapping[onnx_id] = k
                continue
            if attrs["nodes_featureids"][pos] != tree.feature[k]:
                raise Unexplained(f"tree {treeid}: graph and model split different features")
            stack.append((attrs["nodes_truenodeids"][pos], int(tree.left[k])))
            stack.append((attrs["nodes_falsenodeids"][pos], int(tree.right[k])))
        out.append(mapping)
    return out
