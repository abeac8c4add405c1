# The reward service image: the API (`serve`) and the Redis queue workers (`worker`). No trainer extras.
#   docker build -t reward-service .        (compose.yaml builds it for you)
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p reward_service sandbox \
 && touch reward_service/__init__.py sandbox/__init__.py \
 && pip install --quiet . \
 && pip uninstall --quiet -y reward-service \
 && rm -rf reward_service sandbox build

COPY reward_service ./reward_service
COPY sandbox ./sandbox
RUN pip install --quiet --no-deps . && rm -rf build \
 && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin reward

# The API runs unprivileged; compose runs the workers as root because they hold the Docker socket.
USER 10001:10001
EXPOSE 8000
ENV REWARD_HOST=0.0.0.0 REWARD_PORT=8000
CMD ["python", "-m", "reward_service", "serve"]
