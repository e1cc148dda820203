from django.urls import path

from . import views

app_name = "storages"
urlpatterns = [
    path("", views.storage_list, name="list"),
]
