"""Account forms: sign-up with usernames nobody can mistake for someone else's."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from liverooms.usernames import USERNAME_MAX, username_problem


class SignupForm(UserCreationForm[User]):
    """Django's sign-up form, with liverooms' username rule (`liverooms.usernames`)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.widget.attrs["maxlength"] = str(USERNAME_MAX)
        field.help_text = _("Up to %(max)d characters: letters a to z, digits, and . _ -") % {"max": USERNAME_MAX}

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        problem = username_problem(username)
        if problem is not None:
            raise forms.ValidationError(problem, code="username")
        return username
