"""CLI commands of the inference group: ``bp`` (belief propagation).

Cheap to import: argparse only; every handler imports the numerical modules lazily. One
``_add_<command>`` function builds each parser and one ``_<command>`` handler runs it; to add a
command, write both and call the builder from :func:`register`.
"""

from __future__ import annotations

import argparse
import sys

from mcsgd.cli._common import add_force_arg, add_seed_arg, wrote


def register(sub) -> None:
    """Add the inference commands to the ``mcsgd`` subparsers."""
    _add_bp(sub)


# ---- bp -------------------------------------------------------------------------------------
def _add_bp(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bp",
        help="belief propagation on a colouring or Ising instance (Bayes-optimal reference)",
        description="Run belief propagation on an instance: marginals, argmax overlap with the "
        "planted solution, Bethe free energy, convergence diagnostics. For planted q-colouring "
        "from the uninformative start, recovery happens iff c > (q-1)^2 (Kesten-Stigum).",
    )
    p.add_argument("instance", help="instance HDF5 file (from 'mcsgd generate')")
    p.add_argument("--T", type=float, default=None,
                   help="temperature >= 0 (0: hard constraints; default: 0 for colouring, the "
                   "Nishimori temperature tanh(1/T) = 1 - 2 noise for planted Ising)")
    p.add_argument("--damping", type=float, default=0.0, help="damping in [0, 1) (default 0)")
    p.add_argument("--init", choices=["uninformative", "random", "planted"],
                   default="uninformative",
                   help="initial messages (default uninformative: uniform + perturbation)")
    p.add_argument("--perturbation", type=float, default=1e-3,
                   help="perturbation amplitude of the uniform start, in [0, 1) (default 1e-3)")
    p.add_argument("--schedule", choices=["random", "parallel"], default="random",
                   help="random sequential (default) or synchronous updates (colouring: parallel "
                   "updates oscillate around the paramagnet unless damped, see docs/bp.md)")
    p.add_argument("--max-iter", type=int, default=1000, help="iteration cap (default 1000)")
    p.add_argument("--tol", type=float, default=1e-8,
                   help="convergence threshold on the largest message change (default 1e-8)")
    add_seed_arg(p, "seed of the initial messages and the update order")
    p.add_argument("--save-messages", action="store_true",
                   help="also store the messages float64[2M, q] in the output file")
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="output HDF5 file (default: none, nothing written)")
    add_force_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=_bp)
    return p


def _bp(args) -> int:
    from mcsgd.cli._common import emit_json
    from mcsgd.experiments.infer import bp_file
    from mcsgd.progress import Progress

    res = bp_file(args.instance, T=args.T, damping=args.damping, init=args.init,
                  perturbation=args.perturbation, max_iter=args.max_iter, tol=args.tol,
                  seed=args.seed, schedule=args.schedule, output=args.output,
                  force=args.force, save_messages=args.save_messages,
                  progress=(prog := Progress("bp")))
    prog.close()
    wrote(args.output)
    if args.json:
        emit_json(res.summary())
    else:
        ov = "n/a" if res.overlap is None else f"{res.overlap:.4f}"
        state = "converged" if res.converged else "NOT converged"
        print(f"bp: {state} after {res.iterations} iterations (last change "
              f"{res.max_change:.2e}); overlap {ov}; Bethe f = {res.bethe_free_energy:.6f}, "
              f"e = {res.energy:.6f}, s = {res.entropy:.6f} per node  "
              f"({res.timing['run_s']:.2f} s)", file=sys.stdout)
    return 0
