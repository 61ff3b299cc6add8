from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """The import pipeline's own tables: saved column mappings, staged uploads, per-import details and
    historical loads (``ImportLog`` itself stays in ``credit_platform``)."""

    name = "credit_platform.imports"
    label = "imports"
    verbose_name = _("Imports")
    default_auto_field = "django.db.models.BigAutoField"
