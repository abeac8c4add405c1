# The worker image for Kubernetes: the queue worker, bubblewrap, and the toolchains submissions run with
# (bubblewrap binds this image's /usr read-only into each sandbox, as it binds the host's outside a pod).
#   docker build -f deploy/k8s/worker.Dockerfile -t reward-worker .      (from the repository root)
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      bubblewrap python3 g++ openjdk-17-jdk-headless nodejs golang-go rustc >/dev/null \
 && rm -rf /var/lib/apt/lists/* /usr/share/man/* /usr/share/doc/* \
 && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin reward
WORKDIR /app
COPY pyproject.toml README.md ./
COPY reward_service ./reward_service
COPY sandbox ./sandbox
RUN pip install --quiet . && rm -rf build
USER 10001:10001
CMD ["python", "-m", "reward_service", "worker"]
