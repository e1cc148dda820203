from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dashboard.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed
        from django.db.models.signals import post_migrate

        from . import login_audit, roles

        post_migrate.connect(roles.sync_role_groups, sender=self)
        user_login_failed.connect(login_audit.record_login_failed, dispatch_uid="console_login_failed_audit")
