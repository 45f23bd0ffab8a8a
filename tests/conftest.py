"""Suite-wide safety net: a cap on the test process's address space.

Several bad-input cases (``--n 1e12``, node ids >= 2**31, ``--replicas 1e9``) check that a size
guard refuses them *before* anything is allocated. They run in-process for speed, so a regressed
guard would try to allocate tens of GB and get the whole machine's OOM killer involved instead of
failing one test. With this cap such an allocation raises ``MemoryError`` in that test.
``MCSGD_TEST_ADDRESS_SPACE_GB`` (default 16; 0 disables) sets the cap; subprocesses inherit it.
"""

from __future__ import annotations

import os
import resource

_GB = int(os.environ.get("MCSGD_TEST_ADDRESS_SPACE_GB", "16"))
if _GB > 0:
    _soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    _cap = _GB << 30
    if _hard == resource.RLIM_INFINITY or _hard > _cap:
        resource.setrlimit(resource.RLIMIT_AS, (_cap, _hard))
