"""Embedded developer mode: `make run`. Debug on, an insecure key that is fine on 127.0.0.1 only."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="django-insecure-local-only-8f3k2m1x9q7w4e6r5t0y")
# E-mail the demo sends (dunning letters, statements) is written to files under var/mail/ (one file per
# sending connection), not printed: the demo seed alone sends about a thousand letters.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
