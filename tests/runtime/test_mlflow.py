"""An MLflow model (pickle: false): saved with mlflow, packed as the artifact tar, served."""

import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from mlflow.models import infer_signature
from modelship_runtime import artifact
from sklearn.linear_model import LinearRegression

from tests.runtime.server import predict, running, server_environment

FEATURES = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
TARGET = np.array([1.0, 2.0, 5.0, 6.0])


@pytest.mark.parametrize("columns", [False, True], ids=["tensor-signature", "column-signature"])
def test_an_mlflow_model_is_served_through_the_pyfunc_loader(tmp_path, columns):
    """Trained on an array (a tensor signature) or on named columns (a column signature)."""
    features = pd.DataFrame(FEATURES, columns=["tenure", "spend"]) if columns else FEATURES
    estimator = LinearRegression().fit(features, TARGET)
    signature = infer_signature(features, estimator.predict(features))
    mlflow.sklearn.save_model(
        estimator,
        tmp_path / "model",
        signature=signature,
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
    )
    version = artifact.pack(tmp_path / "model", tmp_path / "model.tar")
    env = server_environment(
        tmp_path / "model.tar", version, MODEL_PICKLE="false", TMPDIR=str(tmp_path)
    )
    with running(env, tmp_path / "server.log") as server:
        answer = predict(server.port, [1.1, 5.1])
        bad = predict(server.port, ["x"])
        short = predict(server.port, [1.0])
        lines = server.log_lines()
    assert answer.status == 200
    assert answer.json() == {
        "output": pytest.approx(float(estimator.predict(features[:1] * 0 + [1.1, 5.1])[0])),
        "default": False,
    }
    assert bad.status == 400
    assert [line["loader"] for line in lines if line.get("event") == "model_loaded"] == ["mlflow"]
    if columns:  # the columns say how many values a row needs
        assert (short.status, short.json()["message"]) == (
            400,
            "input must hold 2 values, the model's columns tenure, spend; got 1",
        )
    else:
        assert short.status == 500
