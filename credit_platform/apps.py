from django.apps import AppConfig


class CreditPlatformConfig(AppConfig):
    name = "credit_platform"
    verbose_name = "Platform (tenants, audit, FX)"

    def ready(self) -> None:
        from .labels import apply_labels

        apply_labels()
