from django.urls import path

from . import api

urlpatterns = [
    path("", api.AlertList.as_view(), name="alerts"),
    path("<int:pk>/", api.AlertUpdate.as_view(), name="alert-update"),
]
