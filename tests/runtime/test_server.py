"""The model server as its image runs it: a real process, real HTTP, real signals."""

import base64
import http.client
import json
import signal
import threading
import time

import pytest

from testsupport import models
from testsupport.model_server import (
    call,
    launch,
    predict,
    running,
    server_environment,
    wait_healthy,
    write_pickle,
)

EXIT_SETTINGS, EXIT_ARTIFACT = 2, 3


@pytest.fixture(scope="module")
def echo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("echo")
    artifact, version = write_pickle(folder, models.Echo())
    env = server_environment(artifact, version, MODEL_MAX_BODY_BYTES="4096")
    with running(env, folder / "server.log") as server:
        yield server


@pytest.mark.parametrize(
    ("input_type", "row", "output"),
    [
        ("integers", [1, -2, 2**63 - 1], [1, -2, 2**63 - 1]),
        ("floats", [1.5, 2], [1.5, 2.0]),
        ("doubles", [1.1, 5.1], [1.1, 5.1]),
        (
            "bytes",
            [base64.b64encode(b"\x00\x01\xfe").decode()],
            base64.b64encode(b"\x00\x01\xfe").decode(),
        ),
        ("strings", ["caf\u00e9", "\U0001f600"], ["caf\u00e9", "\U0001f600"]),
    ],
)
def test_every_input_type_reaches_the_model_and_its_answer_comes_back(
    tmp_path, input_type, row, output
):
    artifact, version = write_pickle(tmp_path, models.Echo())
    env = server_environment(artifact, version, MODEL_INPUT_TYPE=input_type)
    with running(env, tmp_path / "server.log") as server:
        answer = predict(server.port, row)
    assert answer.status == 200
    assert answer.json() == {"output": output, "default": False}


def test_health_names_the_model_and_its_version(echo):
    answer = call(echo.port, "GET", "/healthz")
    assert answer.status == 200
    assert answer.json() == {
        "status": "ok",
        "model": "churn",
        "version": echo.log_lines()[0]["version"],
    }


def test_a_bad_input_is_a_400_with_a_json_error(echo):
    answer = predict(echo.port, [1.1, "five"])
    assert answer.status == 400
    assert answer.json() == {
        "error": "invalid_input",
        "message": 'input[1]: must be a number (doubles), got "five"',
    }
    assert call(echo.port, "POST", "/predict", b"not json").json()["error"] == "invalid_input"


def test_a_body_over_the_limit_is_a_413_declared_or_streamed(echo):
    big = json.dumps({"input": [0.5] * 2000}).encode()
    assert len(big) > 4096
    declared = call(echo.port, "POST", "/predict", big)
    assert declared.status == 413
    assert declared.json()["error"] == "payload_too_large"
    connection = http.client.HTTPConnection("127.0.0.1", echo.port, timeout=10)
    try:  # chunked: no Content-Length to refuse it by, the server counts what arrives
        connection.request(
            "POST", "/predict", body=iter([big[:3000], big[3000:]]), encode_chunked=True
        )
        streamed = connection.getresponse()
        assert streamed.status == 413
        assert json.loads(streamed.read())["error"] == "payload_too_large"
    finally:
        connection.close()
    assert predict(echo.port, [0.5] * 100).status == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/predict", 405), ("POST", "/nope", 404), ("GET", "/", 404)],
)
def test_other_paths_and_methods_get_json_errors(echo, method, path, status):
    answer = call(echo.port, method, path)
    assert answer.status == status
    assert answer.json()["error"] == {404: "not_found", 405: "method_not_allowed"}[status]


def test_metrics_count_requests_by_outcome_with_a_bucket_at_the_slo(tmp_path):
    artifact, version = write_pickle(tmp_path, models.Slow(0.15))
    env = server_environment(
        artifact, version, MODEL_SLO_MICROSECONDS="120000", MODEL_MAX_BODY_BYTES="100"
    )
    with running(env, tmp_path / "server.log") as server:
        assert predict(server.port, [1.0, 2.0]).json()["output"] == 3.0
        assert predict(server.port, ["x"]).status == 400
        assert predict(server.port, [1.0] * 100).status == 413
        metrics = server.metrics()
    assert metrics['modelship_model_requests_total{outcome="ok"}'] == 1
    assert metrics['modelship_model_requests_total{outcome="invalid_input"}'] == 1
    assert metrics['modelship_model_requests_total{outcome="too_large"}'] == 1
    assert metrics['modelship_model_requests_total{outcome="model_error"}'] == 0
    # The slow answer (0.15 s) is past the SLO (0.12 s), the two refusals within it.
    assert metrics['modelship_model_request_duration_seconds_bucket{le="0.12"}'] == 2
    assert metrics['modelship_model_request_duration_seconds_bucket{le="+Inf"}'] == 3
    assert metrics["modelship_model_request_duration_seconds_count"] == 3
    info = f'modelship_model_info{{input_type="doubles",loader="pickle",model="churn",version="{version}"}}'
    assert metrics[info] == 1
    assert 0 < metrics["modelship_model_load_seconds"] < 30


def test_a_failing_model_is_a_500_that_keeps_its_details_in_the_log(tmp_path):
    artifact, version = write_pickle(tmp_path, models.Failing())
    env = server_environment(artifact, version)
    with running(env, tmp_path / "server.log") as server:
        answer = call(server.port, "POST", "/predict", b'{"input": [1]}')
        metrics = server.metrics()
    assert answer.status == 500
    assert answer.json() == {
        "error": "model_error",
        "message": "model churn failed on this input (ValueError); its log has the details",
    }
    assert b"secret" not in answer.body
    [line] = [line for line in server.log_lines() if line.get("event") == "model_error"]
    assert line["level"] == "error"
    assert "secret detail of the failure" in line["message"]
    assert metrics['modelship_model_requests_total{outcome="model_error"}'] == 1


def test_an_answer_that_is_not_json_is_a_model_error(tmp_path):
    artifact, version = write_pickle(tmp_path, models.NotJson())
    with running(server_environment(artifact, version), tmp_path / "server.log") as server:
        answer = predict(server.port, [1.0])
    assert answer.status == 500
    assert answer.json()["error"] == "model_error"


def refusal(tmp_path, env):
    """Run the server to its end; its exit status and its one refused_to_start log line."""
    log = tmp_path / "refused.log"
    process = launch(env, log)
    status = process.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    [line] = [line for line in lines if line.get("event") == "refused_to_start"]
    return status, line


def test_an_artifact_that_is_not_the_version_is_refused_before_serving(tmp_path):
    artifact, actual = write_pickle(tmp_path, models.Echo())
    wanted = "4f1255f50f5f32e93b4fb69704d23f466e468ebd"
    env = server_environment(artifact, wanted)
    status, line = refusal(tmp_path, env)
    assert status == EXIT_ARTIFACT
    assert line["level"] == "error"
    assert line["message"] == (
        f"refusing to start: the model artifact {artifact} has sha1 {actual}, but MODEL_VERSION is "
        f"{wanted}: this image does not hold the model version it was deployed as"
    )
    with pytest.raises(ConnectionRefusedError):
        call(int(env["PORT"]), "GET", "/healthz", timeout=1)


def test_a_missing_artifact_is_refused(tmp_path):
    env = server_environment(tmp_path / "absent.pkl", "4f1255f50f5f32e93b4fb69704d23f466e468ebd")
    status, line = refusal(tmp_path, env)
    assert status == EXIT_ARTIFACT
    assert (
        line["message"]
        == f"refusing to start: cannot read the model artifact {tmp_path / 'absent.pkl'}: No such file or directory"
    )


def test_a_pickle_without_predict_is_refused(tmp_path):
    artifact, version = write_pickle(tmp_path, {"not": "a model"})
    status, line = refusal(tmp_path, server_environment(artifact, version))
    assert status == EXIT_ARTIFACT
    assert line["message"] == "refusing to start: the loaded model (dict) has no predict method"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"MODEL_INPUT_TYPE": "tensors"},
            "MODEL_INPUT_TYPE must be one of integers, floats, doubles, bytes, strings (got 'tensors')",
        ),
        ({"MODEL_VERSION": "v1"}, "MODEL_VERSION must be 40 lowercase hex characters (got 'v1')"),
        ({"MODEL_ID": ""}, "MODEL_ID is not set"),
        ({"PORT": "http"}, "PORT must be an integer between 1 and 65535 (got 'http')"),
        ({"MODEL_PICKLE": "yes"}, "MODEL_PICKLE must be true or false (got 'yes')"),
        (
            {"MODEL_SLO_MICROSECONDS": "0"},
            "MODEL_SLO_MICROSECONDS must be an integer of at least 1 (got '0')",
        ),
        (
            {"MODEL_SHUTDOWN_SECONDS": "-1"},
            "MODEL_SHUTDOWN_SECONDS must be a number of seconds, 0 or more (got '-1')",
        ),
    ],
)
def test_settings_it_cannot_use_are_refused_with_the_variable_named(tmp_path, overrides, message):
    artifact, version = write_pickle(tmp_path, models.Echo())
    status, line = refusal(tmp_path, server_environment(artifact, version, **overrides))
    assert status == EXIT_SETTINGS
    assert line["message"] == f"refusing to start: {message}"


def test_sigterm_during_a_request_lets_it_finish_then_exits(tmp_path):
    artifact, version = write_pickle(tmp_path, models.Slow(1.0))
    env = server_environment(artifact, version)
    log = tmp_path / "server.log"
    process = launch(env, log)
    port = int(env["PORT"])
    try:
        wait_healthy(process, port, log)
        answers = []
        caller = threading.Thread(target=lambda: answers.append(predict(port, [2.0, 3.0])))
        caller.start()
        time.sleep(0.3)  # the request is in the model now
        process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        with pytest.raises(ConnectionRefusedError):  # no new requests once draining
            call(port, "GET", "/healthz", timeout=1)
        caller.join(timeout=10)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert [(a.status, a.json()) for a in answers] == [(200, {"output": 5.0, "default": False})]
    events = [json.loads(line).get("event") for line in log.read_text().splitlines()]
    assert events[0] == "model_loaded"
    assert events[-1] == "stopped"


def test_the_drain_ends_at_its_bound_even_when_a_request_does_not(tmp_path):
    artifact, version = write_pickle(tmp_path, models.Slow(8.0))
    env = server_environment(artifact, version, MODEL_SHUTDOWN_SECONDS="0.5")
    log = tmp_path / "server.log"
    process = launch(env, log)
    port = int(env["PORT"])
    try:
        wait_healthy(process, port, log)
        caller = threading.Thread(
            target=lambda: call(port, "POST", "/predict", b'{"input": [1]}'), daemon=True
        )
        caller.start()
        time.sleep(0.3)
        stopped = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        assert time.monotonic() - stopped < 3
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_every_log_line_is_a_json_object(echo):
    predict(echo.port, [1.0])
    lines = echo.log_lines()
    assert lines
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    loaded = lines[0]
    assert loaded["event"] == "model_loaded"
    assert loaded["model"] == "churn"
    assert loaded["loader"] == "pickle"
