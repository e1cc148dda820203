from django.urls import path, register_converter

from . import views
from .forms import RESOURCE_UUID


class ResourceUuidConverter:
    """ZStack uuids are 32 hex characters; accept a little more, but never query-operator characters."""

    regex = RESOURCE_UUID

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ResourceUuidConverter, "zuuid")

app_name = "storages"
urlpatterns = [
    path("", views.storage_list, name="list"),
    path("<zuuid:uuid>/", views.storage_detail, name="detail"),
    path("<zuuid:uuid>/card/", views.storage_card, name="card"),
    path("<zuuid:uuid>/edit/", views.storage_edit, name="edit"),
    path("<zuuid:uuid>/reconnect/", views.storage_reconnect, name="reconnect"),
    path("<zuuid:uuid>/enable/", views.storage_enable, name="enable"),
    path("<zuuid:uuid>/disable/", views.storage_disable, name="disable"),
    path("<zuuid:uuid>/reclaim/", views.storage_reclaim, name="reclaim"),
    path("<zuuid:uuid>/images/", views.storage_images, name="images"),
    path("<zuuid:uuid>/submissions/<zuuid:nonce>/", views.storage_submission, name="submission"),
]
