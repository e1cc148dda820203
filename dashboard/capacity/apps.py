from django.apps import AppConfig


class CapacityConfig(AppConfig):
    """Capacity insight (issue 12): snapshots of every storage's used/total bytes, forecasts, the overview."""

    name = "dashboard.capacity"
    label = "capacity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
