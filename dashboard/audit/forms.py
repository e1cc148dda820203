"""The audit log's filters, shared by the page and its exports (all GET parameters, all optional)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .labels import ACTION_LABELS, FIELD_LABELS, OUTCOME_LABELS

ANY = [("", _("Any"))]
DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]


class AuditFilterForm(forms.Form):
    since = forms.DateTimeField(
        label=_("From"),
        required=False,
        input_formats=DATETIME_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    until = forms.DateTimeField(
        label=_("Until"),
        required=False,
        input_formats=DATETIME_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    storage = forms.CharField(
        label=_("Storage"), required=False, max_length=255, help_text=_("UUID, or part of the name")
    )
    action = forms.ChoiceField(label=_("Action"), required=False, choices=ANY + list(ACTION_LABELS.items()))
    outcome = forms.ChoiceField(label=_("Outcome"), required=False, choices=ANY + list(OUTCOME_LABELS.items()))
    field = forms.ChoiceField(label=_("Changed field"), required=False, choices=ANY + list(FIELD_LABELS.items()))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("“Until” must not be before “From”."))
        for name in ("actor", "storage"):
            data[name] = (data.get(name) or "").strip()
        return data
