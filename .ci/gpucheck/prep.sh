#!/usr/bin/env bash
# Lay out the GPU check in .cache/gpucheck/ (git-ignored), from anywhere in the checkout:
#   .ci/gpucheck/prep.sh [--nvcc]
# the same as `invoke gpucheck [--nvcc]`; the logic is tools/gpucheck.py. It
# prints the sizes, the paths to carry and the command to run on the GPU machine.
set -eu
cd "$(dirname "$0")/../.."
py=${PYTHON:-}
if [ -z "$py" ]; then
  if [ -x .venv/bin/python ]; then py=.venv/bin/python; else py=python3; fi
fi
PYTHONPATH="$PWD/plugins:$PWD${PYTHONPATH:+:$PYTHONPATH}" exec "$py" -m tools.gpucheck "$@"
