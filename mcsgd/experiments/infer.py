"""Belief propagation on an instance file (``mcsgd bp``), callable from Python.

:func:`bp_file` validates the values, checks the output path, loads the instance, runs
:func:`mcsgd.bp.bp` and writes the result; printing is left to the caller.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcsgd.bp import BPResult


def bp_file(instance_path: str, *, T: float | None = None, damping: float = 0.0,
            init: str = "uninformative", perturbation: float = 1e-3, max_iter: int = 1000,
            tol: float = 1e-8, seed: int = 0, schedule: str = "random",
            output: str | None = None, force: bool = False,
            save_messages: bool = False,
            progress: Callable[..., None] | None = None) -> BPResult:
    """Run BP on the instance in ``instance_path``; write ``output`` if given.

    The values are checked (:class:`~mcsgd.errors.ParameterError`) before the output path
    (``force`` lets it replace a file that is not a BP result) and before the instance is
    loaded; ``save_messages`` also stores the messages. ``progress`` (a
    :class:`mcsgd.progress.Progress` or ``progress(msg)``) hears the stages and, if it can, the
    iterations. The result's ``params`` name the
    absolute instance path (``instance_file``).
    """
    from mcsgd import problems
    from mcsgd.bp import bp
    from mcsgd.errors import check_range
    from mcsgd.storage.paths import check_output

    # validate the cheap arguments before loading the instance
    if T is not None:
        check_range("T", T, 0, None)
    check_range("damping", damping, 0, 1, hi_open=True)
    check_range("perturbation", perturbation, 0, 1, hi_open=True)
    check_range("max-iter", max_iter, 1, None, integer=True)
    check_range("tol", tol, 0, None, lo_open=True)
    check_range("seed", seed, 0, None, integer=True)
    check_output(output, option="-o", mcsgd_kind="bp", inputs=[instance_path], force=force)
    from mcsgd.progress import counter, stage

    inst = problems.load(instance_path)
    stage(progress, f"{inst.problem} N = {inst.n}, M = {inst.m}: at most {max_iter} "
          f"iterations ({schedule} schedule)", max_iter)
    res = bp(inst, T=T, damping=damping, init=init, perturbation=perturbation,
             max_iter=max_iter, tol=tol, seed=seed, schedule=schedule,
             progress=counter(progress))
    res.params["instance_file"] = os.path.abspath(instance_path)
    if output:
        stage(progress, f"writing {output}")
        res.save(output, messages=save_messages)
    return res
