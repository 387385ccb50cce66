"""Load the artifact into a ``predict(row) -> JSON value`` function.

``MODEL_PICKLE=true``: the artifact is a pickle of an object with ``predict`` (a scikit-learn
estimator or pipeline, or a class of the model repository's own code: the image's working
directory, the repository, is on ``sys.path``). ``false``: an MLflow model, packed as the
deterministic tar ``artifact.py`` describes, loaded with ``mlflow.pyfunc.load_model`` (the
``-mlflow`` image variant carries mlflow-skinny).

A pickle is called with one row as a list, ``predict([row])``; an MLflow model with that row
as a one-row DataFrame named by its signature's columns, or a numpy array (int64 for
integers, float32 for floats, float64 for doubles). The first item of what it returns is the
answer, made a JSON value: numpy and pandas values through ``tolist()``,
bytes as base64 text.
"""

from __future__ import annotations

import base64
import json
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelship_runtime.artifact import ArtifactError, unpack
from modelship_runtime.inputs import InvalidInput

Predict = Callable[[list[object]], object]


class ModelError(Exception):
    """The model failed on a request, or answered with something that is not a JSON value."""


def to_json_value(value: object) -> object:
    """A value the model returned, as what ``json.dumps`` writes; ModelError when it cannot be."""
    if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas Series
        value = value.tolist()
    if isinstance(value, bytes):
        value = base64.b64encode(value).decode("ascii")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ModelError(f"the model's answer is not a JSON value: {error}") from None
    return value


def first_answer(result: object) -> object:
    """The answer for the one row a model was given, from what its ``predict`` returned."""
    iloc = getattr(result, "iloc", None)  # a pandas DataFrame or Series
    if iloc is not None:
        first = iloc[0]
        return to_json_value(first.tolist() if hasattr(first, "tolist") else first)
    try:
        return to_json_value(result[0])  # type: ignore[index]
    except (TypeError, IndexError, KeyError):
        raise ModelError(
            f"the model's predict returned {type(result).__name__}, not one answer per row"
        ) from None


def _predictor(model: object) -> Predict:
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise ArtifactError(f"the loaded model ({type(model).__name__}) has no predict method")

    def answer(row: list[object]) -> object:
        return first_answer(predict([row]))

    return answer


def load_pickle(path: Path) -> Predict:
    try:
        with path.open("rb") as handle:
            model = pickle.load(handle)  # its sha1 was checked against MODEL_VERSION first
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
        raise ArtifactError(f"cannot load the pickle {path}: {error}") from None
    return _predictor(model)


NUMPY_TYPES = {"integers": "int64", "floats": "float32", "doubles": "float64"}


def _mlflow_predictor(model: Any, input_type: str) -> Predict:
    """MLflow enforces the model's signature: a row becomes a one-row DataFrame with the
    signature's column names, in order, or else a one-row numpy array (a tensor signature,
    or none)."""
    import numpy  # noqa: PLC0415 - the -mlflow variant's dependencies
    import pandas  # noqa: PLC0415

    schema = model.metadata.get_input_schema()
    names = schema.input_names() if schema is not None and schema.has_input_names() else None
    dtype = NUMPY_TYPES.get(input_type, "object")

    def answer(row: list[object]) -> object:
        if names is None:
            return first_answer(model.predict(numpy.array([row], dtype=dtype)))
        if len(row) != len(names):
            raise InvalidInput(
                f"input must hold {len(names)} values, the model's columns "
                f"{', '.join(map(str, names))}; got {len(row)}"
            )
        return first_answer(model.predict(pandas.DataFrame([row], columns=names)))

    return answer


def load_mlflow(path: Path, input_type: str) -> Predict:
    try:
        import mlflow.pyfunc  # noqa: PLC0415 - only the -mlflow image variant has it
    except ImportError:
        raise ArtifactError(
            "MODEL_PICKLE is false but this image has no mlflow: build the model on the "
            "-mlflow variant of the base image"
        ) from None
    folder = unpack(path, Path(tempfile.mkdtemp(prefix="model-")))
    try:
        model = mlflow.pyfunc.load_model(str(folder))
    except Exception as error:  # MLflow raises many kinds; each means the same here
        raise ArtifactError(f"mlflow cannot load the model in {path}: {error}") from None
    return _mlflow_predictor(model, input_type)


def load(path: Path, *, pickled: bool, input_type: str) -> Predict:
    return load_pickle(path) if pickled else load_mlflow(path, input_type)
