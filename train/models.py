"""The learner zoo: every learner here exports to ONNX within the parity bar.

k-nearest neighbours was removed: its ONNX graph ranks neighbours by float32
distances, so ties and near-ties among the k nearest pick different
neighbours than scikit-learn's float64 search (probability gaps up to 0.4 on
test rows; see docs/export.md).

Each learner says whether it needs scaled inputs (trees get raw numbers so
float32 inference makes the same splits as training) and how it reweights
classes for the `class_weight` strategy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sklearn.ensemble import AdaBoostClassifier, GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

# How a learner honours the class_weight strategy:
PARAM = "param"  # a constructor argument (class_weight / scale_pos_weight)
SAMPLE_WEIGHT = "sample_weight"  # balanced sample weights passed to fit
UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Learner:
    name: str
    description: str
    build: Callable[[int, bool, float], object]  # (seed, weighted, neg/pos ratio)
    scaled: bool
    weighting: str
    default: bool = True


def _logreg(seed, weighted, ratio):
    return LogisticRegression(
        C=1.0, max_iter=2000, class_weight="balanced" if weighted else None, random_state=seed
    )


def _rf(seed, weighted, ratio):
    return RandomForestClassifier(
        n_estimators=300,
        min_samples_leaf=3,
        max_features="sqrt",
        class_weight="balanced_subsample" if weighted else None,
        n_jobs=-1,
        random_state=seed,
    )


def _gb(seed, weighted, ratio):
    return GradientBoostingClassifier(
        n_estimators=200, learning_rate=0.1, max_depth=3, subsample=0.8, random_state=seed
    )


def _xgboost(seed, weighted, ratio):
    from xgboost import XGBClassifier

    # Many shallow trees with a small learning rate: the best CV ROC AUC of the
    # five settings in scripts/xgboost_settings.py; all five are within noise on
    # PR AUC, and this one costs the most to serve (docs/xgboost-settings.md).
    return XGBClassifier(
        n_estimators=1000,
        learning_rate=0.02,
        max_depth=4,
        min_child_weight=5,
        subsample=0.8,
        colsample_bytree=0.6,
        tree_method="hist",
        scale_pos_weight=ratio if weighted else 1.0,
        eval_metric="logloss",
        n_jobs=-1,
        random_state=seed,
    )


def _keras(seed, weighted, ratio):
    from train.keras_model import KerasMLPClassifier

    return KerasMLPClassifier(class_weight="balanced" if weighted else None, random_state=seed)


def _tree(seed, weighted, ratio):
    return DecisionTreeClassifier(
        max_depth=6,
        min_samples_leaf=20,
        class_weight="balanced" if weighted else None,
        random_state=seed,
    )


def _adaboost(seed, weighted, ratio):
    return AdaBoostClassifier(n_estimators=200, learning_rate=0.5, random_state=seed)


def _nb(seed, weighted, ratio):
    return GaussianNB()


def _svm(seed, weighted, ratio):
    return SVC(
        C=1.0,
        kernel="rbf",
        probability=True,
        class_weight="balanced" if weighted else None,
        random_state=seed,
    )


def _lightgbm(seed, weighted, ratio):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(
        n_estimators=400,
        learning_rate=0.05,
        num_leaves=31,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        class_weight="balanced" if weighted else None,
        random_state=seed,
        n_jobs=-1,
        verbose=-1,
    )


LEARNERS: dict[str, Learner] = {
    learner.name: learner
    for learner in [
        Learner("logreg", "logistic regression", _logreg, True, PARAM),
        Learner("rf", "random forest", _rf, False, PARAM),
        Learner("gb", "gradient boosting (scikit-learn)", _gb, False, SAMPLE_WEIGHT),
        Learner("xgboost", "XGBoost", _xgboost, False, PARAM),
        Learner("keras", "fully connected Keras network", _keras, True, PARAM),
        Learner("tree", "decision tree", _tree, False, PARAM, default=False),
        Learner("adaboost", "AdaBoost", _adaboost, False, SAMPLE_WEIGHT, default=False),
        Learner("nb", "Gaussian naive Bayes", _nb, True, SAMPLE_WEIGHT, default=False),
        Learner("svm", "SVM (RBF) with probabilities", _svm, True, PARAM, default=False),
        Learner("lightgbm", "LightGBM", _lightgbm, False, PARAM, default=False),
    ]
}
DEFAULT_LEARNERS = [name for name, learner in LEARNERS.items() if learner.default]
