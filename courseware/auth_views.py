"""Django's account views, answering 400 when the submitted form is invalid.

Django re-renders an invalid form with 200; we answer 400 like every other form
here, so clients, tests and logs can tell a rejected submission from a page view.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.utils.decorators import method_decorator

from . import ratelimit
from .forms import LoginForm


class InvalidFormIs400:
    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class LoginView(InvalidFormIs400, auth_views.LoginView):
    """Limited by address (every POST counts) and by account (failed log-ins count, so
    nobody can spend an account's allowance by logging in to it successfully; axes locks
    an account from one address after five failures, this bounds all addresses)."""

    authentication_form = LoginForm

    def post(self, request, *args, **kwargs):
        wait = ratelimit.first_refusal(request, (ratelimit.LOGIN_ADDRESS,))
        if wait is None:
            wait = ratelimit.retry_after(ratelimit.LOGIN_ACCOUNT, request, count=False)
        if wait is not None:
            return ratelimit.too_many_requests(request, wait)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 400:
            ratelimit.record(ratelimit.LOGIN_ACCOUNT, request)
        return response


class PasswordChangeView(InvalidFormIs400, auth_views.PasswordChangeView):
    pass


@method_decorator(
    ratelimit.rate_limited(ratelimit.RESET_ADDRESS, ratelimit.RESET_EMAIL), name="post"
)
class PasswordResetView(InvalidFormIs400, auth_views.PasswordResetView):
    pass


class PasswordResetConfirmView(InvalidFormIs400, auth_views.PasswordResetConfirmView):
    pass
