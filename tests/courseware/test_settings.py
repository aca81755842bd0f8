"""Production settings: check --deploy is clean and the security headers are sent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "x" * 20 + "a-production-like-secret-with-enough-entropy-9f8e7d6c5b4a",
    "DJANGO_ALLOWED_HOSTS": "course.example.org",
    # Django refuses a development email backend in production: name an SMTP host.
    "DJANGO_EMAIL_HOST": "smtp.example.org",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/courseware"),
}


def run_manage(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_values(tmp_path):
    env = PRODUCTION_ENV | {"DJANGO_STATIC_ROOT": str(tmp_path)}
    # Before collectstatic the deploy check says what is missing (issue 13, finding 9) …
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_extra=env)
    assert result.returncode != 0
    assert "courseware.W001" in result.stderr and "collectstatic" in result.stderr
    # … and after it, nothing.
    collected = run_manage("collectstatic", "--no-input", "-v0", env_extra=env)
    assert collected.returncode == 0, collected.stderr
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_extra=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env_extra=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_rate_limits_can_be_raised_from_the_environment_and_bad_values_refused():
    """A school behind one address may need more room than the defaults: the deployment
    says so without a code change, and a typo stops the start instead of being ignored."""
    show = "from django.conf import settings; print(settings.RATE_LIMITS['login-address'])"
    env = PRODUCTION_ENV | {"DJANGO_RATE_LIMITS": "login-address=900/60, reset-email=5/3600"}
    result = run_manage("shell", "-c", show, env_extra=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("(900, 60)")
    for bad in ("login-adress=900/60", "login-address=９00/60", "login-address=900/x"):
        result = run_manage(
            "shell", "-c", show, env_extra=PRODUCTION_ENV | {"DJANGO_RATE_LIMITS": bad}
        )
        assert result.returncode != 0
        assert "DJANGO_RATE_LIMITS" in result.stderr


@pytest.mark.django_db
def test_responses_carry_csp_without_inline_script_and_other_headers(client, content):
    response = client.get(reverse("courseware:home"))
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp  # no nonce: no inline script is allowed at all
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    # Every <script> is an external file of ours: no inline script anywhere.
    html = response.text
    assert html.count("<script") == html.count('<script src="') > 0
    assert "django_htmx/htmx-2.min.js" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


@pytest.mark.django_db
def test_secure_cookies_and_hsts_when_debug_is_off(client, settings, student):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = False
    response = client.post(
        reverse("login"),
        {"username": "student_a", "password": "a-long-test-password-42"},
        secure=True,
    )
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    csrf = client.get(reverse("login"), secure=True).cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    page = client.get(reverse("courseware:home"), secure=True)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
