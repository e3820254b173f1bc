#!/usr/bin/env bash
# The GPU check, on a machine with an NVIDIA GPU and no network, from the checkout's root:
#   bash .cache/gpucheck/run.sh
# `invoke gpucheck` (tools/gpucheck.py) lays out .cache/gpucheck/ (this script,
# probes.py, report.py, req.txt, wheels/, maybe nvcc.tar.xz) and plugins/execblog.egg-info;
# both travel beside the checkout. Expects python3 3.12 with CuPy (CUDA 13), NumPy,
# matplotlib and pytest (PyTorch and JAX are looked at where importable).
#
# Stages, each under its own limit and all within GPUCHECK_BUDGET seconds (default 450, so
# the whole check ends within 8 minutes): preflight facts, offline install, probes, the
# GPU-relevant tests, the example site built on the GPU, `invoke bench` (short form), then
# a SUMMARY. Everything lands under $OUT (default /tmp/gpucheck-out): run.log, summary.txt,
# junit.xml, build.log, report.json, bench-tables.html, bench.json (7 files).
# GPUCHECK_STAGES="install tests" runs only those stages (keep install: a machine starts
# bare); pytest reads more arguments from PYTEST_ADDOPTS (shell-quoted: -k 'gpu or cuda').
set -u
export G=${GPUCHECK_DIR:-.cache/gpucheck}
export OUT=${OUT:-/tmp/gpucheck-out}
export WORK=${GPUCHECK_WORK:-/tmp/gpucheck-work}  # scratch: the site, its cache, stage records
export PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
BUDGET=${GPUCHECK_BUDGET:-450}
STAGES=" ${GPUCHECK_STAGES:-preflight install probes tests showcase bench} "
RESERVE=20  # seconds kept for the summary
mkdir -p "$OUT"; rm -rf "$WORK"; mkdir -p "$WORK"
# no result of an earlier run may pass for this one's
rm -f "$OUT"/{run.log,summary.txt,junit.xml,build.log,report.json,bench-tables.html,bench.json}
exec > >(tee "$OUT/run.log") 2>&1
[ -f "$G/report.py" ] || { echo "no $G/report.py: run invoke gpucheck (or .ci/gpucheck/prep.sh) first"; exit 2; }
[ -f pyproject.toml ] && [ -d plugins ] || { echo "run this from the checkout's root"; exit 2; }
start=$SECONDS

# stage NAME LIMIT FUNCTION: run FUNCTION under `timeout`, for at most LIMIT seconds and no
# longer than the budget leaves; record "NAME rc seconds limit" in $WORK/stages.txt
stage() {
  local name=$1 limit=$2 fn=$3 left t0 rc
  [[ $STAGES == *" $name "* ]] || return 0
  left=$(( BUDGET - RESERVE - (SECONDS - start) ))
  if (( left < 15 )); then
    echo "== $name: skipped, the budget (${BUDGET}s) is spent"
    echo "$name skipped 0 0" >> "$WORK/stages.txt"; return
  fi
  (( limit > left )) && limit=$left
  echo; echo "== $name (at most ${limit}s) $(date -u +%T)"
  t0=$SECONDS
  timeout -k 10 "$limit" bash -c "$fn"; rc=$?
  (( rc == 124 || rc == 137 )) && echo "== $name: TIMED OUT after ${limit}s"
  echo "$name $rc $(( SECONDS - t0 )) $limit" >> "$WORK/stages.txt"
}

do_preflight() {
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_mode,mig.mode.current,persistence_mode --format=csv
  ls -l /dev/nvidia* 2>&1; ls /proc/driver/nvidia/gpus 2>&1; echo "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-unset}"
  command -v "$PY"; "$PY" --version; command -v gcc g++ nvcc; gcc --version 2>&1 | head -1
  timeout 40 "$PY" -c "import cupy; cupy.show_config()" 2>&1 | head -40
  "$PY" "$G/report.py" facts --work "$WORK"
}

do_install() {
  # into this interpreter (the tests reset PYTHONPATH); what is there already stays
  "$PY" -m pip install -q --disable-pip-version-check --break-system-packages --no-index \
      --find-links "$G/wheels" -r "$G/req.txt" \
    || "$PY" -m pip install -q --disable-pip-version-check --no-index \
      --find-links "$G/wheels" -r "$G/req.txt" || { echo "PIP FAILED"; return 1; }
  # as pip install -e . would: plugins/ on every process's sys.path, the entry points (the
  # language kinds, cuda included) from plugins/execblog.egg-info beside it
  "$PY" -c "import site, sys; open(site.getsitepackages()[0] + '/execblog-dev.pth', 'w').write(sys.argv[1] + '\n')" "$PWD/plugins"
  "$PY" -c "from importlib.metadata import entry_points as e; print('pelican_fences:', sorted(x.name for x in e(group='pelican_fences')))"
  if ! command -v nvcc >/dev/null && [ -f "$G/nvcc.tar.xz" ]; then
    mkdir -p "$WORK/cuda" && "$PY" -c "import tarfile, sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$G/nvcc.tar.xz" "$WORK/cuda" \
      && echo "nvcc unpacked into $WORK/cuda"
  fi
}

do_probes() {
  "$PY" "$G/probes.py" | tee "$WORK/probes.txt"
}

do_tests() {
  shopt -s nullglob
  local f files=() seen=" tests/test_gpucheck.py "  # that one tests this kit, on the CPU
  # the GPU-relevant test files: those that exist
  for f in tests/test_gpu*.py tests/test_*backend*.py tests/test_cuda*.py tests/test_bench*.py \
           tests/test_frameworks*.py tests/test_hooks.py tests/test_fences_run.py \
           tests/test_fences_failures.py tests/test_fences_cache.py tests/test_containment.py \
           tests/test_resume.py tests/test_export.py; do
    [ -f "$f" ] && [[ $seen != *" $f "* ]] && files+=("$f") && seen+="$f "
  done
  echo "test files: ${files[*]}"
  # -p no:benchmark: the GPU machine has pytest-benchmark, whose `benchmark` fixture clashes
  # with names of ours; pyproject's addopts add -n auto --dist loadfile (pytest-xdist)
  "$PY" -m pytest -p no:cacheprovider -p no:benchmark -q -rfEs --tb=short \
    --junitxml="$OUT/junit.xml" "${files[@]}"
}

do_showcase() {
  rm -rf "$WORK/site" "$WORK/fcache"
  "$PY" -m pelican content -s pelicanconf.py -o "$WORK/site" \
    -e "FENCES_CACHE_PATH=\"$WORK/fcache\"" > "$OUT/build.log" 2>&1
  local rc=$?
  echo "pelican rc=$rc"
  grep -E "ERROR|WARNING|error|warning|fences:|Done" "$OUT/build.log" | tail -40
  cp "$WORK/fcache/report.json" "$OUT/" 2>/dev/null
  "$PY" "$G/report.py" tables --site "$WORK/site" --out "$OUT/bench-tables.html"
  return $rc
}

do_bench() {
  # the synthetic site (40 posts x 5 fences), plain and warm builds once each
  "$PY" -m invoke bench --posts 40 --repeat 1 --results "$OUT/bench.json"
}

export -f do_preflight do_install do_probes do_tests do_showcase do_bench
echo "== GPU check $(date -u +%FT%TZ), budget ${BUDGET}s, OUT=$OUT"
stage preflight 100 do_preflight
stage install 120 do_install
if ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin "$WORK/cuda/bin"; do [ -x "$d/nvcc" ] && export PATH="$d:$PATH" && break; done
fi
stage probes 120 do_probes
stage tests 210 do_tests
stage showcase 150 do_showcase
stage bench 120 do_bench
echo; echo "== done in $(( SECONDS - start ))s $(date -u +%T)"
timeout 30 "$PY" "$G/report.py" summary --work "$WORK" --out "$OUT" | tee "$OUT/summary.txt"
