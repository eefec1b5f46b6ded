# syntax=docker/dockerfile:1
# The shop as an image: the release of docs/deploy.md (code at /srv/shop/app, its virtualenv
# in .venv from requirements.lock with hashes, static files collected), run as `shop`.
# compose.yaml runs it as web (this CMD), worker, beat and the one-shot migrate.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /srv/shop/app
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN python -m venv .venv \
 && .venv/bin/pip install --quiet --require-hashes -r requirements.lock
COPY . .
# The release itself (editable: the code stays here), then the static files with their
# hashed names and manifest, as `collectstatic` makes them for DEBUG off.
RUN .venv/bin/pip install --quiet --no-deps --editable . \
 && DEBUG=false .venv/bin/python manage.py collectstatic --noinput -v 0

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PATH=/srv/shop/app/.venv/bin:$PATH \
    DEBUG=false \
    GUNICORN_BIND=0.0.0.0:8000
RUN groupadd --system shop \
 && useradd --system --gid shop --home-dir /srv/shop --no-create-home --shell /usr/sbin/nologin shop \
 && install -d -o shop -g shop -m 0750 /var/lib/shop
WORKDIR /srv/shop/app
# Owned by root: the shop's user reads the code and the static files, writes nothing there.
COPY --from=build /srv/shop/app /srv/shop/app
USER shop
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/srv/shop/app/.venv/bin/python", "deploy/healthcheck.py"]
CMD ["/srv/shop/app/.venv/bin/gunicorn", "--config", "deploy/gunicorn.conf.py", "config.wsgi:application"]
