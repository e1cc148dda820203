"""System checks: global thresholds that would make every badge wrong are refused at start-up."""

from __future__ import annotations

from django.core.checks import Error, register

from . import thresholds


@register()
def thresholds_in_order(app_configs, **kwargs):
    """The same rule as a storage's own pair (forms.ThresholdsForm): 0 < warning < critical <= 100."""
    warning, critical = thresholds.warning_percent(), thresholds.critical_percent()
    if not 0 < warning < critical <= 100:
        return [
            Error(
                f"CAPACITY_WARNING_PERCENT={warning:g} and CAPACITY_CRITICAL_PERCENT={critical:g} must satisfy "
                "0 < warning < critical <= 100.",
                hint="Set the warning percentage below the critical one, both between 0 and 100.",
                id="capacity.E001",
            )
        ]
    return []
