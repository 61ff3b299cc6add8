from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LimitsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "limits"
    verbose_name = _("Credit limits")

    def ready(self) -> None:
        from . import contingency

        contingency.register()  # early-warning alerts put holds and reviews through this app's services
        from customers.actions import register_customer_action

        from .actions import limit_actions

        register_customer_action(limit_actions)  # the customer 360's way into the credit file
