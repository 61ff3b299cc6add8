# Image for web (gunicorn), worker and beat. Static files are served by WhiteNoise: no CDN, no nginx needed.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=credit_platform.settings.production
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -c constraints.txt . && \
    DJANGO_SECRET_KEY=build-only-not-secret-000000000000000000000000000000000000 DJANGO_ALLOWED_HOSTS=build \
    DATABASE_URL=sqlite:////tmp/build.db python manage.py collectstatic --noinput && \
    DJANGO_SECRET_KEY=build-only-not-secret-000000000000000000000000000000000000 DJANGO_ALLOWED_HOSTS=build \
    DATABASE_URL=sqlite:////tmp/build.db python manage.py compile_catalogs
RUN useradd --create-home credit && mkdir -p /app/var && chown -R credit /app/var
USER credit
EXPOSE 8000
CMD ["gunicorn", "credit_platform.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
