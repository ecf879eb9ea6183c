"""Where the services of `choir up` log: one file per service in the run folder; on the console only what a person
watching must see (a reorg the indexer rolled back)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class _Echo(logging.Handler):
    """Hands the messages of the records that start with one of `prefixes` to `echo`."""

    def __init__(self, echo: Callable[[str], None], prefixes: tuple[str, ...]) -> None:
        super().__init__(logging.WARNING)
        self.echo, self.prefixes = echo, prefixes

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(self.prefixes):
            self.echo(message)


@contextlib.contextmanager
def log_to(
    logger_name: str,
    path: Path,
    level: int = logging.INFO,
    echo: Callable[[str], None] | None = None,
    echo_prefixes: tuple[str, ...] = ("reorg:",),
) -> Iterator[None]:
    """Send `logger_name`'s records to `path` (not to the console) for the duration; warnings that start with one
    of `echo_prefixes` also go to `echo` (the console)."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(message)s"))
    handlers: list[logging.Handler] = [handler] if echo is None else [handler, _Echo(echo, echo_prefixes)]
    logger = logging.getLogger(logger_name)
    previous = (logger.level, logger.propagate)
    for each in handlers:
        logger.addHandler(each)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        for each in handlers:
            logger.removeHandler(each)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]
        handler.close()


def uvicorn_log_config(path: Path) -> dict[str, Any]:
    """uvicorn's own and access logs into `path`, nothing on the console."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(asctime)s %(levelprefix)s %(message)s",
                "use_colors": False,
            },
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(asctime)s %(levelprefix)s %(client_addr)s "%(request_line)s" %(status_code)s',
                "use_colors": False,
            },
        },
        "handlers": {
            "default": {"class": "logging.FileHandler", "filename": str(path), "formatter": "default"},
            "access": {"class": "logging.FileHandler", "filename": str(path), "formatter": "access"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
