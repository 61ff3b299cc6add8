from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy

from . import views

admin.site.site_header = gettext_lazy("Credit platform administration")
admin.site.site_title = gettext_lazy("Credit platform")
admin.site.index_title = gettext_lazy("Credit administration")

handler400 = "credit_platform.error_views.bad_request"
handler403 = "credit_platform.error_views.permission_denied"
handler404 = "credit_platform.error_views.page_not_found"
handler500 = "credit_platform.error_views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organization/switch/", views.switch_organization, name="switch-organization"),
    path("imports/", include("credit_platform.imports.urls")),
    path("onboarding/", include("onboarding.urls")),
    path("customers/", include("customers.urls")),
    path("receivables/", include("receivables.urls")),
    path("scoring/", include("scoring.urls")),
    path("limits/", include("limits.urls")),
    path("alerts/", include("alerts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("credit_platform.api_urls", "api"), namespace="api")),
    path("i18n/setlang/", views.language_set, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
]
