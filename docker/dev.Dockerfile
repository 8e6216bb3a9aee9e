# Development image: the repository with its environment set up by the README's own commands.
#   docker build -f docker/dev.Dockerfile -t aip-dev .
#   docker run --rm aip-dev                       # the whole test suite (python3 tools/dev.py test)
#   docker run --rm -it aip-dev bash              # a shell with .venv ready
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ cmake git \
    && rm -rf /var/lib/apt/lists/*

# torch's CPU build (constraints-dev.txt pins the version); without this index pip takes the CUDA build.
ENV PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu \
    SDL_VIDEODRIVER=dummy \
    SDL_AUDIODRIVER=dummy

WORKDIR /aip
COPY . .
RUN python3 tools/dev.py setup

CMD ["python3", "tools/dev.py", "test"]
