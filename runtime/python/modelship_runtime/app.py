"""The HTTP contract: POST /predict, GET /healthz, GET /metrics (a Starlette app).

======================= ===================================================================
POST /predict           ``{"input": [...]}`` → 200 ``{"output": <JSON value>, "default": false}``
                        400 ``{"error": "invalid_input", "message": ...}`` (see inputs.py)
                        413 ``{"error": "payload_too_large", ...}`` above MODEL_MAX_BODY_BYTES
                        500 ``{"error": "model_error", ...}`` when the model raises
GET /healthz            200 ``{"status": "ok", "model": ..., "version": ...}``
GET /metrics            Prometheus text format (metrics.py)
anything else           404 / 405 JSON
======================= ===================================================================

The app exists only once the model is loaded (``__main__`` loads, then serves), so /healthz
answering at all means ready. The model runs in a worker thread, so a slow prediction never
stops /healthz or /metrics from answering.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from modelship_runtime import inputs
from modelship_runtime.loaders import Predict
from modelship_runtime.logs import LOGGER, event
from modelship_runtime.metrics import Metrics

JSON = "application/json"
log = logging.getLogger(LOGGER)


class BodyTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Model:
    """What the app serves: the loaded model and the facts about it."""

    id: str
    version: str
    input_type: str
    predict: Predict


def json_response(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), status, headers, media_type=JSON)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(model: Model, metrics: Metrics, max_body_bytes: int) -> Starlette:
    healthy = json_response(200, {"status": "ok", "model": model.id, "version": model.version})

    async def predict(request: Request) -> Response:
        started = time.perf_counter()
        outcome, response = await answer(request)
        metrics.requests.labels(outcome).inc()
        metrics.duration.observe(time.perf_counter() - started)
        return response

    def invalid(error: inputs.InvalidInput) -> tuple[str, Response]:
        return "invalid_input", json_response(
            400, {"error": "invalid_input", "message": str(error)}
        )

    async def answer(request: Request) -> tuple[str, Response]:
        try:
            body = await read_body(request, max_body_bytes)
            row = inputs.parse(body, model.input_type)
        except BodyTooLarge:
            message = f"the request body is larger than {max_body_bytes} bytes, this model's limit"
            return "too_large", json_response(
                413, {"error": "payload_too_large", "message": message}
            )
        except inputs.InvalidInput as error:
            return invalid(error)
        try:
            # The loaders answer JSON values only (or raise ModelError).
            output = await run_in_threadpool(model.predict, row)
        except inputs.InvalidInput as error:  # what only the model's own schema could tell
            return invalid(error)
        except Exception as error:  # whatever the model raises is its failure, not ours
            kind = type(error).__name__
            event(
                log,
                logging.ERROR,
                "model_error",
                f"the model failed: {kind}: {error}",
                model=model.id,
                request_id=request.headers.get("x-request-id", ""),
                error_type=kind,
            )
            message = f"model {model.id} failed on this input ({kind}); its log has the details"
            return "model_error", json_response(500, {"error": "model_error", "message": message})
        return "ok", json_response(200, {"output": output, "default": False})

    async def healthz(request: Request) -> Response:
        return healthy

    async def prometheus(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if error.status_code == 405:
            message = f"{request.method} is not allowed here"
            return json_response(405, {"error": "method_not_allowed", "message": message},
                                 dict(error.headers or {}))  # fmt: skip
        message = "no such path; POST /predict, GET /healthz or GET /metrics"
        return json_response(404, {"error": "not_found", "message": message})

    async def disconnected(request: Request, error: Exception) -> Response:
        return Response(status_code=499)  # the caller is gone; nobody reads this

    return Starlette(
        routes=[
            Route("/predict", predict, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, ClientDisconnect: disconnected},
    )
