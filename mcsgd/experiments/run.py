"""One run of one dynamics on an instance file (``mcsgd run``), callable from Python.

:func:`run_instance_file` validates the values, checks the output path and the memory, loads
the instance, runs the chains through :func:`mcsgd.driver.run` and writes the result; printing
is left to the caller.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mcsgd.driver import RunResult
    from mcsgd.dynamics import SGD, Metropolis


INIT_DATASETS = ("final/state", "rows/NNNN/final_state")


def load_init_states(spec: str, instance, replicas: int | None) -> tuple[np.ndarray, str]:
    """The initial configurations ``int8[R, N]`` of ``run --init FILE[:DATASET]`` and the
    ``FILE:DATASET`` they came from (absolute path).

    Accepted datasets (:data:`INIT_DATASETS`): a run file's ``final/state`` (``mcsgd run -o``,
    a scan task; the default for run files) and a recovery file's ``rows/NNNN/final_state``
    (``mcsgd recover --save-states -o``; the default when the file has one row). The stored
    configurations must have been recorded on this instance: a run file's ``instance``
    parameters, a recovery row's ``instance_params`` (then the runs of that instance are taken)
    must equal the instance's ``params`` (instances without parameters: only N is checked).
    Replicas: ``replicas`` None takes every stored configuration; otherwise it must equal their
    number, or a single stored configuration is broadcast to all ``replicas`` (each replica
    then follows its own dynamics stream). :class:`~mcsgd.errors.ParameterError` otherwise.
    """
    from mcsgd.errors import FileFormatError, ParameterError
    from mcsgd.storage.h5 import open_checked, read_json_attr, read_kind
    from mcsgd.storage.recovery import read_final_state

    path, _, dset = spec.partition(":") if ":" in spec and not os.path.exists(spec) \
        else (spec, "", "")
    if not os.path.exists(path):
        raise ParameterError(f"--init: {spec!r} is not random, planted or an existing file")
    try:
        f = open_checked(path, ("run", "recovery"))
    except FileFormatError as e:
        raise FileFormatError(f"--init: {e}") from None
    with f:
        kind = read_kind(f)
        if kind == "run":
            dset = dset or "final/state"
            if dset.strip("/") != "final/state":
                raise ParameterError(f"--init: a run file offers 'final/state', not {dset!r}")
            states = f["final/state"][()]
            stored = [read_json_attr(f, "params", {}).get("instance", {})]
            per = states.shape[0]
        else:
            rows = sorted(k for k in f.get("rows", {}) if "final_state" in f["rows"][k])
            if not rows:
                raise ParameterError(f"--init: {path} holds no configurations (written without "
                                     "'recover --save-states')")
            if not dset:
                if len(rows) > 1:
                    raise ParameterError(
                        f"--init: {path} has {len(rows)} rows with states; name one, e.g. "
                        f"{path}:rows/{rows[0]}/final_state")
                dset = f"rows/{rows[0]}/final_state"
            dset = dset.strip("/")
            if dset not in f or not dset.endswith("final_state") or not dset.startswith("rows/"):
                raise ParameterError(f"--init: {path} has no dataset {dset!r} (accepted: "
                                     + ", ".join(f"rows/{r}/final_state" for r in rows) + ")")
            st = read_final_state(f[dset])
            states, stored, per = st["states"], st["instance_params"], st["replicas"]
    if states.ndim != 2 or states.shape[1] != instance.n:
        raise FileFormatError(f"--init: {path}:{dset} holds configurations of shape "
                              f"{states.shape}, not (R, {instance.n}) for this instance")
    if instance.params:
        match = [k for k, p in enumerate(stored) if p == instance.params]
        if not match:
            raise ParameterError(f"--init: the configurations in {path} were recorded on "
                                 "another instance (instance parameters differ)")
        states = states[match[0] * per:(match[0] + 1) * per]
    ok = (np.isin(states, (-1, 1)) if instance.problem == "ising"
          else (states >= 0) & (states < instance.q))
    if not ok.all():
        raise FileFormatError(f"--init: {path}:{dset} holds values that are not valid "
                              f"{instance.problem} states")
    r = states.shape[0]
    if replicas is not None and replicas != r:
        if r != 1:
            raise ParameterError(f"--init: --replicas {replicas} does not match the {r} stored "
                                 "configurations (give --replicas {r}, or store one "
                                 "configuration to broadcast it)".replace("{r}", str(r)))
        states = np.repeat(states, replicas, axis=0)
    return np.ascontiguousarray(states, np.int8), f"{os.path.abspath(path)}:{dset}"


def run_instance_file(instance_path: str, dynamics: Metropolis | SGD, *, sweeps: int,
                      replicas: int | None = 1, seed: int = 0, init: str = "random",
                      grid: str = "log", grid_points: int = 40, window: float = 0.5,
                      threads: int | None = None, output: str | None = None,
                      force: bool = False,
                      progress: Callable[[int, int], None] | None = None,
                      layout: str = "auto") -> RunResult:
    """Run ``dynamics`` on the instance in ``instance_path``; write ``output`` if given.

    Every value is checked (:class:`~mcsgd.errors.ParameterError`) before the output path
    (``force`` lets it replace a file that is not a previous run) and the memory; ``progress``
    is called as ``progress(done_sweeps, total_sweeps)``. The result's ``params`` name the
    absolute instance path (``instance_file``). ``init`` is "random", "planted" or
    ``FILE[:DATASET]``: start from stored configurations (:func:`load_init_states`; then
    ``params["init"]`` is "array" and ``params["init_file"]`` names ``FILE:DATASET``);
    ``replicas`` None is 1, or with an init file the number of stored configurations.
    ``layout`` ("auto", "scalar" or "lanes", :func:`mcsgd.driver.run`) changes the speed only,
    never the result, and is not part of ``params``.
    """
    from mcsgd import problems
    from mcsgd.driver import LAYOUTS, run
    from mcsgd.errors import check_choice, check_range
    from mcsgd.resources import check_run_memory
    from mcsgd.storage.paths import check_output

    check_range("sweeps", sweeps, 1, None, integer=True)
    if replicas is not None:
        check_range("replicas", replicas, 1, None, integer=True)
    check_range("seed", seed, 0, None, integer=True)
    check_range("window", window, 0, 1, hi_open=True)
    check_range("grid-points", grid_points, 1, None, integer=True)
    if threads is not None:
        check_range("threads", threads, 1, None, integer=True)
    check_choice("layout", layout, LAYOUTS)
    check_output(output, option="-o", mcsgd_kind="run", inputs=[instance_path], force=force)
    inst = problems.load(instance_path)
    init_arr, init_file = init, None
    if init not in ("random", "planted"):
        init_arr, init_file = load_init_states(init, inst, replicas)
        replicas = init_arr.shape[0]
    replicas = 1 if replicas is None else replicas
    check_run_memory(inst.n, inst.m, replicas, grid_points, dynamics.name == "sgd")
    res = run(inst, dynamics, sweeps=sweeps, replicas=replicas, seed=seed, init=init_arr,
              grid=grid, grid_points=grid_points, window=window, threads=threads,
              progress=progress, layout=layout)
    res.params["instance_file"] = os.path.abspath(instance_path)
    if init_file is not None:
        res.params["init_file"] = init_file
    if output:
        res.save(output)
    return res


# per-replica final overlaps are shown when they spread over more than this (e.g. a bimodal set:
# some replicas recovered the planted solution, some did not)
OVERLAP_SPREAD = 0.1


def run_summary(res: RunResult) -> dict[str, Any]:
    """The JSON object of ``mcsgd run --json``: :meth:`RunResult.summary` plus
    ``stationary.replica_overlaps`` (each replica's final overlap; planted instances) and
    ``stationary.overlaps_disagree`` (their spread max - min exceeds :data:`OVERLAP_SPREAD`:
    the mean ``overlap`` then averages distinct outcomes)."""
    summ = res.summary()
    if res.overlap is not None:
        finals = [float(x) for x in res.overlap[:, -1]]
        summ["stationary"]["replica_overlaps"] = finals
        summ["stationary"]["overlaps_disagree"] = bool(
            max(finals) - min(finals) > OVERLAP_SPREAD)
    return summ
