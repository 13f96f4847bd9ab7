from django import forms
from django.utils.translation import gettext_lazy

from rooms.actions import TITLE_MAX


class GoLiveForm(forms.Form):
    title = forms.CharField(
        max_length=TITLE_MAX,
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("What's this live about?")}),
    )
