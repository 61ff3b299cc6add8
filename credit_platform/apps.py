from django.apps import AppConfig


class CreditPlatformConfig(AppConfig):
    name = "credit_platform"
    verbose_name = "Platform (tenants, audit, FX)"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .labels import apply_labels
        from .middleware import remember_language_at_sign_in

        apply_labels()
        user_logged_in.connect(remember_language_at_sign_in, dispatch_uid="remember_language_at_sign_in")
