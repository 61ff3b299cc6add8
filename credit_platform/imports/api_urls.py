from django.urls import path

from . import api

urlpatterns = [
    path("", api.ImportListCreate.as_view(), name="imports"),
    path("<int:pk>/", api.ImportDetailAPI.as_view(), name="import-detail"),
]
