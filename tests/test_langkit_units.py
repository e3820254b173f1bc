"""Units of the compiled kinds (no Pelican): compiler messages in the post's terms,
compiler identities, the command a kind runs, and how a program ended."""

from __future__ import annotations

import pytest
from execblog.kinds.languages.cuda import gpu_node
from execblog.kinds.languages.diagnostics import (
    gcc_first_error,
    nvcc_first_error,
    rewrite,
    rustc_first_error,
)
from execblog.kinds.languages.program import exit_message
from execblog.kinds.languages.toolchain import Compiler, tool_name, version_of

SOURCE = "posts/x.md"

GCC = """\
posts/x.md: In function 'int main()':
posts/x.md:12:9: warning: unused variable 'z' [-Wunused-variable]
   12 |     int z = 0;
      |         ^
posts/x.md:14:18: error: 'y' was not declared in this scope
   14 |     std::cout << y;
      |                  ^
posts/x.md:15:5: error: 'w' was not declared in this scope
"""

CLANG = """\
posts/x.md:9:5: error: use of undeclared identifier 'y'
    y = 3;
    ^
1 error generated.
"""

CLANG_FATAL = """\
posts/x.md:4:10: fatal error: 'nope.h' file not found
#include "nope.h"
         ^~~~~~~~
1 error generated.
"""

HEADER = """\
In file included from posts/x.md:5:
helper.h:3:14: error: expected ';' before '}' token
    3 | int f() { return 1 }
      |                   ^
"""

LINKER = """\
/usr/bin/ld: /tmp/cceCQ92L.o: in function `main':
posts/x.md:(.text.startup+0x6): undefined reference to `missing_function'
collect2: error: ld returned 1 exit status
"""

NVCC = """\
posts/x.md(14): error: identifier "y" is undefined
      y = 1;
      ^

1 error detected in the compilation of "posts/x.md".
"""

NVCC_LINK = """\
/usr/bin/ld: /tmp/tmpxft_0001.o: in function `main':
tmpxft_0001-main.cudafe1.cpp:(.text+0x5): undefined reference to `kernel_helper'
collect2: error: ld returned 1 exit status
"""

RUSTC = """\
warning: unused variable: `x`
 --> posts/x.md:6:9
  |
6 |     let x = 1;
  |         ^ help: if this is intentional, prefix it with an underscore: `_x`

error[E0425]: cannot find value `y` in this scope
 --> posts/x.md:7:20
  |
7 |     println!("{}", y);
  |                    ^ not found in this scope

error: aborting due to 1 previous error; 1 warning emitted
"""

RUSTC_NO_LOCATION = """\
error: linking with `cc` failed: exit status: 1
  |
  = note: some arguments are omitted
"""


@pytest.mark.parametrize(("text", "expected"), [
    (GCC, (14, "'y' was not declared in this scope")),  # the first error, not the warning
    (CLANG, (9, "use of undeclared identifier 'y'")),
    (CLANG_FATAL, (4, "'nope.h' file not found")),
    (HEADER, (None, "expected ';' before '}' token")),  # the fence's own line, then
    (LINKER, (None, "undefined reference to `missing_function'")),
    ("", (None, "")),
])
def test_gcc_first_error(text, expected):
    assert gcc_first_error(text, SOURCE) == expected


def test_an_error_in_another_post_is_not_taken_for_this_posts_line():
    text = "posts/other.md:3:1: error: elsewhere\nposts/x.md:8:2: error: here\n"
    assert gcc_first_error(text, SOURCE) == (8, "here")


@pytest.mark.parametrize(("text", "expected"), [
    (NVCC, (14, 'identifier "y" is undefined')),
    ('posts/x.md(3): catastrophic error: cannot open source file "nope.h"\n',
     (3, 'cannot open source file "nope.h"')),
    (NVCC_LINK, (None, "undefined reference to `kernel_helper'")),  # the host linker's
    (GCC, (14, "'y' was not declared in this scope")),  # the host compiler's
])
def test_nvcc_first_error(text, expected):
    assert nvcc_first_error(text, SOURCE) == expected


@pytest.mark.parametrize(("text", "expected"), [
    (RUSTC, (7, "cannot find value `y` in this scope")),
    (RUSTC_NO_LOCATION, (None, "linking with `cc` failed: exit status: 1")),
    ("warning: unused\n --> posts/x.md:2:1\n", (None, "")),
])
def test_rustc_first_error(text, expected):
    assert rustc_first_error(text, SOURCE) == expected


def test_rewrite_names_the_post_and_drops_the_private_folder():
    work = "/tmp/fences-session-ab12"
    text = (f"{work}/fence_3.cpp: In function 'int main()':\n"
            f"{work}/fence_3.cpp:14:5: error: 'y' was not declared in this scope\n"
            f"In file included from {work}/helper.h:2,\n"
            "fence_3.cpp:20:1: note: bare name\n")
    got = rewrite(text, work, "fence_3.cpp", SOURCE)
    assert got == ("posts/x.md: In function 'int main()':\n"
                   "posts/x.md:14:5: error: 'y' was not declared in this scope\n"
                   "In file included from helper.h:2,\n"
                   "posts/x.md:20:1: note: bare name\n")
    assert "fences-session" not in got and "fence_3" not in got
    assert gcc_first_error(got, SOURCE) == (14, "'y' was not declared in this scope")


DEBIAN_GCC = "/usr/bin/x86_64-linux-gnu-gcc-12 cc (Debian 12.2.0-14+deb12u1) 12.2.0"
DEBIAN_GXX = "/usr/bin/x86_64-linux-gnu-g++-12 c++ (Debian 12.2.0-14+deb12u1) 12.2.0"
CCACHE_GCC = "/usr/bin/ccache gcc gcc (Debian 12.2.0-14+deb12u1) 12.2.0"
CLANG_ID = "/usr/lib/llvm-14/bin/clang Debian clang version 14.0.6"
RUSTC_ID = "/root/.rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu/bin/rustc rustc 1.95.0 (59807616e 2026-04-14)"  # noqa: E501
NVCC_ID = "/usr/local/cuda-13.0/bin/nvcc Cuda compilation tools, release 13.0, V13.0.48"


@pytest.mark.parametrize(("identity", "command", "tool", "version"), [
    (DEBIAN_GCC, "cc", "gcc", "12.2.0"),
    (DEBIAN_GXX, "c++", "g++", "12.2.0"),
    (CCACHE_GCC, "ccache", "gcc", "12.2.0"),  # the compiler behind ccache
    (CLANG_ID, "cc", "clang", "14.0.6"),
    (RUSTC_ID, "rustc", "rustc", "1.95.0"),
    (NVCC_ID, "nvcc", "nvcc", "13.0"),
    ("/opt/bin/mycc mycc 3.1", "mycc", "mycc", "3.1"),  # unknown: the command's name
])
def test_identity_names_the_tool_and_its_version(identity, command, tool, version):
    assert tool_name(identity, command) == tool
    assert version_of(identity) == version


def test_version_of_ubuntu_clang():
    assert version_of("/usr/lib/llvm-14/bin/clang Ubuntu clang version 14.0.0-1ubuntu1.1") \
        == "14.0.0"


def test_compiler_command_has_words_and_says_how_to_fix_a_missing_one(monkeypatch):
    cc = Compiler("CC", "cc", "gcc")
    monkeypatch.delenv("CC", raising=False)
    assert cc.command() == ["cc"]
    monkeypatch.setenv("CC", "ccache gcc")
    assert cc.command() == ["ccache", "gcc"]
    monkeypatch.setenv("CC", "")
    assert cc.command() == ["cc"]  # an empty variable is no command
    cxx = Compiler("CXX", "c++", "g++")
    monkeypatch.setenv("CXX", "/nonexistent/c++ -O0")
    assert cxx.resolve() is None and cxx.identity() is None
    assert cxx.missing() == ("/nonexistent/c++ not found on PATH (install g++, "
                             "or set CXX to the compiler)")
    toolchain = cxx.toolchain()
    assert toolchain.identity is None and "set CXX" in toolchain.missing


# -- the host's look for a GPU: device-node names in folders it is given (no GPU pretended: these
# are the names a machine shows, nothing opens them)
NO_GPU = "no NVIDIA GPU on this machine"
NOT_GPUS = ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset", "nvidia-caps",
            "nvidiafoo", "nvidia", "null"]


def _dev(tmp_path, names):
    dev = tmp_path / "dev"
    dev.mkdir()
    for name in names:
        (dev / name).touch()
    return str(dev)


@pytest.mark.parametrize(("names", "found"), [
    ([], False),
    (NOT_GPUS, False),  # the driver's other nodes are no GPU
    (["nvidia0", *NOT_GPUS], True),
    (["nvidia3", "nvidiactl", "nvidia-uvm"], True),  # a container's one GPU, under its index
    (["nvidia12"], True),
    (["nvidia3x"], False),
])
def test_gpu_node_finds_a_gpu_under_any_index(tmp_path, monkeypatch, names, found):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    missing_proc = str(tmp_path / "no-proc")
    assert gpu_node(_dev(tmp_path, names), missing_proc) == (None if found else NO_GPU)


def test_gpu_node_reads_the_drivers_gpu_list_and_cuda_visible_devices(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    gpus = tmp_path / "gpus"
    gpus.mkdir()
    no_dev = str(tmp_path / "no-dev")
    assert gpu_node(no_dev, str(gpus)) == NO_GPU  # an empty list: none
    (gpus / "0000:3b:00.0").mkdir()
    assert gpu_node(no_dev, str(gpus)) is None
    dev = _dev(tmp_path, ["nvidia1", "nvidiactl"])
    for hidden in ("", " ", "-1"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
        assert gpu_node(dev, str(gpus)) == ("no NVIDIA GPU visible (CUDA_VISIBLE_DEVICES="
                                            f"{hidden.strip()!r})")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert gpu_node(dev, str(gpus)) is None
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpu_node(no_dev, str(tmp_path / "no-proc")) == NO_GPU  # nothing to hide


@pytest.mark.parametrize(("code", "message"), [
    (0, "the program exited with status 0"),
    (3, "the program exited with status 3"),
    (-11, "the program was killed by SIGSEGV (segmentation fault)"),
    (-9, "the program was killed by SIGKILL (killed)"),
    (-15, "the program was killed by SIGTERM"),
    (-200, "the program was killed by signal 200"),
])
def test_exit_message(code, message):
    assert exit_message("the program", code) == message
