from django.urls import path

from . import views

urlpatterns = [
    path("", views.import_list, name="import-list"),
    path("<int:pk>/", views.import_detail, name="import-detail"),
    path("templates/<slug:kind>.csv", views.import_template, name="import-template"),
]
