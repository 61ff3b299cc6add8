from django.apps import AppConfig


class CreditPlatformConfig(AppConfig):
    name = "credit_platform"
    verbose_name = "Platform (tenants, audit, FX)"
