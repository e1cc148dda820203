from django.urls import path

from . import views

app_name = "capacity"
urlpatterns = [path("", views.overview, name="overview")]
