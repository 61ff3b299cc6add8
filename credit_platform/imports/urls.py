from django.urls import path

from . import mapping_views, views

urlpatterns = [
    path("", views.import_list, name="import-list"),
    path("<int:pk>/", views.import_detail, name="import-detail"),
    path("templates/<slug:kind>.csv", views.import_template, name="import-template"),
    path("new/", mapping_views.import_new, name="import-new"),
    path("staged/<int:pk>/map/", mapping_views.import_map, name="import-map"),
    path("<int:pk>/import/", mapping_views.import_rerun, name="import-rerun"),
    path("<int:pk>/errors.csv", mapping_views.import_error_file, name="import-error-file"),
]
