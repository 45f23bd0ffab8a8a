"""The run driver: instance + dynamics -> replicas advanced in chunks -> :class:`RunResult`.

``state``   :class:`ChainState`: configurations, RNG rows, counters, workspaces, sweeps done
            (also the ``runner/`` part of the one checkpoint layout, :mod:`mcsgd.storage.run`);
``runner``  :class:`Runner`: one dynamics on one instance, dispatching chunks to the kernels;
``loop``    the driver: :func:`run`, chunk steps with an info record per chunk, hooks for
            progress and checkpoints, :func:`time_grid`;
``result``  :class:`RunResult` and its file conversion;
``lanes``   :class:`LaneGroup`: the chains of several runners side by side in one pass
            (replica-major lane kernels), ``plan_blocks``, ``resolve_layout``;
``many``    :func:`run_many`: many runs on one instance, grouped into lane passes.
"""

from mcsgd.driver.lanes import LAYOUTS, LaneGroup, plan_blocks, resolve_layout
from mcsgd.driver.loop import (
    ChunkInfo,
    LoopState,
    finish_run,
    layout_driver,
    load_checkpoint,
    prepare_run,
    record_loop,
    run,
    run_params,
    save_checkpoint,
    time_grid,
)
from mcsgd.driver.many import RunSpec, run_many
from mcsgd.driver.result import RunResult, read_result, write_result
from mcsgd.driver.runner import Runner
from mcsgd.driver.state import ChainState

__all__ = ["LAYOUTS", "ChainState", "ChunkInfo", "LaneGroup", "LoopState", "RunResult",
           "RunSpec", "Runner", "finish_run", "layout_driver", "load_checkpoint", "plan_blocks",
           "prepare_run", "read_result", "record_loop", "resolve_layout", "run", "run_many",
           "run_params", "save_checkpoint", "time_grid", "write_result"]
