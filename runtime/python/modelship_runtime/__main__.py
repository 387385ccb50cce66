"""``python -m modelship_runtime``: check the artifact, load the model, serve until SIGTERM.

Exit status: 0 after SIGTERM and the drain, 2 for settings the server cannot use, 3 when the
artifact is missing, is not MODEL_VERSION or cannot be loaded. Each failure is one JSON log
line saying why (event ``refused_to_start``) before any port is opened.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

import uvicorn

from modelship_runtime import logs
from modelship_runtime.app import Model, create_app
from modelship_runtime.artifact import ArtifactError, verify
from modelship_runtime.loaders import load
from modelship_runtime.metrics import Metrics
from modelship_runtime.settings import Settings, SettingsError

EXIT_SETTINGS = 2
EXIT_ARTIFACT = 3


def main() -> int:
    log = logs.configure()
    try:
        settings = Settings.from_environment(os.environ)
    except SettingsError as error:
        logs.event(log, logging.ERROR, "refused_to_start", f"refusing to start: {error}")
        return EXIT_SETTINGS
    facts = {"model": settings.model_id, "version": settings.version}
    started = time.perf_counter()
    try:
        verify(Path(settings.artifact), settings.version)
        predict = load(
            Path(settings.artifact), pickled=settings.pickle, input_type=settings.input_type
        )
    except ArtifactError as error:
        logs.event(log, logging.ERROR, "refused_to_start", f"refusing to start: {error}", **facts)
        return EXIT_ARTIFACT
    load_seconds = time.perf_counter() - started
    metrics = Metrics.create(settings.slo_seconds)
    metrics.load_seconds.set(load_seconds)
    loader = "pickle" if settings.pickle else "mlflow"
    metrics.info.labels(settings.model_id, settings.version, settings.input_type, loader).set(1)
    logs.event(
        log,
        logging.INFO,
        "model_loaded",
        f"model {settings.model_id} loaded in {load_seconds:.3f} s",
        seconds=round(load_seconds, 6),
        loader=loader,
        **facts,
    )
    app = create_app(
        Model(settings.model_id, settings.version, settings.input_type, predict),
        metrics,
        settings.max_body_bytes,
    )
    # uvicorn's own SIGTERM handling drains: it stops accepting, lets the requests in flight
    # finish for up to shutdown_seconds, closes what is left, then restores the handler it
    # found and raises the signal again. This handler takes it, so the drained server exits 0.
    signal.signal(signal.SIGTERM, lambda number, frame: None)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            loop="uvloop",
            http="httptools",
            lifespan="off",
            access_log=False,
            log_config=None,
            server_header=False,
            timeout_graceful_shutdown=settings.shutdown_seconds,
        )
    )
    server.run()
    logs.event(log, logging.INFO, "stopped", f"model {settings.model_id} stopped", **facts)
    return 0


if __name__ == "__main__":
    status = main()
    # Past the drain's bound a prediction may still be running in a worker thread, which
    # Python would wait for at exit: the bound is the pod's grace period, so leave at once.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(status)
