"""gunicorn settings; every value can be overridden from the environment."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Restart workers now and then, so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Load Django and build the n-gram model once in the master, then fork: a worker that
# is killed, recycled by max_requests or replaced on SIGHUP starts serving at once,
# sharing the model's memory copy-on-write instead of spending ~1.6 s building its own.
# (Code changes then need a restart, not a HUP.)
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"


def when_ready(server):
    if preload_app:
        from courseware.ngram import build_default_model

        build_default_model()


def post_worker_init(worker):
    """Make sure the pre-training demo's n-gram model (~1.6 s, ~100 MB) exists before the
    worker takes requests: inherited from the master when preloaded, else built here.
    It is cached per process from then on."""
    from courseware.ngram import build_default_model

    build_default_model()
