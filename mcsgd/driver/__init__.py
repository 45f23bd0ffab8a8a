"""The run driver: instance + dynamics -> replicas advanced in chunks -> :class:`RunResult`.

``state``   :class:`ChainState`: configurations, RNG rows, counters, workspaces, sweeps done
            (also the ``runner/`` part of the one checkpoint layout, :mod:`mcsgd.storage.run`);
``runner``  :class:`Runner`: one dynamics on one instance, dispatching chunks to the kernels;
``loop``    the driver: :func:`run`, chunk steps with an info record per chunk, hooks for
            progress and checkpoints, :func:`time_grid`;
``result``  :class:`RunResult` and its file conversion.
"""

from mcsgd.driver.loop import (
    ChunkInfo,
    LoopState,
    finish_run,
    load_checkpoint,
    prepare_run,
    record_loop,
    run,
    run_params,
    save_checkpoint,
    time_grid,
)
from mcsgd.driver.result import RunResult, read_result, write_result
from mcsgd.driver.runner import Runner
from mcsgd.driver.state import ChainState

__all__ = ["ChainState", "ChunkInfo", "LoopState", "RunResult", "Runner", "finish_run",
           "load_checkpoint", "prepare_run", "read_result", "record_loop", "run", "run_params",
           "save_checkpoint", "time_grid", "write_result"]
