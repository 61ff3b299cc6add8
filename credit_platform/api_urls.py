from rest_framework.routers import DefaultRouter

from customers.api import CustomerViewSet, FinancialStatementViewSet
from receivables.api import InvoiceViewSet, PaymentViewSet

router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("statements", FinancialStatementViewSet, basename="statement")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("payments", PaymentViewSet, basename="payment")

urlpatterns = router.urls
