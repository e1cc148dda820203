"""The per-storage thresholds form: validates and normalises, nothing else (services.set_thresholds writes)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dashboard.audit.labels import FIELD_LABELS


class ThresholdsForm(forms.Form):
    """0 < warning < critical <= 100, in whole or tenth percents (the badge shows them as typed)."""

    warning = forms.DecimalField(
        label=FIELD_LABELS["warningPercent"],
        max_digits=4,
        decimal_places=1,
        error_messages={"required": _("Enter the warning threshold, a percentage.")},
    )
    critical = forms.DecimalField(
        label=FIELD_LABELS["criticalPercent"],
        max_digits=4,
        decimal_places=1,
        error_messages={"required": _("Enter the critical threshold, a percentage.")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.update(min="0.1", max="100", step="0.1", inputmode="decimal")

    def clean_warning(self) -> Decimal:
        value = self.cleaned_data["warning"]
        if value <= 0:
            raise ValidationError(_("The warning threshold must be more than 0%."), code="warning_low")
        if value >= 100:
            raise ValidationError(_("The warning threshold must be below 100%."), code="warning_high")
        return value

    def clean_critical(self) -> Decimal:
        value = self.cleaned_data["critical"]
        if value <= 0:
            raise ValidationError(_("The critical threshold must be more than 0%."), code="critical_low")
        if value > 100:
            raise ValidationError(_("The critical threshold can be 100% at most."), code="critical_high")
        return value

    def clean(self):
        data = super().clean()
        warning, critical = data.get("warning"), data.get("critical")
        if warning is not None and critical is not None and warning >= critical:
            self.add_error(
                "critical",
                ValidationError(
                    _("The critical threshold must be above the warning threshold (%(warning)s%%)."),
                    code="order",
                    params={"warning": warning},
                ),
            )
        return data

    @property
    def values(self) -> tuple[float, float]:
        return float(self.cleaned_data["warning"]), float(self.cleaned_data["critical"])
