# One image for web, worker and beat; the service's command picks the role.
# Pinned to Debian 12: its postgresql-client-15 matches the stack's PostgreSQL 15 server (trixie has
# no postgresql-client-15).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# pg_dump / pg_restore for `manage.py backup` and `restore` (the server is PostgreSQL 15); Pango for
# WeasyPrint (the hand-over report's PDF).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 \
    libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY portal portal
COPY core core
COPY accounts accounts
COPY plants plants
COPY devices devices
COPY alarms alarms
COPY energy energy
COPY commissioning commissioning
COPY monitoring monitoring
COPY privacy privacy
RUN pip install --no-cache-dir .
COPY . .
RUN SECRET_KEY=build DEBUG=0 python manage.py collectstatic --noinput -v0
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "-c", "deploy/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "3"]
