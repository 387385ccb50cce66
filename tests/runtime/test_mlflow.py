"""An MLflow model (pickle: false): saved with mlflow, packed as the artifact tar, loaded with
mlflow's pyfunc loader; served by the real server process, and loaded in-process."""

from pathlib import Path

import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from mlflow.models import infer_signature
from modelship_runtime import artifact, loaders
from sklearn.linear_model import LinearRegression

from testsupport.model_server import predict, running, server_environment

FEATURES = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
TARGET = np.array([1.0, 2.0, 5.0, 6.0])


def packed_model(folder: Path, features: object) -> tuple[LinearRegression, Path, str]:
    """A scikit-learn model saved by mlflow with the signature of ``features``, packed."""
    estimator = LinearRegression().fit(features, TARGET)
    mlflow.sklearn.save_model(
        estimator,
        folder / "model",
        signature=infer_signature(features, estimator.predict(features)),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
    )
    version = artifact.pack(folder / "model", folder / "model.tar")
    return estimator, folder / "model.tar", version


def test_a_model_with_a_column_signature_is_served_by_its_column_names(tmp_path):
    features = pd.DataFrame(FEATURES, columns=["tenure", "spend"])
    estimator, tar, version = packed_model(tmp_path, features)
    env = server_environment(tar, version, MODEL_PICKLE="false", TMPDIR=str(tmp_path))
    with running(env, tmp_path / "server.log") as server:
        answer = predict(server.port, [1.1, 5.1])
        bad = predict(server.port, ["x"])
        short = predict(server.port, [1.0])
        lines = server.log_lines()
    expected = estimator.predict(pd.DataFrame([[1.1, 5.1]], columns=["tenure", "spend"]))[0]
    assert answer.status == 200
    assert answer.json() == {"output": pytest.approx(float(expected)), "default": False}
    assert bad.status == 400
    assert (short.status, short.json()["message"]) == (
        400,
        "input must hold 2 values, the model's columns tenure, spend; got 1",
    )
    assert [line["loader"] for line in lines if line.get("event") == "model_loaded"] == ["mlflow"]


def test_a_model_with_a_tensor_signature_gets_a_one_row_array(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where the tar is unpacked, as in the image
    estimator, tar, _ = packed_model(tmp_path, FEATURES)
    answer = loaders.load(tar, pickled=False, input_type="doubles")
    assert answer([1.1, 5.1]) == pytest.approx(float(estimator.predict([[1.1, 5.1]])[0]))
    with pytest.raises(Exception, match="shape"):  # a model error (500): its schema wants 2
        answer([1.0])
