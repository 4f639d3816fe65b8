#!/usr/bin/env bash
# Staged, idempotent install of the MuseBench stack into a virtual environment.
# pip's resolver cannot express the --no-deps installs below, so they are done in stages.
set -euo pipefail
VENV=${1:-.venv}
PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
# 1. torch first (CPU wheel from local disk here; CUDA build of the same version elsewhere),
#    setuptools<81 keeps pkg_resources for resampy; cython+wheel build fastdtw's C extension.
$PIP install 'torch==2.13.0' 'setuptools<81' wheel cython 'numpy>=1.26,<3'
# 2. fastdtw with its C extension (a plain install silently falls back to pure Python).
if ! "$VENV/bin/python" -c 'import fastdtw._fastdtw' 2>/dev/null; then
  $PIP install --no-build-isolation --no-cache-dir --no-deps 'fastdtw==0.3.4'
fi
"$VENV/bin/python" -c 'import fastdtw._fastdtw' || { echo "fastdtw C extension missing" >&2; exit 1; }
# 3. packages whose metadata pulls what we must not install (tensorflow, torchaudio, pyaudio).
$PIP install --no-deps 'basic-pitch==0.4.0' 'transkun==2.0.1' 'tinysoundfont==0.3.7' 'torchcrepe==0.0.24'
# 4. everything else, resolved normally.
$PIP install -r requirements.txt
# 5. the project itself.
$PIP install --no-deps --no-build-isolation -e .
