"""The compiled fence kinds (c, cpp alias c++, rust) in real Pelican builds: programs print,
take arguments and flags and run in the post's folder; compile errors, crashes and
timeouts are located and contained; a warm build compiles nothing; another or a missing
compiler is handled as the engine's toolchain rules say."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import run_pelican, write_files
from execblog.engine.model import Fence, FenceError
from execblog.engine.options import kind_specs, validate
from execblog.kinds.languages.c import C
from execblog.kinds.languages.compiled import make_kind, run_compiled


def require_rustc() -> None:
    """Skip a Rust test where rustc is missing, unless the toolchains are required (CI)."""
    if shutil.which("rustc") is None:
        if os.environ.get("EXECBLOG_REQUIRE_TOOLCHAINS"):
            pytest.fail("rustc is not on PATH and EXECBLOG_REQUIRE_TOOLCHAINS is set")
        pytest.skip("rustc is not on PATH")


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line of ``text`` containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


class Site:
    """One content folder built again and again into the same output and cache."""

    def __init__(self, base: Path):
        self.base = base
        self.content = base / "content"

    def build(self, files: dict[str, str] | None = None, *, env: dict[str, str] | None = None,
              **settings: object):
        write_files(self.content, files or {})
        proc = run_pelican(self.content, self.base / "out",
                           settings={"FENCES_CACHE_PATH": str(self.base / "cache"), **settings},
                           env=env)
        self.log = proc.stdout + proc.stderr
        self.returncode = proc.returncode
        self.report = json.loads((self.base / "cache/report.json").read_text(encoding="utf-8"))
        return self

    def fences(self, post: str) -> list[dict]:
        return [f for f in self.report["fences"] if f["source"] == f"posts/{post}.md"]

    def statuses(self, post: str) -> list[str]:
        return [f["status"] for f in self.fences(post)]

    def blocks(self, slug: str) -> list[BeautifulSoup]:
        page = (self.base / "out/posts" / slug / "index.html").read_text(encoding="utf-8")
        self.page = page
        return BeautifulSoup(page, "html.parser").select(".post-content > .fence")


def text(block, selector: str) -> str:
    return "".join(node.get_text() for node in block.select(selector))


def head(title: str, day: int) -> str:
    return f"Title: {title}\nDate: 2026-05-{day:02d}\n\n"


# -- programs, flags, the warm cache and the compiler's identity ---------------------------

LANGS = head("Langs", 1) + """\
```c exec args="one 'two words'"
#include <stdio.h>
int main(int argc, char **argv) {
    FILE *f = fopen("data.txt", "r");
    int a = 0, b = 0;
    if (!f || fscanf(f, "%d %d", &a, &b) != 2) return 9;
    fclose(f);
    printf("c argc=%d [%s] [%s] sum=%d\\n", argc, argv[1], argv[2], a + b);
    fprintf(stderr, "c to stderr\\n");
    return 0;
}
```

```c exec session=boom error=true
int main(void) {
    int *volatile p = 0;
    return *p;
}
```

```cpp exec flags="-DN=5"
#include <iostream>
#ifndef N
#define N 1
#endif
int main() { std::cout << "cpp N=" << N << "\\n"; std::cerr << "cpp to stderr\\n"; }
```

```cpp exec
#include <iostream>
#ifndef N
#define N 1
#endif
int main() { std::cout << "cpp N=" << N << "\\n"; std::cerr << "cpp to stderr\\n"; }
```

```c++ exec
//| flags: -DM=7 -DWORD=\\"alias\\"
//| args: x
#include <iostream>
int main(int argc, char **argv) { std::cout << WORD << " M=" << M << " " << argv[1] << "\\n"; }
```
"""

WRAPPER = """#!/bin/sh
case " $* " in *" --version "*) {version};; esac
echo "{tag} $*" >> "{log}"
exec "{real}" "$@"
"""


def wrapper(path: Path, tag: str, real: str, log: Path, version: str = "") -> str:
    """A compiler that logs its compile invocations (not its --version ones) to ``log``."""
    shown = f'echo "{version}"; exit 0' if version else f'exec "{real}" "$@"'
    path.write_text(WRAPPER.format(version=shown, tag=tag, log=log, real=real))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def compiles(log: Path, tag: str) -> int:
    if not log.exists():
        return 0
    return sum(line.startswith(tag + " ") for line in log.read_text().splitlines())


def test_programs_print_take_args_and_flags_and_a_warm_build_compiles_nothing(tmp_path):
    real_cc, real_cxx = shutil.which("cc"), shutil.which("c++")
    assert real_cc and real_cxx, "cc and c++ are needed"
    log = tmp_path / "compiles.log"
    env = {"CC": wrapper(tmp_path / "cc-logged", "cc", real_cc, log),
           "CXX": wrapper(tmp_path / "c++-logged", "c++", real_cxx, log)}
    site = Site(tmp_path)
    site.content.joinpath("posts").mkdir(parents=True)
    (site.content / "posts/data.txt").write_text("3 4\n")

    # 1. a strict build: everything runs, the expected crash does not fail it
    first = site.build({"posts/langs.md": LANGS}, env=env, FENCES_STRICT=True)
    assert first.returncode == 0, first.log
    assert first.statuses("langs") == ["ran", "expected-error", "ran", "ran", "ran"], first.log
    fences = first.fences("langs")
    assert [f["kind"] for f in fences] == ["c", "c", "cpp", "cpp", "cpp"]  # c++ is cpp
    assert fences[1]["session"] == "boom"
    c, boom, five, one, alias = first.blocks("langs")
    assert text(c, ".fence-stdout") == "c argc=3 [one] [two words] sum=7\n"  # args, cwd
    assert text(c, ".fence-stderr") == "c to stderr\n"
    assert "SIGSEGV" in boom.get_text()
    assert text(five, ".fence-stdout") == "cpp N=5\n"  # flags= reach the compiler
    assert text(five, ".fence-stderr") == "cpp to stderr\n"
    assert text(one, ".fence-stdout") == "cpp N=1\n"  # the same source without them
    assert text(alias, ".fence-stdout") == "alias M=7 x\n"  # option lines work...
    source = text(alias, ".fence-source")
    assert "//|" not in source and "-DM=7" not in source  # ...and are not shown
    assert source.lstrip().startswith("#include <iostream>")
    assert compiles(log, "cc") == 2 and compiles(log, "c++") == 3, log.read_text()
    assert text(five, ".fence-backend").startswith("C++ · ")

    # 2. the same build again: all cached, nothing compiled, the same page
    again = site.build(env=env, FENCES_STRICT=True)
    assert again.returncode == 0, again.log
    assert again.statuses("langs") == ["cached"] * 5, again.log
    assert compiles(log, "cc") == 2 and compiles(log, "c++") == 3, log.read_text()
    c, boom, five, *_ = again.blocks("langs")
    assert text(c, ".fence-stdout") == "c argc=3 [one] [two words] sum=7\n"
    assert text(five, ".fence-stdout") == "cpp N=5\n" and "SIGSEGV" in boom.get_text()

    # 3. another C++ compiler (its --version differs): the C++ fences run again, C's not
    env["CXX"] = wrapper(tmp_path / "c++-logged", "c++", real_cxx, log,
                         version="c++ (Fake Compiler) 99.1.0")
    other = site.build(env=env)
    assert other.statuses("langs") == ["cached", "cached", "ran", "ran", "ran"], other.log
    assert compiles(log, "cc") == 2 and compiles(log, "c++") == 6, log.read_text()
    five = other.blocks("langs")[2]
    assert text(five, ".fence-stdout") == "cpp N=5\n"
    assert "99.1.0" in text(five, ".fence-backend")

    # 4. no C++ compiler at all: cached results are kept, new fences fail located, the
    #    build warns once
    fresh = head("Fresh", 2) + ("```cpp exec session=one\nint main() {}\n```\n\n"
                                "```cpp exec session=two\nint main() { return 0; }\n```\n")
    missing = site.build({"posts/fresh.md": fresh}, env={**env, "CXX": "/nonexistent/c++"})
    assert missing.returncode == 0, missing.log
    assert missing.statuses("langs") == ["cached"] * 5, missing.log
    assert missing.statuses("fresh") == ["failed", "failed"], missing.log
    why = "/nonexistent/c++ not found on PATH (install g++, or set CXX to the compiler)"
    for fence, line in zip(missing.fences("fresh"), (4, 8), strict=True):
        assert fence["message"] == why and fence["line"] == line
        assert f"content/posts/fresh.md:{line}: error: {why}" in missing.log
    assert missing.log.count("cpp fences cannot run on this machine") == 1, missing.log
    assert "c fences cannot run" not in missing.log
    assert text(missing.blocks("langs")[2], ".fence-stdout") == "cpp N=5\n"
    assert why in missing.blocks("fresh")[0].get_text()
    assert compiles(log, "cc") == 2 and compiles(log, "c++") == 6


# -- errors, warnings, crashes, timeouts -----------------------------------------------------

FAULTS = head("Faults", 3) + """\
```c++ exec session=err
#include <iostream>
int main() {
    int x = 1;
    std::cout << y << x;
}
```

```c exec session=link
int missing_function(int);
int main(void) { return missing_function(2); }
```

```c exec session=warn flags="-Wall"
#include <stdio.h>
int main(void) {
    int unused = 3;
    printf("warned but fine\\n");
    return 0;
}
```

```c exec session=crash
#include <stdio.h>
int main(void) {
    int *volatile p = 0;
    printf("before the crash\\n");
    fflush(stdout);
    return *p;
}
```

```c exec session=crash
int main(void) { return 0; }
```

```cpp exec session=after
#include <iostream>
int main() { std::cout << "after the crash\\n"; }
```

```python exec
print("python runs")
```

```c exec session=slow timeout=1
int main(void) { for (;;) {} }
```

```c exec session=opt backend=numpy
int main(void) { return 0; }
```

```c exec session=three
int main(void) { return 3; }
```
"""


def test_errors_crashes_and_timeouts_are_located_and_contained(tmp_path):
    site = Site(tmp_path).build({"posts/faults.md": FAULTS})
    log = site.log
    assert site.returncode == 0, log  # a dev build goes on
    assert site.statuses("faults") == ["failed", "failed", "ran", "failed", "skipped", "ran",
                                       "ran", "timeout", "failed", "failed"], log
    err, link, warn, crash, _, after, python, slow, opt, three = site.fences("faults")
    blocks = site.blocks("faults")
    assert "/tmp/" not in site.page \
        and "fences-session" not in site.page

    # a compile error: at the offending statement, with gcc's own message
    bad = line_of(FAULTS, "std::cout << y << x;")
    assert (err["line"], err["message"]) == (bad, "'y' was not declared in this scope")
    assert re.search(rf"^content/posts/faults\.md:{bad}: error: 'y' was not declared in "
                     r"this scope$", log, re.M), log
    shown = text(blocks[0], ".fence-error")
    assert f"posts/faults.md:{bad}:" in shown and "std::cout << y << x;" in shown
    assert "fence_" not in shown

    # a linker error: at the fence
    assert link["line"] == line_of(FAULTS, "session=link")
    assert link["message"] == "undefined reference to `missing_function'"
    assert f"content/posts/faults.md:{link['line']}: error: undefined reference" in log

    # a warning is the compiler's stderr; the fence succeeds
    assert "unused variable 'unused'" in text(blocks[2], ".fence-stderr")
    assert text(blocks[2], ".fence-stdout") == "warned but fine\n"
    assert "unused" not in " ".join(m for m in log.splitlines() if ": error: " in m)

    # a crash fails its session only, after what it printed
    assert crash["line"] == line_of(FAULTS, "session=crash") and "SIGSEGV" in crash["message"]
    assert "segmentation fault" in crash["message"]
    assert text(blocks[3], ".fence-stdout") == "before the crash\n"
    assert "SIGSEGV" in text(blocks[3], ".fence-error")
    assert text(blocks[5], ".fence-stdout") == "after the crash\n"
    assert text(blocks[6], ".fence-stdout") == "python runs\n"
    assert after["status"] == python["status"] == "ran"

    # a timeout stops its own session
    assert slow["line"] == line_of(FAULTS, "session=slow") and "timed out" in slow["message"]
    assert three["message"] == "the program exited with status 3"

    # an option compiled kinds do not have
    assert opt["line"] == line_of(FAULTS, "backend=numpy")
    assert opt["message"].startswith("unknown option 'backend'; valid options: ")
    assert {"flags", "args", "export", "timeout"} <= set(
        opt["message"].split("valid options: ")[1].split(", "))

    # labels name the language and the real compiler with its version
    assert re.fullmatch(r"C\+\+ · (g\+\+|clang\+\+|clang) \d+(\.\d+)+",
                        text(blocks[5], ".fence-backend")), text(blocks[5], ".fence-backend")
    assert re.fullmatch(r"C · (gcc|clang) \d+(\.\d+)+", text(blocks[2], ".fence-backend"))


def test_a_crash_fails_a_strict_build(tmp_path):
    post = head("Crash", 4) + ("```c exec\nint main(void) { int *volatile p = 0; return *p; }\n"
                               "```\n\n```python exec\nprint('still runs')\n```\n")
    site = Site(tmp_path).build({"posts/crash.md": post}, FENCES_STRICT=True)
    assert site.returncode != 0, site.log
    assert site.statuses("crash") == ["failed", "ran"], site.log
    assert "1 fence(s) failed (strict mode)" in site.log
    assert re.search(r"^content/posts/crash\.md:4: error: the program was killed by SIGSEGV",
                     site.log, re.M), site.log


def test_a_linker_error_shows_no_temporary_path(tmp_path):
    post = tmp_path / "content/posts/link.md"
    post.parent.mkdir(parents=True)
    code = "int missing_function(int);\nint main(void) { return missing_function(2); }\n"
    fence = Fence(path=str(post), source="posts/link.md", line=4, body_line=5, kind="c",
                  code=code, exec_code="\n" * 4 + code,
                  options=validate({}, kind_specs(make_kind(C)), {}), index=0)

    class Session:
        workdir = str(tmp_path / "work")
        namespace: dict = {}

        def label(self, record):
            self.record = record

        def emit(self, output):
            raise AssertionError(output)

    os.makedirs(Session.workdir)
    with pytest.raises(FenceError) as caught:
        run_compiled(C, fence, Session())
    assert caught.value.line == 4 and "missing_function" in caught.value.detail
    assert tempfile.gettempdir() + "/" not in caught.value.detail, caught.value.detail


# -- Rust ------------------------------------------------------------------------------------

RUST = head("Rusty", 5) + """\
```rust exec args="hello 'big world'"
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = std::fs::read_to_string("data.txt").expect("data.txt next to the post");
    println!("rust {} [{}] [{}] {}", args.len(), args[1], args[2], data.trim());
    eprintln!("rust to stderr");
}
```

```rust exec flags="--cfg fancy"
//| args: z
fn main() {
    #[cfg(fancy)]
    println!("fancy {}", std::env::args().nth(1).unwrap());
}
```

```rust exec session=bad
fn main() {
    let n: i32 = "x";
    println!("{}", n);
}
```
"""


def test_rust_programs_errors_and_a_missing_rustc(tmp_path):
    require_rustc()
    site = Site(tmp_path)
    site.content.joinpath("posts").mkdir(parents=True)
    (site.content / "posts/data.txt").write_text("from the post's folder\n")
    first = site.build({"posts/rusty.md": RUST})
    assert first.statuses("rusty") == ["ran", "ran", "failed"], first.log
    ok, fancy, bad = first.blocks("rusty")
    assert text(ok, ".fence-stdout") == "rust 3 [hello] [big world] from the post's folder\n"
    assert text(ok, ".fence-stderr") == "rust to stderr\n"
    assert re.fullmatch(r"Rust · rustc \d+\.\d+\.\d+", text(ok, ".fence-backend"))
    assert text(fancy, ".fence-stdout") == "fancy z\n"
    assert "//|" not in text(fancy, ".fence-source")
    where = line_of(RUST, 'let n: i32 = "x";')
    error = first.fences("rusty")[2]
    assert (error["line"], error["message"]) == (where, "mismatched types")
    assert f"content/posts/rusty.md:{where}: error: mismatched types" in first.log
    shown = text(bad, ".fence-error")
    assert f"--> posts/rusty.md:{where}:" in shown and 'let n: i32 = "x";' in shown
    assert "/tmp/" not in first.page and "fences-session" not in first.page

    fresh = head("Fresh", 6) + "```rust exec\nfn main() {}\n```\n"
    gone = site.build({"posts/fresh.md": fresh}, env={"RUSTC": "no-such-rustc"})
    assert gone.statuses("rusty") == ["cached", "cached", "failed"], gone.log
    assert gone.statuses("fresh") == ["failed"], gone.log
    why = "no-such-rustc not found on PATH (install rustc, or set RUSTC to the compiler)"
    assert f"content/posts/fresh.md:4: error: {why}" in gone.log
    assert gone.log.count("rust fences cannot run on this machine") == 1, gone.log
    assert text(gone.blocks("rusty")[0], ".fence-stdout").startswith("rust 3 [hello]")
