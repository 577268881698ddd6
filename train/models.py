"""The learner zoo: every learner here exports to ONNX within the parity bar.

Each learner says whether it needs scaled inputs (trees get raw numbers so
float32 inference makes the same splits as training), how it reweights
classes for the `class_weight` strategy, its search space (the ranges the
search tunes, chosen to regularise: depth, leaf size, subsampling, L1/L2,
learning rate with rounds set by early stopping) and, for boosters, how it
fits with early stopping. `build(..., params=None)` gives the learner's
untuned defaults, which the search tries first.
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
# Boosters grow up to this many rounds; early stopping on an inner validation
# part of each training fold picks the number, and the refit uses it.
MAX_ROUNDS = 1000
EARLY_STOPPING_ROUNDS = 50
# Learners with `threaded=True` take their thread count from the search's
# `jobs` (`--jobs`, default 1): on a machine whose cores other work shares, a
# booster's threads wait for each other every round (docs/training.md).


@dataclass(frozen=True)
class Learner:
    name: str
    description: str
    build: Callable[..., object]  # (seed, weighted, neg/pos ratio, params=None)
    scaled: bool
    weighting: str
    default: bool = True
    space: Callable[[object], dict] | None = None  # optuna trial -> params
    # A booster's fit with an eval set (see fit_early below); the refit uses its rounds.
    fit_early: Callable[..., int | None] | None = None
    threaded: bool = False  # takes n_jobs (the search's `jobs`)
    start: dict | None = None  # the search's first trial (None: the defaults above)
    parallel_folds: bool = True  # CV folds may fit on threads side by side

    @property
    def early_stopping(self) -> bool:
        return self.fit_early is not None


# fit_early(model, X, y, X_val, y_val, w_val, stop, **fit_kw) fits a booster
# built with `early_stopping=True` on (X, y), stopping when its loss on the
# weighted validation part (X_val, y_val, w_val) stops improving, or as soon
# as `stop()` (when given) is true. Returns the rounds to keep, or None when
# `stop` cut the fit short before a best round was known.


def _xgboost_fit_early(model, X, y, X_val, y_val, w_val, stop, **fit_kw) -> int | None:
    from xgboost.callback import TrainingCallback

    class Stop(TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            return stop()

    if stop is not None:
        model.set_params(callbacks=[Stop()])
    model.fit(
        X, y, eval_set=[(X_val, y_val)], sample_weight_eval_set=[w_val], verbose=False, **fit_kw
    )
    model.set_params(callbacks=None)
    if stop is not None and stop():
        return None
    return int(model.best_iteration) + 1


def _lightgbm_fit_early(model, X, y, X_val, y_val, w_val, stop, **fit_kw) -> int:
    import lightgbm

    callbacks = [lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)]
    if stop is not None:

        def stop_now(env):
            if stop():
                raise lightgbm.callback.EarlyStopException(
                    env.iteration, env.evaluation_result_list
                )

        callbacks.append(stop_now)
    model.fit(
        X,
        y,
        eval_set=[(X_val, y_val)],
        eval_sample_weight=[w_val],
        callbacks=callbacks,
        **fit_kw,
    )
    return int(model.best_iteration_ or model.n_estimators)


def _logreg(seed, weighted, ratio, params=None):
    params = params or {}
    return LogisticRegression(
        C=params.get("C", 1.0),
        max_iter=2000,
        class_weight="balanced" if weighted else None,
        random_state=seed,
    )


def _logreg_space(trial):
    return {"C": trial.suggest_float("logreg.C", 1e-3, 10.0, log=True)}


def _rf(seed, weighted, ratio, params=None):
    params = params or {}
    return RandomForestClassifier(
        n_estimators=params.get("n_estimators", 300),
        min_samples_leaf=params.get("min_samples_leaf", 3),
        max_features=params.get("max_features", "sqrt"),
        max_depth=params.get("max_depth"),
        class_weight="balanced_subsample" if weighted else None,
        n_jobs=params.get("n_jobs", -1),
        random_state=seed,
    )


def _rf_space(trial):
    return {
        "n_estimators": 200,
        "min_samples_leaf": trial.suggest_int("rf.min_samples_leaf", 1, 50, log=True),
        "max_features": trial.suggest_float("rf.max_features", 0.1, 0.8),
        "max_depth": trial.suggest_int("rf.max_depth", 4, 24, log=True),
    }


def _gb(seed, weighted, ratio, params=None):
    params = params or {}
    return GradientBoostingClassifier(
        n_estimators=params.get("n_estimators", 200),
        learning_rate=params.get("learning_rate", 0.1),
        max_depth=params.get("max_depth", 3),
        min_samples_leaf=params.get("min_samples_leaf", 1),
        subsample=params.get("subsample", 0.8),
        random_state=seed,
    )


def _gb_space(trial):
    return {
        "n_estimators": trial.suggest_int("gb.n_estimators", 50, 400, log=True),
        "learning_rate": trial.suggest_float("gb.learning_rate", 0.02, 0.3, log=True),
        "max_depth": trial.suggest_int("gb.max_depth", 2, 6),
        "min_samples_leaf": trial.suggest_int("gb.min_samples_leaf", 1, 100, log=True),
        "subsample": trial.suggest_float("gb.subsample", 0.5, 1.0),
    }


def _xgboost(seed, weighted, ratio, params=None):
    from xgboost import XGBClassifier

    # Defaults (params=None): many shallow trees with a small learning rate,
    # chosen with scripts/xgboost_settings.py (docs/xgboost-settings.md); the
    # search tunes around them.
    params = dict(params or {})
    early = params.pop("early_stopping", False)
    settings = {
        "n_estimators": 1000,
        "learning_rate": 0.02,
        "max_depth": 4,
        "min_child_weight": 5,
        "subsample": 0.8,
        "colsample_bytree": 0.6,
        **params,
    }
    if early:
        settings["n_estimators"] = MAX_ROUNDS
        settings["early_stopping_rounds"] = EARLY_STOPPING_ROUNDS
    settings.setdefault("eval_metric", "logloss")
    settings.setdefault("n_jobs", -1)
    return XGBClassifier(
        **settings,
        tree_method="hist",
        scale_pos_weight=ratio if weighted else 1.0,
        random_state=seed,
    )


def _xgboost_space(trial):
    return {
        "learning_rate": trial.suggest_float("xgboost.learning_rate", 0.03, 0.3, log=True),
        "max_depth": trial.suggest_int("xgboost.max_depth", 2, 8),
        "min_child_weight": trial.suggest_float("xgboost.min_child_weight", 0.5, 50, log=True),
        "subsample": trial.suggest_float("xgboost.subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("xgboost.colsample_bytree", 0.3, 1.0),
        "reg_alpha": trial.suggest_float("xgboost.reg_alpha", 1e-4, 10.0, log=True),
        "reg_lambda": trial.suggest_float("xgboost.reg_lambda", 1e-3, 50.0, log=True),
    }


def _keras(seed, weighted, ratio, params=None):
    from train.keras_model import KerasMLPClassifier

    params = dict(params or {})
    width = params.pop("width", None)
    layers = params.pop("layers", None)
    if width is not None:
        params["hidden"] = tuple(max(4, width // (2**k)) for k in range(layers or 2))
    return KerasMLPClassifier(
        **params, class_weight="balanced" if weighted else None, random_state=seed
    )


def _keras_space(trial):
    return {
        "width": trial.suggest_int("keras.width", 16, 128, log=True),
        "layers": trial.suggest_int("keras.layers", 1, 2),
        "dropout": trial.suggest_float("keras.dropout", 0.0, 0.5),
        "learning_rate": trial.suggest_float("keras.learning_rate", 3e-4, 3e-3, log=True),
    }


def _tree(seed, weighted, ratio, params=None):
    params = params or {}
    return DecisionTreeClassifier(
        max_depth=params.get("max_depth", 6),
        min_samples_leaf=params.get("min_samples_leaf", 20),
        class_weight="balanced" if weighted else None,
        random_state=seed,
    )


def _tree_space(trial):
    return {
        "max_depth": trial.suggest_int("tree.max_depth", 2, 12),
        "min_samples_leaf": trial.suggest_int("tree.min_samples_leaf", 1, 200, log=True),
    }


def _adaboost(seed, weighted, ratio, params=None):
    params = params or {}
    return AdaBoostClassifier(
        n_estimators=params.get("n_estimators", 200),
        learning_rate=params.get("learning_rate", 0.5),
        random_state=seed,
    )


def _adaboost_space(trial):
    return {
        "n_estimators": trial.suggest_int("adaboost.n_estimators", 50, 400, log=True),
        "learning_rate": trial.suggest_float("adaboost.learning_rate", 0.05, 1.0, log=True),
    }


def _nb(seed, weighted, ratio, params=None):
    return GaussianNB()


def _svm(seed, weighted, ratio, params=None):
    params = params or {}
    return SVC(
        C=params.get("C", 1.0),
        kernel="rbf",
        probability=True,
        class_weight="balanced" if weighted else None,
        random_state=seed,
    )


def _svm_space(trial):
    return {"C": trial.suggest_float("svm.C", 0.05, 20.0, log=True)}


def _lightgbm(seed, weighted, ratio, params=None):
    from lightgbm import LGBMClassifier

    params = dict(params or {})
    early = params.pop("early_stopping", False)
    settings = {
        "n_estimators": 400,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_child_samples": 20,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        **params,
    }
    metric = settings.pop("eval_metric", None)
    if early:
        settings["n_estimators"] = MAX_ROUNDS
    if metric is not None:
        settings["metric"] = metric
    settings.setdefault("n_jobs", -1)
    return LGBMClassifier(
        **settings,
        subsample_freq=1,
        class_weight="balanced" if weighted else None,
        random_state=seed,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )


def _lightgbm_space(trial):
    return {
        "learning_rate": trial.suggest_float("lightgbm.learning_rate", 0.03, 0.3, log=True),
        "num_leaves": trial.suggest_int("lightgbm.num_leaves", 4, 128, log=True),
        "min_child_samples": trial.suggest_int("lightgbm.min_child_samples", 5, 200, log=True),
        "subsample": trial.suggest_float("lightgbm.subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("lightgbm.colsample_bytree", 0.3, 1.0),
        "reg_alpha": trial.suggest_float("lightgbm.reg_alpha", 1e-4, 10.0, log=True),
        "reg_lambda": trial.suggest_float("lightgbm.reg_lambda", 1e-3, 50.0, log=True),
    }


LEARNERS: dict[str, Learner] = {
    learner.name: learner
    for learner in [
        Learner("logreg", "logistic regression", _logreg, True, PARAM, space=_logreg_space),
        Learner("rf", "random forest", _rf, False, PARAM, space=_rf_space, threaded=True),
        Learner(
            "gb",
            "gradient boosting (scikit-learn)",
            _gb,
            False,
            SAMPLE_WEIGHT,
            default=False,
            space=_gb_space,
        ),
        Learner(
            "xgboost",
            "XGBoost",
            _xgboost,
            False,
            PARAM,
            space=_xgboost_space,
            fit_early=_xgboost_fit_early,
            threaded=True,
            # Early stopping picks the rounds; a faster rate than the defaults'
            # 0.02 keeps the first trial short on large data.
            start={"learning_rate": 0.1},
        ),
        Learner(
            "lightgbm",
            "LightGBM",
            _lightgbm,
            False,
            PARAM,
            space=_lightgbm_space,
            fit_early=_lightgbm_fit_early,
            threaded=True,
        ),
        # TensorFlow keeps global state (seeds, graphs): its folds fit one at a time.
        Learner(
            "keras",
            "fully connected Keras network",
            _keras,
            True,
            PARAM,
            space=_keras_space,
            parallel_folds=False,
        ),
        Learner("tree", "decision tree", _tree, False, PARAM, default=False, space=_tree_space),
        Learner(
            "adaboost",
            "AdaBoost",
            _adaboost,
            False,
            SAMPLE_WEIGHT,
            default=False,
            space=_adaboost_space,
        ),
        Learner("nb", "Gaussian naive Bayes", _nb, True, SAMPLE_WEIGHT, default=False),
        Learner(
            "svm",
            "SVM (RBF) with probabilities",
            _svm,
            True,
            PARAM,
            default=False,
            space=_svm_space,
        ),
    ]
}
DEFAULT_LEARNERS = [name for name, learner in LEARNERS.items() if learner.default]
