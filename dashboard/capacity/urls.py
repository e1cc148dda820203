from django.urls import path

from dashboard.storages import urls as storage_urls  # noqa: F401  (registers the zuuid converter)

from . import views

app_name = "capacity"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("storages/<zuuid:uuid>/thresholds/", views.thresholds_edit, name="thresholds"),
    path("storages/<zuuid:uuid>/thresholds/show/", views.thresholds_show, name="thresholds_show"),
    path("storages/<zuuid:uuid>/thresholds/reset/", views.thresholds_reset, name="thresholds_reset"),
]
