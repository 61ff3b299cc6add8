from django.urls import path

from . import api

urlpatterns = [
    path("check/", api.CreditCheckAPI.as_view(), name="limits-check"),
    path("requests/", api.RequestListCreate.as_view(), name="limits-requests"),
    path("requests/<int:pk>/decide/", api.RequestDecide.as_view(), name="limits-request-decide"),
    path("holds/", api.HoldListCreate.as_view(), name="limits-holds"),
    path("holds/<int:pk>/release/", api.HoldRelease.as_view(), name="limits-hold-release"),
    path("exposure/", api.ExposureAPI.as_view(), name="limits-exposure"),
]
