"""Django's account views, answering 400 when the submitted form is invalid.

Django re-renders an invalid form with 200; we answer 400 like every other form
here, so clients, tests and logs can tell a rejected submission from a page view.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from .forms import LoginForm


class InvalidFormIs400:
    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class LoginView(InvalidFormIs400, auth_views.LoginView):
    authentication_form = LoginForm


class PasswordChangeView(InvalidFormIs400, auth_views.PasswordChangeView):
    pass


class PasswordResetView(InvalidFormIs400, auth_views.PasswordResetView):
    pass


class PasswordResetConfirmView(InvalidFormIs400, auth_views.PasswordResetConfirmView):
    pass
