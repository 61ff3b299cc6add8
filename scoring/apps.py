from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from credit_platform.imports.engine import import_written, imports_ending
        from customers.models import ExternalSignal, FinancialStatement
        from receivables.models import Payment

        from . import receivers
        from .features import catalog

        catalog.register_templates()
        import_written.connect(receivers.on_import_written, dispatch_uid="scoring.import_written")
        imports_ending.connect(receivers.on_imports_ending, dispatch_uid="scoring.imports_ending")
        for model in (FinancialStatement, ExternalSignal, Payment):
            post_save.connect(receivers.on_record_saved, sender=model, dispatch_uid=f"scoring.saved.{model.__name__}")
