from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self) -> None:
        from credit_platform.imports.engine import import_written

        from . import receivers

        import_written.connect(receivers.on_import_written, dispatch_uid="alerts.import_written")
