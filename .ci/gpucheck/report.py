"""The GPU check's facts and summary (run by run.sh; the standard library only).

    report.py facts --work DIR           versions and devices -> DIR/facts.json (and printed)
    report.py tables --site DIR --out F  the benchmark tables of the built site's posts -> F
    report.py summary --work DIR --out DIR
        the SUMMARY block: GPU, driver, CUDA/CuPy/torch/jax, stage times, probes, test
        counts and failing ids, the example site's fences, the bench ratios
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

CUPY = r"""
import json, cupy
r = cupy.cuda.runtime
v = lambda c: f"{c // 1000}.{(c % 1000) // 10}"
name = r.getDeviceProperties(0)["name"]
print(json.dumps({"version": cupy.__version__, "runtime": v(r.runtimeGetVersion()),
                  "driver": v(r.driverGetVersion()), "devices": r.getDeviceCount(),
                  "device": name.decode() if isinstance(name, bytes) else str(name)}))
"""
TORCH = r"""
import json, torch
ok = torch.cuda.is_available()
print(json.dumps({"version": torch.__version__, "cuda": torch.version.cuda, "available": ok,
                  "devices": [torch.cuda.get_device_name(i)
                              for i in range(torch.cuda.device_count())] if ok else []}))
"""
JAX = r"""
import json, jax
print(json.dumps({"version": jax.__version__, "backend": jax.default_backend(),
                  "devices": [str(d) for d in jax.devices()]}))
"""


def run(cmd: list[str], timeout: float = 30, env: dict | None = None) -> tuple[int, str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return -1, f"{type(exc).__name__}: {exc}"
    return proc.returncode, (proc.stdout if proc.returncode == 0 else proc.stderr or proc.stdout)


def python_json(code: str, timeout: float = 60, env: dict | None = None) -> dict | str:
    rc, text = run([sys.executable, "-c", code], timeout, env)
    if rc == 0:
        try:
            return json.loads(text.strip().splitlines()[-1])
        except (IndexError, ValueError):
            pass
    lines = text.strip().splitlines()
    return f"unavailable: {lines[-1] if lines else f'rc={rc}'}"[:200]


def _nvidia_smi() -> list[str] | str:
    rc, text = run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                    "--format=csv,noheader"])
    return text.strip().splitlines() if rc == 0 else f"nvidia-smi: {text.strip()[:200]}"


def _cuda_driver_api() -> str | None:
    m = re.search(r"CUDA Version:\s*([\d.]+)", run(["nvidia-smi"])[1])
    return m.group(1) if m else None


def _nvcc() -> str | None:
    rc, text = run(["nvcc", "--version"])
    return text.strip().splitlines()[-1] if rc == 0 and text.strip() else None


FACTS = {
    "gpu": _nvidia_smi,
    "cuda_driver_api": _cuda_driver_api,
    "nvcc": _nvcc,
    "cupy": lambda: python_json(CUPY, 40),
    "torch": lambda: python_json(TORCH, 40),
    # no preallocation: this only asks for the devices
    "jax": lambda: python_json(JAX, 40, {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}),
}


def facts(work: Path) -> dict:
    """What the closing note names: the GPU, driver, CUDA, and the frameworks' versions;
    written to DIR/facts.json after each, so a stage cut short keeps what it found."""
    f: dict = {"python": sys.version.split()[0], "executable": sys.executable}
    work.mkdir(parents=True, exist_ok=True)
    for key, get in FACTS.items():
        f[key] = get()
        print(f"FACT {key} {json.dumps(f[key])}", flush=True)
        (work / "facts.json").write_text(json.dumps(f, indent=1))
    return f


TABLE = re.compile(r'<table class="bench.*?</table>(?:\s*<p[^>]*>.*?</p>)?', re.S)


def tables(site: Path, dest: Path) -> int:
    """The benchmark tables of every post of the built site, into one HTML file."""
    parts = []
    for page in sorted(site.glob("posts/*/index.html")):
        found = TABLE.findall(page.read_text(encoding="utf-8", errors="replace"))
        if found:
            parts.append(f"<h2>{html.escape(page.parent.name)}</h2>\n" + "\n".join(found))
    dest.write_text("\n".join(parts), encoding="utf-8")
    print(f"bench tables: {sum(p.count('<table') for p in parts)} in {len(parts)} posts "
          f"-> {dest}")
    return len(parts)


def _text(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()


def table_rows(text: str) -> list[tuple[str, list[list[str]]]]:
    """(caption, rows of cell texts, the header first) of each table in ``text``."""
    result = []
    for table in re.findall(r"<table.*?</table>", text, re.S):
        caption = re.search(r"<caption>(.*?)</caption>", table, re.S)
        rows = [[_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
                for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
        result.append((_text(caption.group(1)) if caption else "", rows))
    return result


def test_id(classname: str, name: str) -> str:
    """junit's classname (``tests.test_gpu.TestX``) and name -> a pytest node id."""
    parts = classname.split(".")
    for i, part in enumerate(parts):
        if part.startswith("test_"):
            path = "/".join(parts[: i + 1]) + ".py"
            return "::".join([path, *parts[i + 1:], name])
    return "::".join([classname, name])


def junit_counts(path: Path) -> dict:
    """passed / failed / errors / skipped, the failing ids with their messages, and the
    skip reasons counted."""
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failing, reasons = [], Counter()
    for case in ET.parse(path).getroot().iter("testcase"):
        if "name" not in case.attrib:
            continue
        tid = test_id(case.get("classname", ""), case.get("name", ""))
        kinds = {child.tag: child for child in case}
        if "failure" in kinds or "error" in kinds:
            tag = "failure" if "failure" in kinds else "error"
            counts["failed" if tag == "failure" else "errors"] += 1
            message = (kinds[tag].get("message") or "").strip().splitlines()
            failing.append((tag, tid, message[0][:160] if message else ""))
        elif "skipped" in kinds:
            counts["skipped"] += 1
            reasons[(kinds["skipped"].get("message") or "").strip()[:140]] += 1
        else:
            counts["passed"] += 1
    return {**counts, "failing": failing, "skip_reasons": reasons}


def stages(work: Path) -> list[tuple[str, str, int, int]]:
    rows = []
    path = work / "stages.txt"
    if path.is_file():
        for line in path.read_text().splitlines():
            name, rc, seconds, limit = (line.split() + ["0"] * 4)[:4]
            rows.append((name, rc, int(seconds), int(limit)))
    return rows


def _version(value, *keys: str) -> str:
    if not isinstance(value, dict):
        return str(value)
    return " ".join(f"{k}={value[k]}" for k in keys if value.get(k) not in (None, "", []))


def _facts_section(work: Path, out: Path, add) -> None:
    f = {}
    if (work / "facts.json").is_file():
        f = json.loads((work / "facts.json").read_text())
    gpu = f.get("gpu")
    add(f"GPU        {'; '.join(gpu) if isinstance(gpu, list) else gpu}"
        f" | CUDA (driver API) {f.get('cuda_driver_api')} | nvcc: {f.get('nvcc')}")
    add(f"Python     {f.get('python')} ({f.get('executable')})")
    add(f"CuPy       {_version(f.get('cupy'), 'version', 'runtime', 'driver', 'device')}")
    add(f"torch      {_version(f.get('torch'), 'version', 'cuda', 'available', 'devices')}")
    add(f"jax        {_version(f.get('jax'), 'version', 'backend', 'devices')}")


def _stages_section(work: Path, out: Path, add) -> None:
    rows = stages(work)

    def state(rc: str) -> str:
        return rc if rc == "skipped" else "TIMEOUT" if rc in ("124", "137") else f"rc={rc}"

    add("stages     " + ", ".join(f"{n} {state(rc)} {s}s" for n, rc, s, _ in rows)
        + f" (total {sum(r[2] for r in rows)}s)")


def _probes_section(work: Path, out: Path, add) -> None:
    add("probes")
    probes = work / "probes.txt"
    for line in (probes.read_text().splitlines() if probes.is_file() else []):
        if line.startswith("PROBE "):
            add("  " + line[6:][:220])


def _tests_section(work: Path, out: Path, add) -> None:
    junit = out / "junit.xml"
    if not junit.is_file():
        add("tests      no junit.xml (the stage did not run or crashed before writing it)")
        return
    t = junit_counts(junit)
    add(f"tests      {t['passed']} passed, {t['failed']} failed, {t['errors']} errors, "
        f"{t['skipped']} skipped")
    for tag, tid, message in t["failing"]:
        add(f"  {tag.upper()} {tid}: {message}")
    for reason, n in t["skip_reasons"].most_common(8):
        add(f"  skipped x{n}: {reason}")


def _showcase_section(work: Path, out: Path, add) -> None:
    report = out / "report.json"
    if not report.is_file():
        add("showcase   no report.json")
        return
    r = json.loads(report.read_text())
    s = r["summary"]
    statuses = ", ".join(f"{k} {v}" for k, v in s.items()
                         if isinstance(v, int) and k != "total" and v)
    backends = Counter(fc.get("backend") or fc.get("kind") for fc in r["fences"])
    add(f"showcase   {s['total']} fences in {s['seconds']} s: {statuses}")
    add("  by backend: " + ", ".join(f"{k} {v}" for k, v in backends.most_common()))
    add("  slowest: " + ", ".join(f"{x['location']} {x['seconds']:.2f}s"
                                  for x in s.get("slowest", [])))
    for fc in r["fences"]:
        if fc["status"] not in ("ran", "cached"):
            add(f"  {fc['status'].upper()} {fc['source']}:{fc['line']} "
                f"({fc.get('backend')}): {(fc.get('message') or '')[:140]}")
    build = out / "build.log"
    if build.is_file():
        for line in build.read_text(errors="replace").splitlines():
            if line.startswith("fences: ran on"):
                add("  " + line)
    bench_html = out / "bench-tables.html"
    if bench_html.is_file():
        for caption, rows in table_rows(bench_html.read_text(encoding="utf-8")):
            add(f"  table: {caption}")
            for cells in rows[:TABLE_ROWS]:
                add("    " + " | ".join(cells))
            if len(rows) > TABLE_ROWS:
                add(f"    (+{len(rows) - TABLE_ROWS} rows in bench-tables.html)")


def _bench_section(work: Path, out: Path, add) -> None:
    bench = out / "bench.json"
    if not bench.is_file():
        add("bench      not measured (no bench.json: skipped, failed or timed out)")
        return
    b = json.loads(bench.read_text())
    add(f"bench      {b.get('posts')} posts, {b.get('cores')} cores: " + ", ".join(
        f"{k} {v:.2f}s" for k, v in b["seconds"].items() if v is not None))
    add("  ratios: " + ", ".join(f"{k} {v:.2f}" for k, v in b["ratios"].items()))
    add("  targets: " + ", ".join(f"{'ok' if ok else 'MISS'} {k}"
                                  for k, ok in b["targets"].items()))


TABLE_ROWS = 13  # the header and 12 rows of each benchmark table
SECTIONS = (_facts_section, _stages_section, _probes_section, _tests_section,
            _showcase_section, _bench_section)


def summary(work: Path, out: Path) -> list[str]:
    """The SUMMARY block's lines; a section whose input is broken says so, and the others
    still come."""
    lines = ["", "=" * 30 + " SUMMARY " + "=" * 30]
    for section in SECTIONS:
        try:
            section(work, out, lines.append)
        except Exception as exc:  # noqa: BLE001 - a broken input must not hide the rest
            lines.append(f"{section.__name__.strip('_')}: unreadable ({type(exc).__name__}: "
                         f"{exc})")
    lines.append("=" * 69)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("facts")
    p.add_argument("--work", type=Path, required=True)
    p = sub.add_parser("tables")
    p.add_argument("--site", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("summary")
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "facts":
        facts(args.work)
    elif args.command == "tables":
        tables(args.site, args.out)
    else:
        print("\n".join(summary(args.work, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
