from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView
from django.views.i18n import set_language

from dashboard.accounts import views as account_views


@login_not_required
@require_GET
def healthz(request):
    """Liveness only: the process serves requests. It does not call ZStack (that is not our liveness)."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", account_views.LogoutView.as_view(), name="logout"),
    # The language switcher must work on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("storages/", include("dashboard.storages.urls")),
    path("audit/", include("dashboard.audit.urls")),
    path("capacity/", include("dashboard.capacity.urls")),
    path("", RedirectView.as_view(pattern_name="storages:list"), name="home"),
]
