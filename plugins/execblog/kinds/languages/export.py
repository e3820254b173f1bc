"""A compiled library's functions in the Python session, through ctypes (``export=``).

A ``c``, ``cpp``, ``rust`` or ``cuda`` exec fence with ``export=`` is compiled into a shared
library instead of a program; the functions it names are then bound into the post's Python
session, so the next ``python exec`` fences can call them (and ``benchmark()`` them)::

    ```cpp exec export="dot(const double*, const double*, size_t) -> double; scale(double*, int)"
    extern "C" double dot(const double* a, const double* b, size_t n) { ... }
    extern "C" void scale(double* a, int n) { ... }
    ```

The same as an option line: ``//| export: dot(const double*, const double*, size_t) -> double``.

Syntax
    Functions separated by ``;``, each ``name(type, ...)`` with an optional ``-> type``
    (``void`` when absent). ``name()`` (or ``name(void)``) takes no arguments. Spaces do not
    matter. A parameter may carry a name, as in a prototype (``const double* x`` or Rust's
    ``x: *const f64``); it only appears in error messages.

Types
    C: ``void`` (returns only), ``bool``, ``char`` (a small integer), ``signed char``,
    ``unsigned char``, ``short``, ``unsigned short``, ``int``, ``unsigned`` (``unsigned int``),
    ``long``, ``unsigned long``, ``long long``, ``unsigned long long``, ``size_t``,
    ``ssize_t``, ``ptrdiff_t``, ``int8_t`` .. ``int64_t``, ``uint8_t`` .. ``uint64_t``,
    ``float``, ``double``. Rust: ``i8`` .. ``i64``, ``u8`` .. ``u64``, ``isize``, ``usize``,
    ``f32``, ``f64``, ``bool`` (and ``c_char``, ``c_void`` behind a pointer).

    Pointers: ``T*``, ``const T*`` (or ``T const*``), Rust ``*const T`` and ``*mut T``; one
    level only. ``void*`` takes an array of any element type. ``const char*`` and ``char*``
    take a ``str`` (passed as UTF-8) or ``bytes`` (a ``char*`` gets a private copy; pass a
    ``bytearray`` or an int8/uint8 array to see what the function writes); as a return type
    they give a ``str`` (``None`` for NULL). Any other pointer return gives the address as an
    ``int`` (``None`` for NULL).

Calling
    The bound function checks its arguments and says which one is wrong: the count (a
    ``TypeError`` like Python's), integers for integer types (a float is refused; out of
    range is an ``OverflowError``), numbers for ``float``/``double``. A typed pointer takes a
    C-contiguous NumPy array whose dtype is exactly the element type (``double*`` needs
    ``float64``, ``int*`` ``int32``), or any object with ``__array_interface__``, a ctypes
    array or pointer, or ``None`` (NULL). A non-const pointer needs a writeable array: the
    function may write into it, and the caller sees the change. ``help(name)`` shows the C
    prototype. Elsewhere than in a CUDA fence a GPU array is refused (pass ``to_numpy(a)``).

    In a ``cuda`` fence pointers take GPU arrays instead: any object with
    ``__cuda_array_interface__`` (a CuPy array, a torch CUDA tensor, a Numba device array),
    C-contiguous, of the element type, writeable unless ``const``; its device pointer is
    passed. Host memory (a NumPy array, an ``__array_interface__`` object, a ctypes array)
    is refused with a ``TypeError`` naming the argument: a kernel given a host address
    would crash or read garbage. ``None`` is NULL; a ``ctypes.c_void_p`` is passed as it is
    (an address the caller vouches for); ``char*`` still takes a ``str`` or ``bytes``
    (text for the host code, a name to print).

Functions must have C linkage to be found by name: ``extern "C"`` in C++ (and CUDA),
``#[no_mangle] pub extern "C" fn`` in Rust.
"""

from __future__ import annotations

import ctypes
import keyword
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from execblog.engine.model import FenceError

# -- types ---------------------------------------------------------------------------------

# C spellings (whitespace collapsed) -> the canonical one
_C_ALIASES: dict[str, str] = {
    "void": "void", "bool": "bool", "_Bool": "bool", "char": "char",
    "signed char": "signed char", "unsigned char": "unsigned char",
    "short": "short", "short int": "short", "signed short": "short",
    "signed short int": "short", "unsigned short": "unsigned short",
    "unsigned short int": "unsigned short",
    "int": "int", "signed": "int", "signed int": "int",
    "unsigned": "unsigned int", "unsigned int": "unsigned int",
    "long": "long", "long int": "long", "signed long": "long", "signed long int": "long",
    "unsigned long": "unsigned long", "unsigned long int": "unsigned long",
    "long long": "long long", "long long int": "long long", "signed long long": "long long",
    "signed long long int": "long long", "unsigned long long": "unsigned long long",
    "unsigned long long int": "unsigned long long",
    "size_t": "size_t", "ssize_t": "ssize_t", "ptrdiff_t": "ptrdiff_t",
    "intptr_t": "intptr_t", "uintptr_t": "uintptr_t",
    "float": "float", "double": "double",
    **{f"{u}int{n}_t": f"{u}int{n}_t" for u in ("", "u") for n in (8, 16, 32, 64)},
}

# Rust spellings -> the C type they are
_RUST: dict[str, str] = {
    **{f"i{n}": f"int{n}_t" for n in (8, 16, 32, 64)},
    **{f"u{n}": f"uint{n}_t" for n in (8, 16, 32, 64)},
    "isize": "ssize_t", "usize": "size_t", "f32": "float", "f64": "double", "bool": "bool",
    "c_char": "char", "c_void": "void",
}

_CTYPES: dict[str, Any] = {
    "void": None, "bool": ctypes.c_bool, "char": ctypes.c_byte,
    "signed char": ctypes.c_byte, "unsigned char": ctypes.c_ubyte,
    "short": ctypes.c_short, "unsigned short": ctypes.c_ushort,
    "int": ctypes.c_int, "unsigned int": ctypes.c_uint,
    "long": ctypes.c_long, "unsigned long": ctypes.c_ulong,
    "long long": ctypes.c_longlong, "unsigned long long": ctypes.c_ulonglong,
    "size_t": ctypes.c_size_t, "ssize_t": ctypes.c_ssize_t, "ptrdiff_t": ctypes.c_ssize_t,
    "intptr_t": ctypes.c_ssize_t, "uintptr_t": ctypes.c_size_t,
    "int8_t": ctypes.c_int8, "int16_t": ctypes.c_int16, "int32_t": ctypes.c_int32,
    "int64_t": ctypes.c_int64, "uint8_t": ctypes.c_uint8, "uint16_t": ctypes.c_uint16,
    "uint32_t": ctypes.c_uint32, "uint64_t": ctypes.c_uint64,
    "float": ctypes.c_float, "double": ctypes.c_double,
}

_KNOWN = ("C: void, bool, char, signed/unsigned char, short, int, long, long long "
          "(each also unsigned), size_t, ssize_t, ptrdiff_t, int8_t..int64_t, "
          "uint8_t..uint64_t, float, double; Rust: i8..i64, u8..u64, isize, usize, f32, f64, "
          "bool; pointers: T*, const T*, *const T, *mut T")

_IDENT = re.compile(r"[A-Za-z_]\w*\Z")
_TOKEN = re.compile(r"\s*(\*|[A-Za-z_]\w*|\S)")


@dataclass(frozen=True)
class _Type:
    base: str  # canonical C name of the type, or of the pointee: "double"
    pointer: bool = False
    const: bool = False  # the pointee is const
    spelled: str = ""  # normalized, in the author's dialect: "const double*", "*mut f64"

    @property
    def c(self) -> str:
        """The C spelling: ``const double*``."""
        if not self.pointer:
            return self.base
        return f"{'const ' if self.const else ''}{self.base}*"

    @property
    def is_string(self) -> bool:
        return self.pointer and self.base == "char"


@dataclass(frozen=True)
class _Function:
    name: str
    args: tuple[_Type, ...]
    names: tuple[str, ...]  # parameter names: "" none, "n" (C: size_t n), ":n" (Rust: n: T)
    result: _Type

    def text(self) -> str:
        args = ", ".join(f"{t.spelled} {n}".strip() if n and not n.startswith(":")
                         else f"{n[1:]}: {t.spelled}" if n else t.spelled
                         for t, n in zip(self.args, self.names, strict=True))
        arrow = "" if self.result.base == "void" and not self.result.pointer else \
            f" -> {self.result.spelled}"
        return f"{self.name}({args}){arrow}"

    def prototype(self) -> str:
        args = ", ".join(f"{t.c} {n.lstrip(':')}".strip()
                         for t, n in zip(self.args, self.names, strict=True))
        return f"{self.result.c} {self.name}({args or 'void'})"


def _parse_type(text: str, where: str, *, result: bool = False) -> tuple[_Type, str]:
    """One type, maybe followed (C) or preceded (Rust ``x: T``) by a parameter name."""
    text = text.strip()
    name = ""
    if not result:
        rust_named = re.match(r"([A-Za-z_]\w*)\s*:\s*(.*)\Z", text, re.S)
        if rust_named:
            name, text = ":" + rust_named[1], rust_named[2].strip()
    if not text:
        raise ValueError(f"{where}: a type is missing")
    if result and re.fullmatch(r"\(\s*\)", text):  # Rust's unit
        return _Type("void", spelled="void"), ""
    tokens = _TOKEN.findall(text)
    bad = [t for t in tokens if t != "*" and not _IDENT.match(t)]
    if bad:
        raise ValueError(f"{where}: unexpected {bad[0]!r} in {text!r} (types: {_KNOWN})")
    if tokens[0] == "*":  # Rust: *const T, *mut T
        if len(tokens) < 3 or tokens[1] not in ("const", "mut"):
            raise ValueError(f"{where}: {text!r} is not a Rust pointer (*const T or *mut T)")
        if "*" in tokens[2:]:
            raise ValueError(f"{where}: {text!r}: a pointer to a pointer is not supported")
        rest = tokens[2:]
        base = _RUST.get(rest[0]) or _C_ALIASES.get(rest[0])
        if base is None or len(rest) != 1:
            raise ValueError(f"{where}: unknown type {' '.join(rest)!r} in {text!r} "
                             f"(types: {_KNOWN})")
        spelled = f"*{tokens[1]} {rest[0]}"
        return _Type(base, True, tokens[1] == "const", spelled), name
    stars = tokens.count("*")
    if stars > 1:
        raise ValueError(f"{where}: {text!r}: a pointer to a pointer is not supported")
    if stars:
        star = tokens.index("*")
        before, after = tokens[:star], tokens[star + 1:]
        after = [t for t in after if t != "const"]  # a const pointer: nothing to us
        if len(after) > 1:
            raise ValueError(f"{where}: cannot read {text!r} as a type")
        if after:
            if name:
                raise ValueError(f"{where}: cannot read {text!r} as a type")
            name = after[0]
    else:
        before = tokens
        words = [t for t in before if t != "const"]
        if not result and len(words) > 1 and not name and _lookup(words) is None \
                and _lookup(words[:-1]) is not None:
            name = words[-1]
            before = before[:-1]
    const = "const" in before
    words = [t for t in before if t != "const"]
    base = _lookup(words)
    if base is None:
        raise ValueError(f"{where}: unknown type {' '.join(words) or text!r} "
                         f"(types: {_KNOWN})")
    if stars:
        spelled = f"{'const ' if const else ''}{base}*"
        return _Type(_RUST.get(base, base), True, const, spelled), name
    c = _RUST.get(base, base)
    if c == "void" and not result:
        raise ValueError(f"{where}: void is not an argument type (write name() for none)")
    return _Type(c, spelled=base), name


def _lookup(words: list[str]) -> str | None:
    """Canonical name of a non-pointer type written as ``words`` (C or Rust), else None."""
    if not words:
        return None
    joined = " ".join(words)
    if joined in _C_ALIASES:
        return _C_ALIASES[joined]
    if len(words) == 1 and words[0] in _RUST and words[0] not in ("c_void",):
        return words[0]
    return None


def _parse(text: str) -> list[_Function]:
    functions: list[_Function] = []
    seen: set[str] = set()
    parts = [p.strip() for p in text.split(";")]
    if not any(parts):
        raise ValueError('expected one or more functions: "name(type, ...) -> type; ..."')
    for index, part in enumerate(parts, 1):
        if not part:
            if index < len(parts):  # a trailing ';' is fine, an empty entry is not
                raise ValueError(f"function {index} is empty (two ';' in a row?)")
            continue
        opened = part.find("(")
        closed = part.find(")", opened + 1)
        if opened < 0 or closed < 0:
            raise ValueError(f"{part!r} is not of the form name(type, ...) -> type")
        name = part[:opened].strip()
        if not _IDENT.match(name):
            raise ValueError(f"{name!r} (in {part!r}) is not a function name")
        if keyword.iskeyword(name):
            raise ValueError(f"{name!r} is a Python keyword: Python could not call it")
        if name in seen:
            raise ValueError(f"{name!r} is declared twice")
        seen.add(name)
        inner = part[opened + 1:closed].strip()
        rest = part[closed + 1:].strip()
        if rest and not rest.startswith("->"):
            raise ValueError(f"{name}: expected '-> type' after the arguments, got {rest!r}")
        args: list[_Type] = []
        names: list[str] = []
        if inner and inner != "void":
            for position, arg in enumerate(inner.split(","), 1):
                typ, arg_name = _parse_type(arg, f"{name}: argument {position}")
                args.append(typ)
                names.append(arg_name)
        result = _Type("void", spelled="void")
        if rest:
            result, _ = _parse_type(rest[2:], f"{name}: return type", result=True)
        functions.append(_Function(name, tuple(args), tuple(names), result))
    return functions


def parse_exports(text: str) -> str:
    """Option parser for ``export=``: check the signatures (``ValueError`` saying which
    function and which type is wrong) and return them normalized, one spelling per meaning
    (the text is part of the cache key)."""
    return "; ".join(f.text() for f in _parse(text))


# -- binding ---------------------------------------------------------------------------------

_LOADED: list[ctypes.CDLL] = []  # never unloaded: bound functions point into them


def bind(library: str, text: str, namespace: dict[str, Any], *, line: int,
         device_pointers: bool = False) -> list[str]:
    """Load ``library`` and bind the functions ``text`` declares into ``namespace``.

    Returns the names bound. A function missing from the library raises ``FenceError``."""
    functions = _parse(text)
    try:
        lib = ctypes.CDLL(library)
    except OSError as exc:
        raise FenceError(f"export: cannot load the compiled library: {exc}", line) from None
    _LOADED.append(lib)
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy is a dependency of the engine
        numpy = None
    wrappers = {}
    for function in functions:
        try:
            pointer = getattr(lib, function.name)
        except AttributeError:
            raise FenceError(
                f"export: no function {function.name!r} in the compiled library (in C++ "
                f'declare it extern "C"; in Rust #[no_mangle] pub extern "C" fn)', line,
            ) from None
        wrappers[function.name] = _wrap(function, pointer, lib, numpy, device_pointers)
    namespace.update(wrappers)
    return list(wrappers)


def _wrap(function: _Function, pointer: Any, lib: ctypes.CDLL, numpy: Any,
          device: bool) -> Callable[..., Any]:
    pointer.argtypes = [ctypes.c_void_p if t.pointer else _CTYPES[t.base]
                        for t in function.args]
    result = function.result
    if result.is_string:
        pointer.restype = ctypes.c_char_p
    elif result.pointer:
        pointer.restype = ctypes.c_void_p
    else:
        pointer.restype = _CTYPES[result.base]
    converters = tuple(_converter(function, position, typ, numpy, device)
                       for position, typ in enumerate(function.args, 1))
    # A generated function, so that the argument count is checked (and reported) by Python
    # itself, and a call costs only the conversions: benchmark() times these calls.
    count = len(converters)
    converted = ", ".join(f"_c{i}(args[{i}])" for i in range(count))
    body = f"_call({converted})"
    if result.is_string:
        body = f"_decode({body})"
    source = (f"def _export(*args):\n    if len(args) != {count}:\n"
              f"        raise _count(len(args))\n    return {body}\n")
    plural = "argument" if count == 1 else "arguments"

    def count_error(given: int) -> TypeError:  # Python's own wording
        return TypeError(f"{function.name}() takes {count} positional {plural} but {given} "
                         f"{'was' if given == 1 else 'were'} given")

    scope: dict[str, Any] = {"_call": pointer, "_decode": _decode, "_count": count_error}
    scope.update({f"_c{i}": convert for i, convert in enumerate(converters)})
    exec(compile(source, f"<export {function.name}>", "exec"), scope)  # noqa: S102
    wrapper = scope["_export"]
    wrapper.__code__ = wrapper.__code__.replace(co_name=function.name)  # in tracebacks
    wrapper.__name__ = wrapper.__qualname__ = function.name
    wrapper.__doc__ = function.prototype()
    wrapper.__module__ = "__main__"
    wrapper._library = lib  # type: ignore[attr-defined]  # keep it alive
    return wrapper


def _decode(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", errors="replace")


def _describe(value: Any) -> str:
    typ = type(value)
    dtype = getattr(value, "dtype", None)
    if dtype is not None and hasattr(value, "shape"):
        return f"{typ.__module__.split('.')[0]}.{typ.__name__} of {dtype}"
    return typ.__name__


def _converter(function: _Function, position: int, typ: _Type, numpy: Any,
               device: bool) -> Callable[[Any], Any]:
    arg_name = function.names[position - 1].lstrip(":")
    what = f"{function.name}() argument {position}" + (f" ({arg_name})" if arg_name else "")
    declared = typ.spelled

    def refuse(value: Any, need: str, why: str = "") -> TypeError:
        return TypeError(f"{what} ({declared}): expected {need}, got {_describe(value)}"
                         + (f" ({why})" if why else ""))

    if typ.pointer:
        return _pointer_converter(typ, numpy, device, refuse)
    ctype = _CTYPES[typ.base]
    if typ.base == "bool":
        def to_bool(value: Any) -> bool:
            if isinstance(value, int) or type(value).__name__ == "bool_":
                return bool(value)
            raise refuse(value, "a bool")
        return to_bool
    if ctype in (ctypes.c_float, ctypes.c_double):
        def to_float(value: Any) -> float:
            if type(value) is float:
                return value
            if isinstance(value, str | bytes | bytearray | complex) or \
                    not hasattr(value, "__float__"):
                raise refuse(value, "a number")
            try:
                return float(value)
            except (TypeError, ValueError):
                raise refuse(value, "a real number") from None
        return to_float
    bits = ctypes.sizeof(ctype) * 8
    signed = ctype(-1).value < 0
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)

    def to_int(value: Any) -> int:
        if type(value) is not int:
            if isinstance(value, float) or not hasattr(value, "__index__"):
                raise refuse(value, "an integer")
            value = value.__index__()
        if low <= value <= high:
            return value
        raise OverflowError(f"{what} ({declared}): {value} is out of range "
                            f"[{low}, {high}]")
    return to_int


def _typestrs(typ: _Type) -> tuple[str, ...] | None:
    """The ``__array_interface__`` typestrs an element of ``typ`` matches (None: any)."""
    if typ.base == "void":
        return None
    ctype = _CTYPES[typ.base]
    size = ctypes.sizeof(ctype)
    if typ.base == "bool":
        kinds = "b"
    elif ctype in (ctypes.c_float, ctypes.c_double):
        kinds = "f"
    elif typ.base == "char":
        kinds = "iu"  # plain char: either signedness
    else:
        kinds = "i" if ctype(-1).value < 0 else "u"
    order = "<" if sys.byteorder == "little" else ">"
    orders = ("|", order, "=") if size == 1 else (order, "=")
    return tuple(f"{o}{k}{size}" for o in orders for k in kinds)


# why a pointer argument is refused: host memory where a GPU array is needed, and back
_NEEDS_GPU = ("host memory: a cuda export's pointer arguments take GPU arrays, objects with "
              "__cuda_array_interface__ such as CuPy arrays or torch CUDA tensors; pass "
              "cupy.asarray(a)")
_NEEDS_HOST = ("a GPU array, in device memory: this function takes host memory, such as a "
               "NumPy array; pass to_numpy(a)")


def _cuda_interface(value: Any) -> tuple[Any, str]:
    """``value.__cuda_array_interface__`` (None when it has none), and why it could not be
    read: torch raises for a tensor that requires grad."""
    try:
        return getattr(value, "__cuda_array_interface__", None), ""
    except Exception as exc:  # any error of a third-party property
        return None, f"its __cuda_array_interface__ cannot be read: {exc}"


def _pointer_converter(typ: _Type, numpy: Any, device: bool,
                       refuse: Callable[..., Exception]) -> Callable[[Any], Any]:
    """The converter of a pointer argument: host memory (NumPy, ``__array_interface__``,
    ctypes) where ``device`` is false, GPU arrays (``__cuda_array_interface__``) where it
    is true; each refuses the other kind of memory with a message saying so."""
    typestrs = _typestrs(typ)
    writeable = not typ.const
    array = "a GPU array" if device else "an array"
    need = array if typestrs is None else f"{array} of {_dtype_name(typ)}"
    if typ.is_string:
        need = "a str, bytes or " + need
    elif writeable:
        need = "a writeable " + need.removeprefix("an ").removeprefix("a ")
    ctype = None if typ.base == "void" else _CTYPES[typ.base]
    ndarray = numpy.ndarray if numpy is not None else ()
    dtypes = set()
    if numpy is not None and typestrs is not None:
        dtypes = {numpy.dtype(t) for t in typestrs}
    from_buffer, addressof = ctypes.c_char.from_buffer, ctypes.addressof
    string = typ.is_string
    contiguous = (f"not C-contiguous: pass {'cupy' if device else 'numpy'}"
                  f".ascontiguousarray(a)")

    def from_interface(value: Any, face: Any) -> int | None:
        if not isinstance(face, dict):
            raise refuse(value, need, "its array interface is not a dict")
        if typestrs is not None and face.get("typestr") not in typestrs:
            raise refuse(value, need, f"typestr {face.get('typestr')!r}")
        data = face.get("data")
        if not isinstance(data, tuple) or len(data) != 2:
            raise refuse(value, need, "no data pointer")
        address, readonly = data
        if readonly and writeable:
            raise refuse(value, need, "read-only")
        if face.get("mask") is not None:
            raise refuse(value, need, "a masked array")
        strides = face.get("strides")
        if strides is not None and tuple(strides) != _c_strides(face.get("shape", ()),
                                                                face.get("typestr", "")):
            raise refuse(value, need, contiguous)
        return address or None

    def text(value: Any) -> Any:
        """A str or bytes for ``char*``: host text, in a cuda export too (a name to print,
        a path). NotImplemented when ``value`` is none of these."""
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, bytes):
            return ctypes.create_string_buffer(value) if writeable else value
        if isinstance(value, bytearray):
            return addressof(from_buffer(value)) if value else None
        return NotImplemented

    def host_memory(value: Any) -> bool:
        return (bool(ndarray) and isinstance(value, ndarray)
                or isinstance(value, ctypes.Array | ctypes._Pointer | memoryview)
                or hasattr(value, "__array_interface__"))

    def convert(value: Any) -> Any:
        if type(value) is ndarray or (ndarray and isinstance(value, ndarray)):
            if dtypes and value.dtype not in dtypes:
                raise refuse(value, need)
            flags = value.flags
            if not flags.c_contiguous:
                raise refuse(value, need, contiguous)
            if flags.writeable:
                if value.nbytes:
                    return addressof(from_buffer(value))  # the fastest way to the address
            elif writeable:
                raise refuse(value, need, "read-only")
            return value.__array_interface__["data"][0] or None
        if value is None:
            return None
        if string:
            passed = text(value)
            if passed is not NotImplemented:
                return passed
        if isinstance(value, ctypes.Array | ctypes._Pointer):
            element = type(value)._type_
            if string and element in (ctypes.c_char, ctypes.c_byte, ctypes.c_ubyte):
                return value
            if ctype is not None and (ctypes.sizeof(element) != ctypes.sizeof(ctype)
                                      or _typestrs_of(element) - set(typestrs or ())):
                raise refuse(value, need)
            return value
        if isinstance(value, ctypes.c_void_p):
            return value
        face = getattr(value, "__array_interface__", None)
        if face is not None:
            return from_interface(value, face)
        gpu, problem = _cuda_interface(value)
        if gpu is not None or problem:
            raise refuse(value, need, _NEEDS_HOST)
        raise refuse(value, need)

    def convert_device(value: Any) -> Any:
        face, problem = _cuda_interface(value)
        if face is not None:
            return from_interface(value, face)
        if problem:
            raise refuse(value, need, problem)
        if value is None:
            return None
        if string:
            passed = text(value)
            if passed is not NotImplemented:
                return passed
        if isinstance(value, ctypes.c_void_p):  # an address the caller vouches for
            return value
        if host_memory(value):  # its address means nothing to a kernel: refused, not UB
            raise refuse(value, need, _NEEDS_GPU)
        raise refuse(value, need)

    return convert_device if device else convert


def _typestrs_of(ctype: Any) -> set[str]:
    """The typestrs a ctypes element type is (empty when it is no plain number)."""
    for name, known in _CTYPES.items():
        if known is ctype:
            return set(_typestrs(_Type(name)) or ())
    return {"?"}


def _dtype_name(typ: _Type) -> str:
    ctype = _CTYPES[typ.base]
    size = ctypes.sizeof(ctype)
    if typ.base == "bool":
        return "bool"
    if ctype in (ctypes.c_float, ctypes.c_double):
        return f"float{size * 8}"
    if typ.base == "char":
        return "int8 or uint8"
    return f"{'' if ctype(-1).value < 0 else 'u'}int{size * 8}"


def _c_strides(shape: Any, typestr: str) -> tuple[int, ...]:
    try:
        size = int(typestr[2:])
    except ValueError:
        return ()
    strides = []
    for extent in reversed(tuple(shape)):
        strides.append(size)
        size *= extent
    return tuple(reversed(strides))
