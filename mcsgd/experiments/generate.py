"""Instance files (``mcsgd generate``), callable from Python.

:func:`generate_instance` builds instance k of (parameters, seed) through the one factory
(:func:`mcsgd.problems.from_params`) and :func:`instance_from_edges` reads an edge list; both
check the output path before any work and write the instance file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcsgd.problems import Instance


def generate_instance(params: dict[str, Any], seed: int, k: int, output: str, *,
                      force: bool = False) -> Instance:
    """Write instance ``k`` of (``params``, ``seed``) to ``output`` and return it.

    ``params`` are the keys of :func:`mcsgd.problems.from_params` (``problem`` first);
    ``force`` lets ``output`` replace a file that is not an instance.
    """
    from mcsgd import problems
    from mcsgd.storage.paths import check_output

    check_output(output, option="-o", mcsgd_kind="instance", force=force)
    inst = problems.from_params(params, seed, k)
    inst.save(output)
    return inst


def instance_from_edges(edges: str, output: str, *, q: int = 2, problem: str = "coloring",
                        force: bool = False) -> Instance:
    """Write the instance of edge-list file ``edges`` to ``output`` and return it.

    ``q`` colours (2..127; ignored by Ising), ``problem`` ``"coloring"`` or ``"ising"``.
    """
    from mcsgd import problems
    from mcsgd.errors import check_range
    from mcsgd.storage.paths import check_output

    check_range("q", q, 2, 127, integer=True)
    check_output(output, option="-o", mcsgd_kind="instance", inputs=[edges], force=force)
    inst = problems.from_edge_file(edges, q=q, problem=problem)
    inst.save(output)
    return inst
