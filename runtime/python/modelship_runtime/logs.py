"""JSON logs: one object a line on stderr, for the cluster's log collector.

Every line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``; the server's own
lines add ``event`` and the fields of that event (``model``, ``version``, ``seconds``, ...).
uvicorn's lines go through the same formatter; its access log is off (the gateway writes one).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import ClassVar

LOGGER = "modelship.runtime"


class JsonFormatter(logging.Formatter):
    RESERVED: ClassVar[frozenset[str]] = frozenset(
        logging.LogRecord("", 0, "", 0, "", None, None).__dict__
    ) | {"message", "asctime", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(
            (key, value) for key, value in record.__dict__.items() if key not in self.RESERVED
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(level: int = logging.INFO) -> logging.Logger:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    return logging.getLogger(LOGGER)


def event(logger: logging.Logger, level: int, name: str, message: str, **fields: object) -> None:
    logger.log(level, message, extra={"event": name, **fields})
