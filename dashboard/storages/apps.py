from django.apps import AppConfig


class StoragesConfig(AppConfig):
    name = "dashboard.storages"
    label = "storages"
