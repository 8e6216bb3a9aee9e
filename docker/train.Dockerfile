# Headless training image: trains with `aip train`, tracking into /runs (mount a volume there) or into
# the MLflow server named by MLFLOW_TRACKING_URI.
#   docker build -f docker/train.Dockerfile -t aip-train .
#   docker run --rm -v "$PWD/runs:/runs" aip-train                     # the main job: chase-v1
#   docker run --rm -v "$PWD/runs:/runs" aip-train train dodge-v1 seed=3
#   docker run --rm -e MLFLOW_TRACKING_URI=http://tracking:5000 aip-train train intercept-v1
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ cmake \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu \
    SDL_VIDEODRIVER=dummy \
    SDL_AUDIODRIVER=dummy

WORKDIR /aip
COPY . .
RUN python3 tools/dev.py setup

WORKDIR /runs
ENTRYPOINT ["/aip/.venv/bin/aip"]
CMD ["train", "chase-v1"]
