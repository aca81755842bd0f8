"""Logging filters."""

from __future__ import annotations

import logging


class OneLineClientErrors(logging.Filter):
    """A 4xx is the client's doing, not a fault of ours: log it as its one line
    ("Forbidden (Permission denied): /teach/"), without the traceback Django attaches
    to a PermissionDenied or BadRequest. 5xx keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
