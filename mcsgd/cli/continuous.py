"""``mcsgd continuous ...``: the CLI of the continuous-SGD experiments (argparse only here).

Every command takes ``--seed``, ``-o FILE.h5``, ``--json`` and ``--plot FILE.png`` (and
``--batch-size``, whose deprecated alias ``--B`` says so on stderr), builds the
``params`` dict of :func:`mcsgd.experiments.continuous.run_task` from its options (so a scan
file with the same keys gives the same result) and imports numpy-heavy code only inside the
handler.
"""

from __future__ import annotations

import argparse
from typing import Any

# option dest -> params key, per command (None values are left to run_task's defaults)
_COMMON_SGD = ("momentum", "dampening", "weight_decay", "sampling")
_COMMON_MODEL = ("data", "n_data", "hidden", "dim", "hmin", "hmax", "f0", "s")


def _blist(text: str) -> list[int]:
    from mcsgd.cli._common import float_list

    vals = float_list(text)
    out = []
    for v in vals:
        if not float(v).is_integer():
            raise argparse.ArgumentTypeError(f"{v!r} in {text!r} is not an integer batch size")
        out.append(int(v))
    if not out:
        raise argparse.ArgumentTypeError(f"{text!r} holds no batch size")
    return out


def _flist(text: str) -> list[float]:
    from mcsgd.cli._common import float_list

    vals = float_list(text)
    if not vals:
        raise argparse.ArgumentTypeError(f"{text!r} holds no number")
    return vals


def _batch_size(p: Any, kind: Any = int, *, required: bool = False,
                help: str = "mini-batch size ≥ 1", metavar: str | None = None,
                grid: bool = False) -> None:
    """``--batch-size`` (or ``--grid-batch-size``), with ``--B`` (``--grid-B``) as a
    deprecated alias; the params/JSON key stays ``B`` (``grid_B``)."""
    from mcsgd.cli._common import DeprecatedAlias

    new, old, dest = (("--grid-batch-size", "--grid-B", "grid_B") if grid
                      else ("--batch-size", "--B", "B"))
    p.add_argument(new, old, dest=dest, type=kind, required=required, metavar=metavar or "SIZE",
                   action=DeprecatedAlias, deprecated=old,
                   help=f"{help} ({old}: deprecated alias)")


def _default_note(p: argparse.ArgumentParser) -> None:
    """Name the default of every option left to run_task's per-experiment defaults."""
    for a in p._actions:
        if (a.option_strings and a.default is None and not a.required and a.help
                and a.help is not argparse.SUPPRESS and "default" not in a.help.lower()):
            a.help += " (default: the experiment's, docs/continuous.md)"


def _common(p: argparse.ArgumentParser) -> None:
    from mcsgd.cli._common import add_seed_arg

    g = p.add_argument_group("output")
    add_seed_arg(g)
    g.add_argument("-o", "--output", metavar="FILE.h5",
                   help="write arrays and params to HDF5 (default: none, nothing written)")
    g.add_argument("--force", action="store_true",
                   help="let -o replace an existing file that is not a previous result")
    g.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    g.add_argument("--plot", metavar="FILE.png", help="draw the standard figure (default: none)")
    _default_note(p)


def _sgd(p: argparse.ArgumentParser, momentum: bool = True) -> None:
    g = p.add_argument_group("SGD")
    if momentum:
        g.add_argument("--momentum", type=float, metavar="MU", help="momentum μ in [0, 1)")
        g.add_argument("--dampening", type=float, metavar="NU", help="dampening ν in [0, 1)")
    g.add_argument("--weight-decay", type=float, metavar="LAMBDA",
                   help="L2 weight decay λ ≥ 0 (default 1e-3 for softmax/mlp, else 0)")
    g.add_argument("--sampling", choices=("with", "without"),
                   help="mini-batches with replacement (default) or epoch shuffling")
    g.add_argument("--steps", type=int, metavar="S", help="SGD steps per chain")
    g.add_argument("--chains", type=int, metavar="R", help="independent chains")


def _model_opts(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--data", choices=("auto", "synthetic", "digits"),
                   help="data set of linreg/softmax/mlp (auto: digits if scikit-learn is "
                   "installed, else synthetic)")
    g.add_argument("--n-data", type=int, metavar="N", help="number of samples (data models) "
                   "or size of a finite noise set (quadratic)")
    g.add_argument("--hidden", type=int, help="MLP hidden units (default 8)")
    g.add_argument("--dim", type=int, help="quadratic: number of parameters (default 12)")
    g.add_argument("--hmin", type=float, help="quadratic: smallest curvature (default 0.2)")
    g.add_argument("--hmax", type=float, help="quadratic: largest curvature (default 4)")
    g.add_argument("--f0", type=float, help="quadratic: loss at the minimum (default 1)")
    g.add_argument("--s", type=float, help="noise scale s of the additive-noise models")


def _noise_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument("--noise", help="quadratic noise: isotropic, hessian (C ∝ H), hessian2 (C ∝ H²)")


def register(subparsers: Any) -> None:
    """Add the ``continuous`` command group."""
    top = subparsers.add_parser(
        "continuous",
        help="continuous SGD as a thermal process (FDRs, variance-flatness, escape, T_eff)",
        description="Continuous SGD as a thermal process: Yaida's FDRs, the linear-learning "
        "FDT, variance-flatness, escape times and effective temperatures.",
    )
    sub = top.add_subparsers(dest="ccommand", metavar="COMMAND", parser_class=type(top))
    top.set_defaults(func=lambda a: (top.print_help(), 2)[1])

    p = sub.add_parser("fdr", help="Yaida's FDR1 ratio and the FDR2 Hessian probe",
                       description="Run SGD and report Ō_L/Ō_R (half-running averages centred "
                       "on the fluctuation centre), 2<|∇f|²>/η and Tr(HC)/B at the minimum.")
    p.add_argument("--model", required=True, help="quadratic, linreg, softmax or mlp")
    p.add_argument("--eta", type=float, required=True, help="learning rate η > 0")
    _batch_size(p, required=True)
    p.add_argument("--eta-scan", type=_flist, metavar="LIST",
                   help="also measure the FDR2 probe at these η (anharmonicity fit)")
    p.add_argument("--start", choices=("init", "minimum"),
                   help="chains start at a common random point (default) or at the minimum")
    _noise_opt(p)
    _sgd(p)
    _model_opts(p)
    _common(p)
    p.set_defaults(func=_handler("fdr"), _keys=("model", "eta", "B", "eta_scan", "start",
                                                "noise",
                                                "steps", "chains", *_COMMON_SGD,
                                                *_COMMON_MODEL))

    p = sub.add_parser("adaptive", help="Yaida's adaptive learning-rate schedule",
                       description="Decay η → (1−Y)η whenever |Ō_L/Ō_R − 1| < X.")
    p.add_argument("--model", default="quadratic", help="quadratic, linreg, softmax or mlp")
    p.add_argument("--eta", type=float, required=True, help="initial learning rate η > 0")
    _batch_size(p, required=True)
    p.add_argument("--X", type=float, help="threshold on |Ō_L/Ō_R − 1| (default 0.01)")
    p.add_argument("--Y", type=float, help="relative η cut per decay (default 0.5)")
    p.add_argument("--check-every", type=int, help="steps between checks (default 100)")
    p.add_argument("--min-window", type=int, help="min steps since reset (default 2000)")
    _noise_opt(p)
    _sgd(p)
    _model_opts(p)
    _common(p)
    p.set_defaults(func=_handler("adaptive"), _keys=(
        "model", "eta", "B", "X", "Y", "check_every", "min_window", "noise", "steps", "chains",
        *_COMMON_SGD, *_COMMON_MODEL))

    p = sub.add_parser("linear-fdt", help="FDT of stochastic linear learning",
                       description="<f> − f* against (η/4)<|∇f_B|²> (exact) and "
                       "(η/(4B)) Tr C_conn (Langevin) for linear regression.")
    p.add_argument("--eta", type=float, required=True, help="learning rate η > 0")
    _batch_size(p, required=True)
    p.add_argument("--grid-eta", type=_flist, metavar="LIST", help="also scan these η")
    _batch_size(p, _blist, metavar="LIST", help="also scan these batch sizes", grid=True)
    _sgd(p)
    g = p.add_argument_group("data")
    g.add_argument("--data", choices=("auto", "synthetic", "digits"),
                   help="regression data (default synthetic)")
    g.add_argument("--n-data", type=int, metavar="N", help="number of samples")
    _common(p)
    p.set_defaults(func=_handler("linear-fdt"), _keys=(
        "eta", "B", "grid_eta", "grid_B", "steps", "chains", *_COMMON_SGD, "data", "n_data"))

    p = sub.add_parser("ivf", help="variance-flatness relation and the true energy",
                       description="PCA of the SGD weight trajectory, per-PC variance and "
                       "flatness, the exponent ψ, and ψ under the true energy φ = ½xᵀΣ⁻¹x.")
    p.add_argument("--noise", required=True,
                   help="isotropic, hessian, hessian2 (quadratic oracles) or a MODEL: "
                   "linreg, softmax, mlp")
    p.add_argument("--eta", type=float, help="learning rate (default 0.05)")
    _batch_size(p, help="mini-batch size (default 4)")
    p.add_argument("--level", type=float, help="flatness level factor > 1 (default 2)")
    p.add_argument("--skip-pcs", type=int, help="leading (drift) PCs to exclude (default 0)")
    p.add_argument("--n-pcs", type=int, help="PCs in the fit (default all, at most 20)")
    p.add_argument("--record-every", type=int, help="sampling interval (default 5)")
    _sgd(p)
    _model_opts(p)
    _common(p)
    p.set_defaults(func=_handler("ivf"), _keys=(
        "noise", "eta", "B", "level", "skip_pcs", "n_pcs", "record_every", "steps", "chains",
        *_COMMON_SGD, *_COMMON_MODEL))

    p = sub.add_parser("escape", help="escape times between wells vs B and η",
                       description="Mean first-passage times over the barrier of "
                       "depth·(x²−1)² with additive noise of variance s; slope of ln K in B/η "
                       "against 2ΔU/s (Kramers with T = ηs/(2B)).")
    _batch_size(p, _blist, required=True, metavar="LIST", help="batch sizes, e.g. 4,8")
    p.add_argument("--eta", type=_flist, required=True, metavar="ETA",
                   help="learning rate (or a list)")
    p.add_argument("--momentum", type=float, metavar="MU", help="momentum μ in [0, 1)")
    p.add_argument("--dampening", type=float, metavar="NU", help="dampening ν in [0, 1)")
    p.add_argument("--s", type=float, help="per-sample gradient variance (default 160)")
    p.add_argument("--depth", type=float, help="barrier height ΔU (default 1)")
    p.add_argument("--chains", type=int, help="chains per point (default 400)")
    p.add_argument("--max-steps", type=int, help="censoring time (default 200000)")
    p.add_argument("--asymptotic-min", type=float,
                   help="fit rows with ΔU/T ≥ this (default 3.75)")
    p.add_argument("--sampling", choices=("with", "without"), help=argparse.SUPPRESS)
    _common(p)
    p.set_defaults(func=_handler("escape"), _keys=(
        "B", "eta", "momentum", "dampening", "s", "depth", "chains", "max_steps",
        "asymptotic_min", "sampling"))

    p = sub.add_parser("occupation", help="flat vs sharp minimum occupation vs B",
                       description="Fraction of time in the flat of two equal-depth wells "
                       "against Gibbs at T = ηs/(2B) and the Laplace limit.")
    _batch_size(p, _blist, required=True, metavar="LIST", help="batch sizes, e.g. 4,8")
    p.add_argument("--eta", type=float, required=True, help="learning rate η > 0")
    p.add_argument("--s", type=float, help="per-sample gradient variance (default 120)")
    p.add_argument("--depth", type=float, help="well scale (default 0.25)")
    p.add_argument("--kappa", type=float, help="sharpness asymmetry κ ≥ 0 (default 1)")
    p.add_argument("--momentum", type=float, metavar="MU", help="momentum μ in [0, 1)")
    p.add_argument("--dampening", type=float, metavar="NU", help="dampening ν in [0, 1)")
    p.add_argument("--steps", type=int, help="steps per chain (default 40000)")
    p.add_argument("--chains", type=int, help="chains (default 128)")
    _common(p)
    p.set_defaults(func=_handler("occupation"), _keys=(
        "B", "eta", "s", "depth", "kappa", "momentum", "dampening", "steps", "chains"))

    p = sub.add_parser("temperature", help="effective temperature T_eff(B, η)",
                       description="Configurational and per-mode temperatures next to "
                       "η s/(2B), for each B.")
    p.add_argument("--model", required=True, help="quadratic, wells, linreg, softmax or mlp")
    _batch_size(p, _blist, required=True, metavar="LIST", help="batch sizes, e.g. 4,8")
    p.add_argument("--eta", type=float, required=True, help="learning rate η > 0")
    _noise_opt(p)
    _sgd(p)
    _model_opts(p)
    _common(p)
    p.set_defaults(func=_handler("temperature"), _keys=(
        "model", "B", "eta", "noise", "steps", "chains", *_COMMON_SGD, *_COMMON_MODEL))


def _handler(experiment: str):
    def handle(args: argparse.Namespace) -> int:
        import sys

        from mcsgd.cli._common import emit_json, stderr_say, wrote
        from mcsgd.experiments.continuous import run_command

        params: dict[str, Any] = {"experiment": experiment}
        for k in args._keys:
            v = getattr(args, k, None)
            if v is not None:
                params[k] = v
        res = run_command(params, args.seed, output=args.output, force=args.force,
                          plot=args.plot, progress=stderr_say("continuous", False))
        wrote(args.output)
        wrote(args.plot)
        if args.json:
            emit_json({**res["scalars"], "params": res["params"]})
        else:
            _summary(res, sys.stdout)
        return 0

    return handle


def _summary(res: dict, out) -> None:
    s = res["scalars"]
    lines = []
    for k, v in s.items():
        if isinstance(v, (list, dict)):
            continue
        lines.append(f"{k:>22} = {v:.6g}" if isinstance(v, float) else f"{k:>22} = {v}")
    for row in s.get("rows", []) or []:
        lines.append("  " + "  ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    out.write("\n".join(lines) + "\n")
