from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET


@login_not_required
@require_GET
def healthz(request):
    """Liveness only: the process serves requests. It does not call ZStack (that is not our liveness)."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("storages/", include("dashboard.storages.urls")),
    path("audit/", include("dashboard.audit.urls")),
    path("", include("dashboard.storages.root_urls")),
]
