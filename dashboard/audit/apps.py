from django.apps import AppConfig
from django.db.backends.signals import connection_created


class AuditConfig(AppConfig):
    name = "dashboard.audit"
    label = "audit"

    def ready(self) -> None:
        from . import triggers

        connection_created.connect(triggers.register_sqlite_function, dispatch_uid="audit_sqlite_function")
