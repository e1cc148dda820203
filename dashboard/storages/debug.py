"""Error reports that keep secrets out even with DEBUG on.

Django's SafeExceptionReporterFilter honours ``sensitive_post_parameters`` and ``sensitive_variables``
only while DEBUG is off ("if DEBUG is True then your site is not safe anyway"). ``make run`` serves with
DEBUG on, and its debug page would show the SSH password an administrator just typed. This filter is
always active; settings.DEFAULT_EXCEPTION_REPORTER_FILTER makes it the project's.
"""

from __future__ import annotations

from django.views.debug import SafeExceptionReporterFilter


class SecretsHiddenExceptionReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request) -> bool:
        return True
