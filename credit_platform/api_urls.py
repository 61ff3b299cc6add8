from django.urls import include, path
from rest_framework.routers import DefaultRouter

from customers.api import CustomerViewSet, FinancialStatementViewSet
from receivables import api as receivables_api
from receivables.api import InvoiceViewSet, PaymentViewSet
from scoring import api as scoring_api

router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("statements", FinancialStatementViewSet, basename="statement")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("payments", PaymentViewSet, basename="payment")

urlpatterns = [
    *router.urls,
    path("promises/", receivables_api.PromiseListCreate.as_view(), name="promises"),
    path("disputes/", receivables_api.DisputeListCreate.as_view(), name="disputes"),
    path("disputes/<int:pk>/resolve/", receivables_api.DisputeResolve.as_view(), name="dispute-resolve"),
    path("customers/<int:pk>/score/", scoring_api.CustomerScoreAPI.as_view(), name="customer-score"),
    path("grades/", scoring_api.GradeDistributionAPI.as_view(), name="grades"),
    path("limits/", include("limits.api_urls")),
    path("alerts/", include("alerts.api_urls")),
    path("imports/", include("credit_platform.imports.api_urls")),
]
