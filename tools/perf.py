"""The performance harness behind ``invoke bench``.

Generates a synthetic site (posts x fences: small NumPy fences and one matplotlib figure per
post) and measures, in one run and on the same content: plain Pelican (fences not
executable), a cold build, a warm build with nothing changed, a build after editing one
fence of one post, and two references with no isolation: the same fences exec'd in one
process (fences only), and a Pelican build that execs them in-process while it renders, as
markdown-exec does in MkDocs (``tools.inprocess_exec``). Prints seconds and ratios and writes
JSON. ``--corpus`` builds a real corpus instead: the examples of sphinx-gallery
folders (``tools.gallery``), with no edit step.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from functools import partial
from pathlib import Path

from execblog.sitetasks.pelican_cli import pelican_command, read_settings
from execblog.standalone import expand_plugins

from . import gallery

ROOT = Path(__file__).resolve().parents[1]  # the checkout (this file: tools/perf.py)

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
            extra: dict | None = None, cwd: Path | None = None) -> float:
    """Seconds one Pelican build takes (exits when the build fails)."""
    cmd = pelican_command(content, output, conf,
                          {"FENCES_CACHE_PATH": str(cache), "FENCES_REPORT": str(report),
                           **(extra or {})})
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"pelican failed:\n{proc.stdout}\n{proc.stderr}")
    return seconds


def in_process(content: Path) -> float:
    """Every fence exec'd in one process, a namespace per post, figures saved (in the format
    ``fig-format=auto`` picks), no isolation."""
    script = textwrap.dedent(f"""
        import io, re, sys, time, contextlib
        from pathlib import Path
        import numpy, matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fence = re.compile(r"```python exec\\n(.*?)```", re.S)
        from execblog.fences.builtin.mpl import PNG_DPI, choose_format
        for path in sorted(Path({str(content)!r}).rglob("*.md")):
            ns = {{"xp": numpy, "to_numpy": numpy.asarray, "__name__": "__main__"}}
            for code in fence.findall(path.read_text()):
                with contextlib.redirect_stdout(io.StringIO()):
                    sys.argv = [str(path)]  # as the engine: the post is the script
                    try:
                        exec(code, ns)
                    except (Exception, SystemExit):
                        pass  # as the engine, it goes on with the next fence
                for num in plt.get_fignums():
                    fig = plt.figure(num)
                    fmt = choose_format(fig)  # the engine's fig-format=auto
                    try:
                        fig.savefig(io.BytesIO(), format=fmt, bbox_inches="tight",
                                    dpi=PNG_DPI if fmt == "png" else "figure")
                    except Exception:
                        pass  # (text.usetex without LaTeX...)
                    plt.close(num)
    """)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": module_path(content)}
    # in the content folder: a fence that saves a file of its own leaves it there
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=content)
    return time.perf_counter() - started


def module_path(content: Path) -> str:
    """PYTHONPATH for the in-process references: the plugins, the checkout (for
    ``tools.inprocess_exec``), and every content folder with modules in it (a gallery's
    helpers), as the engine puts a post's folder on sys.path."""
    folders = sorted({str(p.parent) for p in content.rglob("*.py")})
    return os.pathsep.join(p for p in (str(ROOT / "plugins"), str(ROOT), *folders,
                                       os.environ.get("PYTHONPATH", "")) if p)


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
                                     "tools.inprocess_exec": {}}
    plugins = [p for p in expand_plugins(settings.get("PLUGINS")) if p != "execblog.fences"]
    figures = work / "inprocess-figures"
    figures.mkdir(exist_ok=True)
    os.environ["BENCH_FIGURES"] = str(figures)
    os.environ["PYTHONPATH"] = module_path(content)
    return pelican(content, work / "inprocess-out", work / "inprocess-cache",
                   work / "inprocess.json", conf,
                   extra={"PLUGINS": plugins, "MARKDOWN": markdown},
                   cwd=work)  # its fences run where Pelican runs: not in the checkout


def count_figures(output: Path) -> int:
    """The figures the built site's posts show (``posts/<slug>/index.html``), each once
    (a dark rendering is the same figure)."""
    light = re.compile(r'class="fig-full(?: fig-light)?"')
    return sum(len(light.findall(page.read_text(encoding="utf-8")))
               for page in (output / "posts").glob("*/index.html"))


def post_seconds(report: Path, source: str) -> float:
    """Seconds the fences of one post took, from a fence report."""
    data = json.loads(report.read_text())
    return sum(f["seconds"] for f in data["fences"] if f["source"] == source)


def main(argv: list[str] | None = None) -> dict:
    """Run the bench (``python -m tools.perf --help``); print and return the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3, help="runs of plain/warm (best kept)")
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench.json")
    parser.add_argument("--conf", type=Path, default=ROOT / "pelicanconf.py")
    parser.add_argument("--corpus", type=Path, nargs="+", help="sphinx-gallery folders "
                        "(matplotlib's galleries/examples or some of its sub-folders): their "
                        "examples are the posts, instead of the synthetic site")
    parser.add_argument("--limit", type=int, help="with --corpus: at most this many examples")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="fences-bench-"))
    try:
        plain_content, content = work / "plain", work / "content"
        if args.corpus:
            args.posts = gallery.write_site(args.corpus, plain_content, args.limit, "")
            gallery.write_site(args.corpus, content, args.limit)
        else:
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

        figures = count_figures(out)
        if args.corpus:  # no edit of an example: one gallery post is not like another
            edit = own = None
        else:
            edited = content / "posts" / "post-007.md"
            edited.write_text(edited.read_text().replace("print(float(b.mean()))",
                                                         "print(float(b.mean()) * 2)"))
            edit = build(content, out, cache, report)
            own = post_seconds(report, "posts/post-007.md")
        inproc = in_process(content)
        inproc_site = in_process_site(content, work, args.conf)
        reference_figures = len(list((work / "inprocess-figures").iterdir()))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    seconds = {"plain": plain, "cold": cold, "warm": warm, "edit_one_fence": edit,
               "edited_post_own_execution": own, "in_process_no_isolation": inproc,
               "in_process_site": inproc_site}
    targets = {"warm <= 1.05 x plain": warm <= 1.05 * plain,
               "cold <= 1.5 x in_process_site": cold <= 1.5 * inproc_site}
    if edit is not None and own is not None:
        targets["edit <= plain + own + 0.5 s"] = edit <= plain + own + 0.5
    result = {
        "corpus": [str(c) for c in args.corpus] if args.corpus else "synthetic",
        "posts": args.posts,
        "figures": figures,
        "figures_in_process_reference": reference_figures,
        "fences_per_post": None if args.corpus else len(NUMPY_FENCES) + 1,
        "cores": os.cpu_count(),
        "seconds": seconds,
        "ratios": {f"{name}/plain": value / plain for name, value in seconds.items()
                   if value is not None and name != "plain"}
        | {"cold/in_process_site": cold / inproc_site},
        "targets": targets,
    }
    shape = (f"{args.posts} examples of {', '.join(c.name for c in args.corpus)}"
             if args.corpus else f"{args.posts} posts x {result['fences_per_post']} fences")
    print(f"site: {shape}, {os.cpu_count()} cores")
    print(f"  figures shown: {figures} (the in-process reference saved {reference_figures})")
    for name in ("plain", "cold", "warm", "edit_one_fence", "in_process_no_isolation",
                 "in_process_site"):
        if seconds[name] is not None:
            print(f"  {name:<24} {seconds[name]:7.2f} s   {seconds[name] / plain:5.2f} x plain")
    print(f"  cold / in_process_site: {cold / inproc_site:.2f} (markdown-exec's way, same site)")
    if own is not None:
        print(f"  edited post's own execution: {own:.2f} s")
    for target, ok in targets.items():
        print(f"  {'ok  ' if ok else 'MISS'} {target}")
    write_results(args.json, result)
    return result


if __name__ == "__main__":
    main()
