from django import forms

from rooms.actions import TITLE_MAX


class GoLiveForm(forms.Form):
    title = forms.CharField(
        max_length=TITLE_MAX, strip=True, widget=forms.TextInput(attrs={"placeholder": "What's this live about?"})
    )
