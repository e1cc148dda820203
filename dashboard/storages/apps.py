from django.apps import AppConfig


class StoragesConfig(AppConfig):
    name = "dashboard.storages"
    label = "storages"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401 - registers the system checks
            zstack_client,  # noqa: F401 - rebuilds the ZStack client when its settings change
        )
