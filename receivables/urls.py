from django.urls import path

from . import views

urlpatterns = [
    path("", views.OverviewView.as_view(), name="collections-overview"),
    path("collections/", views.WorklistView.as_view(), name="collections-worklist"),
    path("collections/<int:pk>/", views.CustomerFileView.as_view(), name="collections-file"),
    path("customers/<int:pk>/statement.pdf", views.StatementPdfView.as_view(), name="collections-statement"),
    path("dunning/", views.DunningView.as_view(), name="collections-dunning"),
    path("ecl/", views.EclView.as_view(), name="collections-ecl"),
    path("invoices/", views.InvoiceListView.as_view(), name="collections-invoices"),
]
