"""A fully connected Keras network that behaves like a scikit-learn classifier.

It lives inside imbalanced-learn pipelines, takes class weights or sample
weights, pickles (the network travels as .keras bytes), and exposes its
layers so export can turn it into ONNX.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _keras():
    import keras

    return keras


class KerasMLPClassifier(ClassifierMixin, BaseEstimator):
    """Dense ReLU layers with dropout, a sigmoid output, early stopping on a
    stratified validation slice of the training data it is given."""

    def __init__(
        self,
        hidden=(64, 32),
        dropout=0.2,
        learning_rate=1e-3,
        epochs=40,
        batch_size=256,
        class_weight=None,
        patience=4,
        random_state=0,
    ):
        self.hidden = hidden
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.class_weight = class_weight
        self.patience = patience
        self.random_state = random_state

    def _build(self, n_features: int):
        keras = _keras()
        layers = [keras.Input((n_features,), name="features")]
        for units in self.hidden:
            layers.append(keras.layers.Dense(units, activation="relu"))
            if self.dropout:
                layers.append(keras.layers.Dropout(self.dropout))
        layers.append(keras.layers.Dense(1, activation="sigmoid"))
        model = keras.Sequential(layers)
        model.compile(
            optimizer=keras.optimizers.Adam(self.learning_rate),
            loss="binary_crossentropy",
        )
        return model

    def fit(self, X, y, sample_weight=None):
        keras = _keras()
        keras.utils.set_random_seed(self.random_state)
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        target = (y == self.classes_[-1]).astype(np.float32)
        weights = np.ones(len(y), dtype=np.float32)
        if sample_weight is not None:
            weights *= np.asarray(sample_weight, dtype=np.float32)
        if self.class_weight is not None:
            cw = self.class_weight
            if cw == "balanced":
                counts = np.bincount(target.astype(int), minlength=2)
                cw = {k: len(target) / (2.0 * max(counts[k], 1)) for k in (0, 1)}
            weights *= np.where(target == 1, cw[1], cw[0]).astype(np.float32)
        rng = np.random.default_rng(self.random_state)
        val = np.zeros(len(y), dtype=bool)
        for cls in (0, 1):
            idx = np.flatnonzero(target == cls)
            take = max(1, int(round(0.1 * len(idx)))) if len(idx) > 10 else 0
            val[rng.choice(idx, size=take, replace=False)] = True
        model = self._build(X.shape[1])
        callbacks = []
        validation = None
        if val.any():
            validation = (X[val], target[val], weights[val])
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    patience=self.patience, restore_best_weights=True, monitor="val_loss"
                )
            )
        model.fit(
            X[~val],
            target[~val],
            sample_weight=weights[~val],
            validation_data=validation,
            epochs=self.epochs,
            batch_size=self.batch_size,
            callbacks=callbacks,
            verbose=0,
            shuffle=True,
        )
        self.model_ = model
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "model_")
        X = np.asarray(X, dtype=np.float32)
        # Calling the model (not .predict) avoids Keras' per-call dataset setup.
        p = np.asarray(self.model_(X, training=False)).reshape(-1).astype(np.float64)
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def __getstate__(self):
        state = self.__dict__.copy()
        model = state.pop("model_", None)
        if model is not None:
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "model.keras")
                model.save(path)
                with open(path, "rb") as fh:
                    state["_keras_bytes"] = fh.read()
        return state

    def __setstate__(self, state):
        blob = state.pop("_keras_bytes", None)
        self.__dict__.update(state)
        if blob is not None:
            keras = _keras()
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "model.keras")
                with open(path, "wb") as fh:
                    fh.write(blob)
                self.model_ = keras.saving.load_model(path, compile=False)
