"""The performance harness behind ``invoke bench``.

Generates a synthetic site (posts x fences: small NumPy fences and one matplotlib figure per
post) and measures, in one run and on the same content: plain Pelican (fences not
executable), a cold build, a warm build with nothing changed, a build after editing one
fence of one post, and two references with no isolation: the same fences exec'd in one
process (fences only), and a Pelican build that execs them in-process while it renders, as
markdown-exec does in MkDocs (``tools.inprocess_exec``), and the same posts built with the real
markdown-exec (``tools.markdown_exec_site``, skipped when it is not installed). Plain,
markdown-exec, cold and warm builds alternate over ``--repeat`` rounds; ``--profile DIR``
adds a table of the cold builds' core-seconds per phase. Prints seconds and ratios and writes
JSON. ``--corpus`` builds a real corpus instead: the examples of sphinx-gallery
folders (``tools.gallery``), with no edit step.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from execblog.engine.profiling import VARIABLE as PROFILE_VARIABLE
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


# markdown-exec's way (its usage docs): one session per post (the engine's namespace), the
# engine's ``xp``/``to_numpy`` imported by the first fence, and each figure printed as SVG
# in an ``html="true"`` fence, as its matplotlib gallery example does.
MARKDOWN_EXEC_PRELUDE = "import numpy as xp\nto_numpy = xp.asarray\n"
MARKDOWN_EXEC_SVG = ("\nfrom io import StringIO\nbuffer = StringIO()\n"
                     "fig.savefig(buffer, format='svg')\nprint(buffer.getvalue())\n"
                     "plt.close(fig)")


def markdown_exec_text(i: int) -> str:
    """Post number ``i`` as markdown-exec fences (``exec="true"``): the same code and prose."""
    text = post_text(i)
    header = f'```python exec="true" session="post-{i}"\n'
    text = text.replace("```python exec\n", header + MARKDOWN_EXEC_PRELUDE, 1)
    text = text.replace("```python exec\n", header)
    figure = header + "import matplotlib.pyplot as plt"
    return text.replace(figure, figure.replace('"\n', '" html="true"\n')).replace(
        "ax.legend();\n", "ax.legend();" + MARKDOWN_EXEC_SVG + "\n")


def write_site(content: Path, posts: int, exec_word: str = " exec",
               text=None) -> None:
    """Write ``posts`` posts under ``content/posts`` (``text(i)``: a post's text instead)."""
    (content / "posts").mkdir(parents=True, exist_ok=True)
    for i in range(posts):
        body = text(i) if text else post_text(i, exec_word)
        (content / "posts" / f"post-{i:03d}.md").write_text(body)


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
        from execblog.display.mpl import PNG_DPI, choose_format
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
    plugins = [p for p in expand_plugins(settings.get("PLUGINS")) if p != "execblog.engine"]
    figures = work / "inprocess-figures"
    figures.mkdir(exist_ok=True)
    os.environ["BENCH_FIGURES"] = str(figures)
    os.environ["PYTHONPATH"] = module_path(content)
    return pelican(content, work / "inprocess-out", work / "inprocess-cache",
                   work / "inprocess.json", conf,
                   extra={"PLUGINS": plugins, "MARKDOWN": markdown},
                   cwd=work)  # its fences run where Pelican runs: not in the checkout


def markdown_exec_site(content: Path, work: Path, conf: Path) -> float | None:
    """Seconds of a Pelican build of ``content`` (written by ``markdown_exec_text``) with the
    real markdown-exec (``tools.markdown_exec_site``) and no fence engine; None, with a
    message, when markdown-exec (the ``bench`` extra) is not installed."""
    try:
        import markdown_exec  # noqa: F401
    except ImportError:
        print("  markdown-exec row skipped: markdown-exec is not installed "
              "(pip install -e '.[bench]')")
        return None
    settings = read_settings(conf, {})
    markdown = dict(settings.get("MARKDOWN") or {})
    markdown["extension_configs"] = {**(markdown.get("extension_configs") or {}),
                                     "tools.markdown_exec_site": {}}
    plugins = [p for p in expand_plugins(settings.get("PLUGINS")) if p != "execblog.engine"]
    os.environ["PYTHONPATH"] = module_path(content)
    return pelican(content, work / "mdexec-out", work / "mdexec-cache", work / "mdexec.json",
                   conf, extra={"PLUGINS": plugins, "MARKDOWN": markdown}, cwd=work)


WAITED = "total: Pelican and the processes it waited for"  # measured by the bench
# What the rest of each profiled process (its total less its named phases) is made of.
REST = {
    "total: Pelican process": "Pelican: reading, Markdown, highlighting, MathML, templates, "
                              "search index, page writing (the rest of its process)",
    "total: session process": "session: the rest (results sent, streams captured)",
    "total: fork server": "fork server: forking the sessions",
}


@contextlib.contextmanager
def profiling(folder: Path | None) -> Iterator[None]:
    """With ``folder``: the builds in the block append their phases to a new file there
    (``EXECBLOG_PROFILE``, see ``execblog.engine.profiling``)."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"cold-{len(list(folder.glob('cold-*.jsonl'))) + 1}.jsonl"
    path.unlink(missing_ok=True)
    os.environ[PROFILE_VARIABLE] = str(path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        yield
    finally:
        del os.environ[PROFILE_VARIABLE]
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        with path.open("a") as file:  # Pelican and the processes it waited for
            file.write(json.dumps({"phase": WAITED, "cpu": waited, "pid": 0}) + "\n")


def phase_table(folder: Path) -> dict[str, float]:
    """Core-seconds per phase, the mean over the profiled builds in ``folder``; each
    process's total less its named phases is the rest of that process (:data:`REST`)."""
    runs = sorted(folder.glob("cold-*.jsonl"))
    table: dict[str, float] = {}
    for run in runs:
        named: dict[int, float] = {}
        totals: dict[tuple[int, str], float] = {}
        for line in run.read_text().splitlines():
            entry = json.loads(line)
            name, cpu, pid = entry["phase"], entry["cpu"], entry["pid"]
            if name == WAITED:  # less Pelican's own process: the programs it ran
                pelican = sum(v for (_, n), v in totals.items() if n == "total: Pelican process")
                others = "programs Pelican ran (the search index's Pagefind...)"
                table[others] = table.get(others, 0.0) + max(cpu - pelican, 0) / len(runs)
            elif name.startswith("total: "):
                totals[pid, name] = max(totals.get((pid, name), 0.0), cpu)
            else:
                named[pid] = named.get(pid, 0.0) + cpu
                table[name] = table.get(name, 0.0) + cpu / len(runs)
        for (pid, name), total in totals.items():
            rest = REST.get(name, name)
            table[rest] = table.get(rest, 0.0) + max(total - named.get(pid, 0.0), 0) / len(runs)
    return dict(sorted(table.items(), key=lambda item: -item[1]))


def print_phases(table: dict[str, float]) -> None:
    """The profile as a Markdown table (docs/content/performance.md shows one)."""
    total = sum(table.values())
    print(f"\ncold build, core-seconds per phase (total {total:.2f}):\n")
    print("| phase | core-seconds | share |\n|---|---:|---:|")
    for name, seconds in table.items():
        print(f"| {name} | {seconds:.2f} | {seconds / total:.0%} |")


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
    parser.add_argument("--profile", type=Path, help="profile the cold builds: each "
                        "process appends its phases to this file (EXECBLOG_PROFILE), "
                        "printed as a table of core-seconds per phase and cold build")
    parser.add_argument("--limit", type=int, help="with --corpus: at most this many examples")
    args = parser.parse_args(argv)
    args.conf = args.conf.resolve()  # the reference builds run in the work folder

    for stale in args.profile.glob("cold-*.jsonl") if args.profile else ():
        stale.unlink()
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
        mdexec_content = work / "mdexec"
        if not args.corpus:
            write_site(mdexec_content, args.posts, text=markdown_exec_text)

        build = partial(pelican, conf=args.conf)
        build(plain_content, work / "plain-out", plain_cache, work / "plain.json")  # warm-up
        # plain, markdown-exec, cold and warm alternate, so that a machine drifting slower or
        # faster over the run weighs on all alike; the best of each is kept
        plains, colds, warms, mdexecs = [], [], [], []
        for _ in range(args.repeat):
            plains.append(build(plain_content, work / "plain-out", plain_cache,
                                work / "plain.json"))
            if not args.corpus:
                mdexecs.append(markdown_exec_site(mdexec_content, work, args.conf))
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            with profiling(args.profile):
                colds.append(build(content, out, cache, report))
            warms.append(build(content, out, cache, report))
        plain, cold, warm = min(plains), min(colds), min(warms)
        mdexec = None if None in mdexecs or not mdexecs else min(mdexecs)
        profile = phase_table(args.profile) if args.profile else None

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
               "in_process_site": inproc_site, "markdown_exec_site": mdexec}
    targets = {"warm <= 1.05 x plain": warm <= 1.05 * plain,
               "cold <= 1.5 x in_process_site": cold <= 1.5 * inproc_site}
    if mdexec:
        targets["cold <= 1.3 x markdown_exec_site"] = cold <= 1.3 * mdexec
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
        | {"cold/in_process_site": cold / inproc_site}
        | ({"cold/markdown_exec_site": cold / mdexec} if mdexec else {}),
        "targets": targets,
        "cold_profile": profile,
    }
    shape = (f"{args.posts} examples of {', '.join(c.name for c in args.corpus)}"
             if args.corpus else f"{args.posts} posts x {result['fences_per_post']} fences")
    print(f"site: {shape}, {os.cpu_count()} cores")
    print(f"  figures shown: {figures} (the in-process reference saved {reference_figures})")
    for name in ("plain", "cold", "warm", "edit_one_fence", "in_process_no_isolation",
                 "in_process_site", "markdown_exec_site"):
        if seconds[name] is not None:
            print(f"  {name:<24} {seconds[name]:7.2f} s   {seconds[name] / plain:5.2f} x plain")
    print(f"  cold / in_process_site: {cold / inproc_site:.2f} (markdown-exec's way, same site)")
    if mdexec:
        print(f"  cold / markdown_exec_site: {cold / mdexec:.2f} (the real markdown-exec)")
    if own is not None:
        print(f"  edited post's own execution: {own:.2f} s")
    for target, ok in targets.items():
        print(f"  {'ok  ' if ok else 'MISS'} {target}")
    if profile:
        print_phases(profile)
    write_results(args.json, result)
    return result


if __name__ == "__main__":
    main()
