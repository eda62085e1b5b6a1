# One image for web, worker and beat; the service's command picks the role.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY portal portal
COPY plants plants
COPY devices devices
COPY alarms alarms
RUN pip install --no-cache-dir . gunicorn
COPY . .
RUN SECRET_KEY=build DEBUG=0 python manage.py collectstatic --noinput -v0
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
