"""gunicorn settings; every value can be overridden from the environment."""

import multiprocessing
import os

# Loopback by default: the site expects a proxy in front of it (TLS, X-Forwarded-Proto).
# Behind a proxy on another host, bind the address that proxy reaches (README).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Restart workers now and then, so a slow leak cannot grow without bound; rarely, and at
# well-spread moments (workers restarting together leave the site briefly unanswered).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# The usual combined format, plus the time taken (ms).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Load Django and build the n-gram model once in the master, then fork: a worker that
# is killed, recycled by max_requests or replaced on SIGHUP starts serving at once,
# sharing the model's memory copy-on-write instead of spending ~1.6 s building its own.
# (Code changes then need a restart, not a HUP.)
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"


def when_ready(server):
    report_static_files(server)
    if preload_app:
        from courseware.ngram import build_default_model

        build_default_model()
        warm_up()


def report_static_files(server):
    """Say at start-up what /healthz will say: pages cannot name their static files
    (collectstatic was not run), so every page would be a 500."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseware.settings")
    try:
        import django

        django.setup()
        from courseware.checks import static_files_problem

        problem = static_files_problem()
    except Exception as exc:  # noqa: BLE001  (a report must not stop the server)
        problem = f"could not check the static files: {exc}"
    if problem:
        server.log.error("Every page will fail: %s", problem)


def warm_up():
    """Do in the master what each worker would otherwise do on its first requests:
    import every view (and with them scikit-learn) and compile every template. Forked
    workers inherit both; without this a worker's first page took ~0.7 s."""
    from pathlib import Path

    from django.conf import settings
    from django.template import TemplateDoesNotExist, TemplateSyntaxError, loader
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports the URLconf and every view)
    for folder in settings.TEMPLATES[0]["DIRS"]:
        for path in Path(folder).rglob("*.html"):
            try:
                loader.get_template(str(path.relative_to(folder)))
            except (TemplateDoesNotExist, TemplateSyntaxError):
                continue
    # Nothing above should have connected, but a connection made in the master would be
    # shared by every forked worker: make sure none is left open.
    from django.db import connections

    connections.close_all()


def post_worker_init(worker):
    """Make sure the pre-training demo's n-gram model (~1.6 s, ~100 MB) exists before the
    worker takes requests: inherited from the master when preloaded, else built here.
    It is cached per process from then on."""
    from courseware.ngram import build_default_model

    build_default_model()
