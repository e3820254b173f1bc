"""``export=``: functions of a compiled fence, called from the post's Python session."""

from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest
from execblog.engine.model import FenceError
from execblog.kinds.languages.export import bind, parse_exports

# -- parse_exports ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "normalized"), [
    ("dot(const double*, const double*, size_t) -> double; scale(double*, size_t, double)",
     "dot(const double*, const double*, size_t) -> double; scale(double*, size_t, double)"),
    ("  dot ( double  const * ,const double *a,size_t   n )->double ;",
     "dot(const double*, const double* a, size_t n) -> double"),
    ("f(unsigned, long int, unsigned long long int, signed) -> unsigned short int",
     "f(unsigned int, long, unsigned long long, int) -> unsigned short"),
    ("f(void) -> void; g()", "f(); g()"),
    ("f(x: *const f64, n: usize) -> f64", "f(x: *const f64, n: usize) -> f64"),
    ("f(*mut  i32, *const c_void, u8) -> ()", "f(*mut i32, *const c_void, u8)"),
    ("hello(const char*) -> const char*", "hello(const char*) -> const char*"),
    ("f(int8_t, uint64_t, ptrdiff_t, ssize_t, bool, char, float) -> void*",
     "f(int8_t, uint64_t, ptrdiff_t, ssize_t, bool, char, float) -> void*"),
])
def test_signatures_are_normalized(text, normalized):
    assert parse_exports(text) == normalized
    assert parse_exports(normalized) == normalized  # stable: it is part of the cache key


@pytest.mark.parametrize(("text", "message"), [
    ("", "expected one or more functions"),
    ("  ;  ", "expected one or more functions"),
    ("dot(const doble*, size_t)", "dot: argument 1: unknown type 'doble'"),
    ("f(int) -> long double", "f: return type: unknown type 'long double'"),
    ("f(int**)", "a pointer to a pointer is not supported"),
    ("f(); g(int); f(double)", "'f' is declared twice"),
    ("2f(int)", "'2f' (in '2f(int)') is not a function name"),
    ("f int", "is not of the form name(type, ...) -> type"),
    ("f(int) double", "f: expected '-> type' after the arguments"),
    ("f(void, int)", "void is not an argument type"),
    ("f(int, )", "f: argument 2: a type is missing"),
    ("f(int[])", "unexpected '['"),
    ("f(*int)", "is not a Rust pointer"),
    ("lambda(int)", "is a Python keyword"),
    ("a(); ; b()", "function 2 is empty"),
])
def test_bad_signatures_say_what_is_wrong(text, message):
    with pytest.raises(ValueError) as info:
        parse_exports(text)
    assert message in str(info.value)


def test_an_unknown_type_lists_the_accepted_spellings():
    with pytest.raises(ValueError) as info:
        parse_exports("f(i128)")
    text = str(info.value)
    assert "unknown type 'i128'" in text
    for spelling in ("size_t", "int8_t..int64_t", "f64", "*const T", "const T*"):
        assert spelling in text


# -- bind, against a small C library ------------------------------------------------------------

LIBRARY = r"""
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

double dot(const double* a, const double* b, size_t n) {
    double s = 0; for (size_t i = 0; i < n; ++i) s += a[i] * b[i]; return s;
}
void scale(double* a, size_t n, double k) { for (size_t i = 0; i < n; ++i) a[i] *= k; }
int64_t add(int64_t a, int32_t b) { return a + b; }
float half(float x) { return x / 2; }
bool positive(double x) { return x > 0; }
unsigned char low_byte(unsigned x) { return (unsigned char)(x & 0xff); }
static char buffer[128];
const char* greet(const char* who) {
    snprintf(buffer, sizeof buffer, "hello %s", who);
    return buffer;
}
size_t length(const char* s) { size_t n = 0; while (s[n]) ++n; return n; }
void upper(char* s) { for (; *s; ++s) if (*s >= 'a' && *s <= 'z') *s -= 32; }
int is_null(const void* p) { return p == NULL; }
static int counter;
void tick(void) { ++counter; }
int ticks(void) { return counter; }
uintptr_t where(const double* p) { return (uintptr_t)p; }
uintptr_t where_mut(float* p) { return (uintptr_t)p; }
"""

SIGNATURES = (
    "dot(const double*, const double*, size_t) -> double; scale(double*, size_t, double);"
    "add(int64_t, int32_t) -> int64_t; half(float) -> float; positive(double) -> bool;"
    "low_byte(unsigned) -> unsigned char; greet(const char*) -> const char*;"
    "length(const char* s) -> size_t; upper(char*); is_null(const void*) -> int;"
    "tick(); ticks() -> int"
)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    if shutil.which("cc") is None:
        pytest.skip("no C compiler (cc) on this machine")
    folder = tmp_path_factory.mktemp("export")
    (folder / "lib.c").write_text(LIBRARY)
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "lib.c", "-o", "lib.so"], cwd=folder,
                   check=True, capture_output=True)
    return str(folder / "lib.so")


@pytest.fixture
def ns(library):
    namespace: dict = {}
    names = bind(library, parse_exports(SIGNATURES), namespace, line=7)
    assert names == ["dot", "scale", "add", "half", "positive", "low_byte", "greet", "length",
                     "upper", "is_null", "tick", "ticks"]
    return namespace


def test_scalars_go_in_and_come_out(ns):
    assert ns["add"](2**40, -3) == 2**40 - 3
    assert ns["add"](np.int64(5), True) == 6  # anything with __index__
    assert ns["half"](3) == 1.5 and ns["half"](np.float32(5.0)) == 2.5
    assert ns["positive"](2.0) is True and ns["positive"](-1) is False
    assert ns["low_byte"](0x1234) == 0x34
    ns["tick"]()
    ns["tick"]()
    assert ns["ticks"]() == 2
    assert ns["tick"]() is None


def test_arrays_are_passed_and_written_in_place(ns):
    a = np.arange(10.0)
    b = np.ones(10)
    assert ns["dot"](a, b, a.size) == pytest.approx(45.0)
    ns["scale"](a, a.size, 2.0)
    assert a.tolist() == [2.0 * i for i in range(10)]
    frozen = np.arange(3.0)
    frozen.flags.writeable = False
    assert ns["dot"](frozen, frozen, 3) == 5.0  # const: read-only is fine
    assert ns["dot"](np.zeros(0), np.zeros(0), 0) == 0.0
    values = (ctypes.c_double * 3)(1, 2, 3)
    assert ns["dot"](values, values, 3) == 14.0


def test_objects_with_the_array_interface_are_accepted(ns):
    class Wrapped:
        def __init__(self, array):
            self.array = array
            self.__array_interface__ = array.__array_interface__

    a = np.arange(4.0)
    assert ns["dot"](Wrapped(a), Wrapped(a), 4) == 14.0
    with pytest.raises(TypeError, match="float64"):
        ns["dot"](Wrapped(a.astype(np.float32)), a, 4)


def test_the_element_type_must_match_exactly(ns):
    with pytest.raises(TypeError) as info:
        ns["dot"](np.arange(3, dtype=np.float32), np.ones(3), 3)
    assert str(info.value) == ("dot() argument 1 (const double*): expected an array of "
                               "float64, got numpy.ndarray of float32")
    with pytest.raises(TypeError, match="argument 2 .*got list"):
        ns["dot"](np.ones(3), [1.0, 2.0, 3.0], 3)
    with pytest.raises(TypeError, match="not C-contiguous"):
        ns["dot"](np.ones(6)[::2], np.ones(3), 3)
    frozen = np.ones(3)
    frozen.flags.writeable = False
    with pytest.raises(TypeError, match=r"scale\(\) argument 1 \(double\*\).*read-only"):
        ns["scale"](frozen, 3, 2.0)
    with pytest.raises(TypeError, match="c_float_Array_3"):
        ns["dot"]((ctypes.c_float * 3)(), np.ones(3), 3)


def test_scalars_are_checked(ns):
    with pytest.raises(TypeError, match=r"add\(\) argument 2 \(int32_t\): expected an "
                                        r"integer, got float"):
        ns["add"](1, 2.5)
    with pytest.raises(OverflowError, match="out of range"):
        ns["add"](1, 2**31)
    with pytest.raises(TypeError, match=r"half\(\) argument 1 \(float\): expected a number"):
        ns["half"]("1.5")
    with pytest.raises(TypeError, match="argument 3 .*got str"):
        ns["scale"](np.ones(2), 2, "2")


def test_the_argument_count_is_checked_like_python(ns):
    with pytest.raises(TypeError, match=r"^dot\(\) takes 3 positional arguments but 2 were "
                                        r"given$"):
        ns["dot"](np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match=r"^ticks\(\) takes 0 positional arguments but 1 was"):
        ns["ticks"](1)


def test_strings_and_null(ns):
    assert ns["greet"]("wörld") == "hello wörld"
    assert ns["greet"](b"bytes") == "hello bytes"
    assert ns["length"]("é") == 2  # UTF-8
    text = bytearray(b"shout\0")
    ns["upper"](text)
    assert text == bytearray(b"SHOUT\0")
    raw = b"abc"
    ns["upper"](raw)  # a char* gets a copy of immutable bytes
    assert raw == b"abc"
    assert ns["is_null"](None) == 1 and ns["is_null"](np.zeros(2, np.uint8)) == 0


def test_the_wrapper_looks_like_a_function(ns):
    dot = ns["dot"]
    assert dot.__name__ == dot.__qualname__ == "dot"
    assert dot.__doc__ == "double dot(const double*, const double*, size_t)"
    assert ns["length"].__doc__ == "size_t length(const char* s)"
    assert ns["tick"].__doc__ == "void tick(void)"


# -- GPU arrays: device_pointers (cuda exports) ---------------------------------------------------
# Stand-ins that expose a __cuda_array_interface__ dict, as CuPy arrays, torch CUDA tensors and
# Numba device arrays do: what the converter reads of them, no GPU pretended. The addresses are
# only handed back (where() returns its argument), never dereferenced.

DEVICE_ADDRESS = 0x7F00_0000_1000


class OnDevice:
    """A GPU array as the converter sees it (CuPy's: a plain attribute)."""

    def __init__(self, typestr="<f8", shape=(3,), *, address=DEVICE_ADDRESS, readonly=False,
                 strides=None, **extra):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr,
                                         "data": (address, readonly), "strides": strides,
                                         "version": 3, **extra}


class TensorLike:
    """torch's way: a property, which raises for a tensor that requires grad."""

    def __init__(self, *, requires_grad=False):
        self.requires_grad = requires_grad

    @property
    def __cuda_array_interface__(self):
        if self.requires_grad:
            raise RuntimeError("Can't get __cuda_array_interface__ on Variable that requires "
                               "grad. Use var.detach().__cuda_array_interface__ instead.")
        return {"shape": (2, 2), "typestr": "<f4", "data": (DEVICE_ADDRESS + 64, False),
                "strides": None, "version": 2}


@pytest.fixture
def gpu(library):
    """The library's functions bound as a cuda fence binds them (device_pointers=True)."""
    namespace: dict = {}
    bind(library, "where(const double* p) -> uintptr_t; where_mut(float*) -> uintptr_t; "
                  "is_null(const void*) -> int; length(const char*) -> size_t",
         namespace, line=3, device_pointers=True)
    return namespace


def test_a_cuda_export_passes_the_device_pointer_of_a_gpu_array(gpu):
    assert gpu["where"](OnDevice()) == DEVICE_ADDRESS
    assert gpu["where"](OnDevice(strides=(8,))) == DEVICE_ADDRESS  # C strides, spelled out
    assert gpu["where"](OnDevice(shape=(2, 3), strides=(24, 8))) == DEVICE_ADDRESS
    assert gpu["where"](OnDevice(readonly=True)) == DEVICE_ADDRESS  # const: fine
    assert gpu["where_mut"](TensorLike()) == DEVICE_ADDRESS + 64
    assert gpu["is_null"](OnDevice("|u1")) == 0  # void*: any element type
    assert gpu["where"](OnDevice(shape=(0,), address=0)) == 0  # empty: NULL
    assert gpu["where"](None) == 0
    assert gpu["where"](ctypes.c_void_p(DEVICE_ADDRESS)) == DEVICE_ADDRESS  # the caller's
    assert gpu["length"]("héllo") == 6  # char*: host text, still


def test_a_cuda_export_refuses_host_memory_naming_the_argument(gpu):
    with pytest.raises(TypeError) as info:
        gpu["where"](np.ones(3))
    assert str(info.value) == (
        "where() argument 1 (p) (const double*): expected a GPU array of float64, got "
        "numpy.ndarray of float64 (host memory: a cuda export's pointer arguments take GPU "
        "arrays, objects with __cuda_array_interface__ such as CuPy arrays or torch CUDA "
        "tensors; pass cupy.asarray(a))")
    with pytest.raises(TypeError, match=r"^where_mut\(\) argument 1 \(float\*\): expected a "
                                        r"writeable GPU array of float32, got numpy\.ndarray "
                                        r"of float32 \(host memory: "):
        gpu["where_mut"](np.ones(3, dtype=np.float32))

    class Wrapped:  # host memory behind __array_interface__
        __array_interface__ = np.ones(3).__array_interface__

    for host in (Wrapped(), (ctypes.c_double * 3)(), np.ones(3, dtype=np.uint8)):
        with pytest.raises(TypeError, match=r"host memory: .*__cuda_array_interface__"):
            gpu["is_null"](host)
    with pytest.raises(TypeError, match=r"^where\(\) argument 1 \(p\) \(const double\*\): "
                                        r"expected a GPU array of float64, got list$"):
        gpu["where"]([1.0, 2.0])


def test_a_cuda_export_checks_the_gpu_array_like_a_host_one(gpu):
    with pytest.raises(TypeError, match=r"expected a GPU array of float64, got OnDevice "
                                        r"\(typestr '<f4'\)"):
        gpu["where"](OnDevice("<f4"))
    with pytest.raises(TypeError, match=r"not C-contiguous: pass cupy\.ascontiguousarray"):
        gpu["where"](OnDevice(shape=(3,), strides=(16,)))
    with pytest.raises(TypeError, match=r"where_mut\(\) argument 1 \(float\*\): expected a "
                                        r"writeable GPU array of float32, got OnDevice "
                                        r"\(read-only\)"):
        gpu["where_mut"](OnDevice("<f4", readonly=True))
    with pytest.raises(TypeError, match=r"a masked array"):
        gpu["where"](OnDevice(mask=OnDevice("|b1")))
    with pytest.raises(TypeError, match=r"requires grad\. Use var\.detach\(\)"):
        gpu["where_mut"](TensorLike(requires_grad=True))


def test_gpu_arrays_are_refused_without_device_pointers(ns):
    with pytest.raises(TypeError) as info:
        ns["dot"](OnDevice(), np.ones(3), 3)
    assert str(info.value) == (
        "dot() argument 1 (const double*): expected an array of float64, got OnDevice (a GPU "
        "array, in device memory: this function takes host memory, such as a NumPy array; "
        "pass to_numpy(a))")
    for on_device in (TensorLike(), TensorLike(requires_grad=True)):
        with pytest.raises(TypeError, match=r"argument 1 .*a GPU array, in device memory"):
            ns["scale"](on_device, 4, 2.0)


def test_a_missing_function_is_a_located_error(library):
    with pytest.raises(FenceError) as info:
        bind(library, "dot(const double*, const double*, size_t) -> double; fft(double*)", {},
             line=12)
    assert info.value.line == 12
    assert str(info.value) == ("export: no function 'fft' in the compiled library (in C++ "
                               "declare it extern \"C\"; in Rust #[no_mangle] pub extern "
                               "\"C\" fn)")


# -- real builds --------------------------------------------------------------------------------

CPP_POST = '''Title: Dot
Date: 2026-05-10

```cpp exec export="dot(const double*, const double*, size_t) -> double"
#include <cstddef>

extern "C" double dot(const double* a, const double* b, std::size_t n) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}
```

```python exec
import numpy as np

a = np.linspace(0, 1, 1000)
b = np.cos(a)
print(f"dot = {dot(a, b, a.size):.6f}", np.allclose(dot(a, b, a.size), a @ b))

def case(f):
    def make(xp, n):
        x, y = np.random.rand(n), np.random.rand(n)
        return lambda: f(x, y, n)
    return make

benchmark({"numpy": case(lambda x, y, n: x @ y), "c++": case(dot)},
          params={"n": [1000]}, budget=0.01, title="Dot product")
```
'''


def test_a_cpp_function_is_called_and_benchmarked_from_python(site):
    if shutil.which("c++") is None:
        pytest.skip("no C++ compiler (c++) on this machine")
    build = site({"posts/dot.md": CPP_POST})
    assert build.returncode == 0, build.log
    assert build.statuses() == ["ran", "ran"], build.log
    page = build.post("dot")
    expected = float(np.linspace(0, 1, 1000) @ np.cos(np.linspace(0, 1, 1000)))
    assert f"dot = {expected:.6f} True" in page.text
    table = page.select_one("table.bench")
    assert table is not None, page
    cases = [row.select("td")[0].text for row in table.select("tbody tr")]
    assert cases == ["numpy", "c++"]
    again = site()
    assert again.statuses() == ["cached", "cached"], again.log
    assert f"dot = {expected:.6f} True" in again.post("dot").text


RUST_POST = '''Title: Rust
Date: 2026-05-11

```rust exec
//| export: sum_squares(x: *const f64, n: usize) -> f64; twice(i32) -> i32
#[no_mangle]
pub extern "C" fn sum_squares(x: *const f64, n: usize) -> f64 {
    let xs = unsafe { std::slice::from_raw_parts(x, n) };
    xs.iter().map(|v| v * v).sum()
}

#[no_mangle]
pub extern "C" fn twice(v: i32) -> i32 { 2 * v }
```

```python exec
import numpy as np
x = np.arange(5.0)
print("rust says", sum_squares(x, x.size), twice(21), sum_squares.__doc__)
```
'''


@pytest.mark.skipif(not shutil.which("rustc"), reason="no rustc on this machine")
def test_a_rust_function_is_called_from_python(site):
    build = site({"posts/rust.md": RUST_POST})
    assert build.returncode == 0, build.log
    assert build.statuses() == ["ran", "ran"], build.log
    assert "rust says 30.0 42 double sum_squares(const double* x, size_t n)" in \
        build.post("rust").text


BAD_POST = '''Title: Bad
Date: 2026-05-12

Some text.

```c exec export="mean(const doubel*, size_t) -> double"
double mean(const double* x, unsigned long n) { return n ? x[0] : 0; }
```

```python exec
print(mean)
```
'''


def test_a_bad_signature_is_a_located_collect_time_error(site):
    build = site({"posts/x.md": BAD_POST})
    fences = build.report["fences"]
    assert fences[0]["status"] == "failed", build.log
    assert fences[0]["line"] == 6
    assert "content/posts/x.md:6: error:" in build.log
    assert "mean: argument 1: unknown type 'doubel'" in build.log
