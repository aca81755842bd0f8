from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.core.validators import MaxLengthValidator

from .models import JOIN_CODE_LENGTH
from .numbers import parse_decimal, parse_int


class StrictIntegerField(forms.IntegerField):
    """An IntegerField that reads only ASCII digits of bounded length (courseware.numbers):
    Django's accepts "٣" and "5.0"."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_int(value if isinstance(value, str) else str(value), signed=True)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class StrictDecimalNumberField(forms.FloatField):
    """A FloatField that reads only a plain ASCII decimal (no exponent, nan or inf)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_decimal(value if isinstance(value, str) else str(value), signed=True)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class LoginForm(AuthenticationForm):
    """Django's login form, refusing a username longer than any account's before it
    reaches authentication: the lockout records a failed username in a 255-character
    column, so a longer one was a database error (a 500) instead of a form error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        limit = self.username_field.max_length or 150
        field.validators.append(
            MaxLengthValidator(
                limit,
                message=f"No account has a username that long: at most {limit} characters.",
            )
        )


class JoinCodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Class join code")
        kwargs.setdefault("max_length", JOIN_CODE_LENGTH + 6)
        kwargs.setdefault(
            "help_text", "Ten letters and digits from your instructor, e.g. ABCDE-FGH23."
        )
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        )


class SignupForm(forms.Form):
    """Fields only: the service decides whether the code admits and creates the account.
    Whether a name is taken is said only after the join code is found valid (the
    service), so sign-up cannot be used to list usernames without a code."""

    join_code = JoinCodeField()
    username = UsernameField(
        max_length=150,
        validators=[
            ASCIIUsernameValidator(
                message=(
                    "Use only the English letters a–z and A–Z, digits and @ . + - _"
                    " (no accents or other alphabets)."
                )
            )
        ],
        help_text=(
            "English letters a–z and A–Z, digits and @ . + - _ only: no accents or other"
            " alphabets, so no two names look alike, and a name taken in any case (Sam,"
            " sam) is taken. Your classmates never see it unless your instructor shows names."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    email = forms.EmailField(
        required=False,
        help_text="Optional: only used to reset your password.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            user = get_user_model()(
                username=cleaned.get("username", ""), email=cleaned.get("email", "")
            )
            try:
                password_validation.validate_password(p1, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class JoinForm(forms.Form):
    join_code = JoinCodeField()


class SampleForm(forms.Form):
    """The numbers of the sampling demo. Text is read by the view (cut, never rejected)."""

    temperature = StrictDecimalNumberField(
        required=False,
        min_value=0.1,
        max_value=5.0,
        error_messages={
            "invalid": "The temperature must be a number, such as 0.7.",
            "min_value": "The temperature must be at least 0.1.",
            "max_value": "The temperature must be at most 5.",
        },
    )
    seed = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=2**32 - 1,
        error_messages={
            "invalid": "The seed must be a whole number, such as 42.",
            "min_value": "The seed must be 0 or more.",
            "max_value": "The seed must be at most 4294967295.",
        },
    )


class GuessForm(forms.Form):
    """One answer of "which stage wrote this?"."""

    response = StrictIntegerField(min_value=1)
    guess = forms.ChoiceField(choices=[("base", "Base"), ("sft", "SFT"), ("rlhf", "RLHF")])
