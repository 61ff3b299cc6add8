"""Embedded developer mode: `make run`. Debug on, an insecure key that is fine on 127.0.0.1 only."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="django-insecure-local-only-8f3k2m1x9q7w4e6r5t0y")
