"""Tracker kernels: written once, interpreted while the work is small, compiled by numba after.

Loading numba's CPU target and the kernels from the on-disk cache costs about a second in a new
process (`LOAD_PRICE_S`: numba 0.68 also imports scipy's BLAS on the way), more than
`limes track` spends tracking a file of a few thousand detections interpreted. Two ways to
choose:
- a caller that knows how much work is left (a file) asks after each part whether the rest, at
  the interpreted rate so far, would cost more than the load (`compile_if_worth`): the better
  form is chosen, give or take the rate's drift;
- otherwise it is a rent-or-buy choice, and the classic answer is to rent until the rent paid
  equals the price of buying: a kernel runs as plain Python (the very function numba compiles)
  until the process has spent `INTERPRETED_BUDGET_S` inside kernels that way, then every kernel
  switches to its compiled form for good. The worst case costs twice the load.
The live service switches at start (`use_compiled`), before its first scan.

A kernel may call another kernel; the compiled form is built with the callee's compiled form in
its globals, so numba sees dispatchers, while the interpreted form calls the Python ones.
"""

from __future__ import annotations

import functools
import threading
import time
import types
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

LOAD_PRICE_S = 1.0
"""Seconds a new process spends making the kernels' compiled forms from the on-disk cache
(measured: 1.0 s by `limes track` on 4,700 detections, all interpreted against all compiled)."""

INTERPRETED_BUDGET_S = LOAD_PRICE_S
"""Seconds of interpreted kernel time a process spends before paying numba's load instead."""

_lock = threading.RLock()
_local = threading.local()


class _Mode:
    compiled = False
    interpreted_s = 0.0


_mode = _Mode()


class Kernel(Generic[P, R]):
    """A numba-compilable function that chooses, per call, its interpreted or compiled form."""

    def __init__(self, fn: Callable[P, R]) -> None:
        self.py_func = fn
        self._dispatcher: Callable[P, R] | None = None
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if _mode.compiled:
            return self.compiled()(*args, **kwargs)
        if getattr(_local, "inside", False):  # a kernel called by a kernel: timed by its caller
            return self.py_func(*args, **kwargs)
        _local.inside = True
        start = time.perf_counter()
        try:
            return self.py_func(*args, **kwargs)
        finally:
            _local.inside = False
            _spent(time.perf_counter() - start)

    def compiled(self) -> Callable[P, R]:
        """The numba dispatcher (loaded from the on-disk cache, or compiled, on first use)."""
        if self._dispatcher is None:
            with _lock:
                if self._dispatcher is None:
                    self._dispatcher = _compile(self.py_func)
        return self._dispatcher


def kernel(fn: Callable[P, R]) -> Kernel[P, R]:
    """Mark `fn` as a tracker kernel (numba `njit(cache=True, nogil=True)` once compiled)."""
    return Kernel(fn)


def use_compiled() -> None:
    """Switch every kernel to its compiled form from now on (the service does so at start)."""
    _mode.compiled = True


def uses_compiled() -> bool:
    """Whether kernels run compiled now."""
    return _mode.compiled


def compile_if_worth(done: int, total: int) -> bool:
    """With `done` of `total` work items processed, switch to the compiled forms now if the rest,
    at the interpreted rate so far, would cost more than loading them; True once compiled."""
    if _mode.compiled or done <= 0 or _mode.interpreted_s <= 0.0:
        return _mode.compiled
    rest_s = _mode.interpreted_s * (total - done) / done
    if rest_s > LOAD_PRICE_S:
        use_compiled()
    return _mode.compiled


def _spent(seconds: float) -> None:
    _mode.interpreted_s += seconds
    if _mode.interpreted_s >= INTERPRETED_BUDGET_S:
        use_compiled()


def _compile(fn: Callable[..., Any]) -> Any:
    import numba

    namespace = dict(fn.__globals__)
    for name in fn.__code__.co_names:  # the kernels it calls, not every kernel of its module
        value = namespace.get(name)
        if isinstance(value, Kernel):
            namespace[name] = value.compiled()
    twin = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)
    twin.__qualname__ = fn.__qualname__
    twin.__module__ = fn.__module__
    twin.__doc__ = fn.__doc__
    return numba.njit(cache=True, nogil=True)(twin)
