"""The performance harness behind ``invoke bench``.

Generates a synthetic site (posts x fences: small NumPy fences and one matplotlib figure per
post) and measures, in one run and on the same content: plain Pelican (fences not
executable), a cold build, a warm build with nothing changed, a build after editing one
fence of one post, and two references with no isolation: the same fences exec'd in one
process (fences only), and a Pelican build that execs them in-process while it renders, as
markdown-exec does in MkDocs (``sitetasks.inprocess_exec``). Prints seconds and ratios and
writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from functools import partial
from pathlib import Path

from .pelican_cli import pelican_command, read_settings

ROOT = Path(__file__).resolve().parents[2]  # the checkout (plugins/sitetasks/perf.py)

NUMPY_FENCES = [
    "a = xp.arange({n}, dtype=xp.float64)\nprint(float(a.sum()))",
    "b = xp.sqrt(a + 1.0)\nprint(float(b.mean()))",
    "m = xp.outer(b[:32], b[:32])\nprint(m.shape, float(xp.trace(m)))",
    "c = xp.cumsum(b)\nc[-3:]",
]
FIGURE_FENCE = (
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(4, 3))\n"
    "ax.plot(to_numpy(b[:200]), label='post {i}')\nax.legend();"
)


def post_text(i: int, exec_word: str = " exec") -> str:
    """Post number ``i``: prose, math and the fences (``exec_word=""``: plain fences)."""
    blocks = [f"Title: Post {i}\nDate: 2026-01-{i % 28 + 1:02d}\nTags: bench, t{i % 5}\n",
              f"Paragraph about post {i} with math $x_{i}^2$.\n"]
    for j, code in enumerate([*NUMPY_FENCES, FIGURE_FENCE]):
        blocks.append(f"Section {j} prose for post {i}.\n")
        blocks.append(f"```python{exec_word}\n{code.format(n=1000 + i, i=i)}\n```\n")
    return "\n".join(blocks)


def write_site(content: Path, posts: int, exec_word: str = " exec") -> None:
    """Write ``posts`` posts under ``content/posts``."""
    (content / "posts").mkdir(parents=True, exist_ok=True)
    for i in range(posts):
        (content / "posts" / f"post-{i:03d}.md").write_text(post_text(i, exec_word))


def pelican(content: Path, output: Path, cache: Path, report: Path, conf: Path,
            extra: dict | None = None) -> float:
    """Seconds one Pelican build takes (exits when the build fails)."""
    cmd = pelican_command(content, output, conf,
                          {"FENCES_CACHE_PATH": str(cache), "FENCES_REPORT": str(report),
                           **(extra or {})})
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"pelican failed:\n{proc.stdout}\n{proc.stderr}")
    return seconds


def in_process(content: Path) -> float:
    """Every fence exec'd in one process, a namespace per post, figures saved, no isolation."""
    script = textwrap.dedent(f"""
        import io, re, sys, time, contextlib
        from pathlib import Path
        import numpy, matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fence = re.compile(r"```python exec\\n(.*?)```", re.S)
        for path in sorted(Path({str(content)!r}).rglob("*.md")):
            ns = {{"xp": numpy, "to_numpy": numpy.asarray}}
            for code in fence.findall(path.read_text()):
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(code, ns)
                for num in plt.get_fignums():
                    plt.figure(num).savefig(io.BytesIO(), format="svg")
                    plt.close(num)
    """)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", script], check=True)
    return time.perf_counter() - started


def write_results(path: Path, result: dict) -> None:
    """A bench's results as JSON (``invoke bench``, ``invoke bench --preview``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    print(f"written {path}")


def in_process_site(content: Path, work: Path, conf: Path) -> float:
    """Seconds of a Pelican build that execs every fence in-process as it renders each post
    (markdown-exec's way: no fence engine, no isolation, no cache)."""
    settings = read_settings(conf, {})
    markdown = dict(settings.get("MARKDOWN") or {})
    markdown["extension_configs"] = {**(markdown.get("extension_configs") or {}),
                                     "sitetasks.inprocess_exec": {}}
    plugins = [p for p in settings.get("PLUGINS") or [] if p != "fences"]
    figures = work / "inprocess-figures"
    figures.mkdir(exist_ok=True)
    os.environ["BENCH_FIGURES"] = str(figures)
    return pelican(content, work / "inprocess-out", work / "inprocess-cache",
                   work / "inprocess.json", conf,
                   extra={"PLUGINS": plugins, "MARKDOWN": markdown})


def post_seconds(report: Path, source: str) -> float:
    """Seconds the fences of one post took, from a fence report."""
    data = json.loads(report.read_text())
    return sum(f["seconds"] for f in data["fences"] if f["source"] == source)


def main(argv: list[str] | None = None) -> dict:
    """Run the bench (``python -m sitetasks.perf --help``); print and return the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3, help="runs of plain/warm (best kept)")
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench.json")
    parser.add_argument("--conf", type=Path, default=ROOT / "pelicanconf.py")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="fences-bench-"))
    try:
        plain_content, content = work / "plain", work / "content"
        write_site(plain_content, args.posts, exec_word="")
        write_site(content, args.posts)
        cache, report, out = work / "cache", work / "report.json", work / "out"
        plain_cache = work / "plain-cache"

        build = partial(pelican, conf=args.conf)
        build(plain_content, work / "plain-out", plain_cache, work / "plain.json")  # warm-up
        cold = build(content, out, cache, report)
        # plain and warm alternate, so that a machine drifting slower or faster over the run
        # weighs on both alike; the best of each is kept
        plains, warms = [], []
        for _ in range(args.repeat):
            plains.append(build(plain_content, work / "plain-out", plain_cache,
                                work / "plain.json"))
            warms.append(build(content, out, cache, report))
        plain, warm = min(plains), min(warms)

        edited = content / "posts" / "post-007.md"
        edited.write_text(edited.read_text().replace("print(float(b.mean()))",
                                                     "print(float(b.mean()) * 2)"))
        edit = build(content, out, cache, report)
        own = post_seconds(report, "posts/post-007.md")
        inproc = in_process(content)
        inproc_site = in_process_site(content, work, args.conf)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = {
        "posts": args.posts,
        "fences_per_post": len(NUMPY_FENCES) + 1,
        "cores": os.cpu_count(),
        "seconds": {"plain": plain, "cold": cold, "warm": warm, "edit_one_fence": edit,
                    "edited_post_own_execution": own, "in_process_no_isolation": inproc,
                    "in_process_site": inproc_site},
        "ratios": {"warm/plain": warm / plain, "cold/plain": cold / plain,
                   "edit/plain": edit / plain, "cold/in_process_site": cold / inproc_site},
        "targets": {"warm <= 1.2 x plain": warm <= 1.2 * plain,
                    "edit <= plain + own + 0.5 s": edit <= plain + own + 0.5,
                    "cold <= 4 s": cold <= 4.0},
    }
    s = result["seconds"]
    print(f"site: {args.posts} posts x {result['fences_per_post']} fences, {os.cpu_count()} cores")
    for name in ("plain", "cold", "warm", "edit_one_fence", "in_process_no_isolation",
                 "in_process_site"):
        print(f"  {name:<24} {s[name]:7.2f} s   {s[name] / plain:5.2f} x plain")
    print(f"  cold / in_process_site: {cold / inproc_site:.2f} (markdown-exec's way, same site)")
    print(f"  edited post's own execution: {own:.2f} s")
    for target, ok in result["targets"].items():
        print(f"  {'ok  ' if ok else 'MISS'} {target}")
    write_results(args.json, result)
    return result


if __name__ == "__main__":
    main()
