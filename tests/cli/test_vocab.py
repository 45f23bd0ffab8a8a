"""One CLI vocabulary (issue 12 §3): --batch-size, one --seed default, --c lists and the
--c/--d alias, help with defaults everywhere, `wrote PATH`, shell completion."""

import argparse
import json

import pytest

from mcsgd.cli import build_parser, main
from mcsgd.cli._common import DEFAULT_SEED


def _leaves(p: argparse.ArgumentParser, path=()):
    """(command path, parser) of every subcommand that runs something."""
    subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    for a in subs:
        for name, sp in a.choices.items():
            yield from _leaves(sp, (*path, name))
    if not subs and path:
        yield " ".join(path), p


LEAVES = dict(_leaves(build_parser()))
# every command whose result depends on random numbers
RANDOM = {"generate coloring", "generate ising", "run", "demo", "calibrate", "recover", "bp",
          *(f"continuous {c}" for c in ("fdr", "adaptive", "linear-fdt", "ivf", "escape",
                                        "occupation", "temperature"))}


def _option(p, name):
    return next((a for a in p._actions if name in a.option_strings), None)


def test_seed_same_default_everywhere():
    assert RANDOM <= set(LEAVES)
    for cmd, p in LEAVES.items():
        a = _option(p, "--seed")
        if cmd in RANDOM:
            assert a is not None, cmd
        if a is not None:
            assert not a.required and a.default == DEFAULT_SEED, cmd
            assert f"default {DEFAULT_SEED}" in p.format_help().replace("\n", " "), cmd


def test_every_option_has_help_and_shows_its_default():
    bad = []
    for cmd, p in LEAVES.items():
        fmt = p._get_formatter()
        required_groups = {id(a) for g in p._mutually_exclusive_groups if g.required
                           for a in g._group_actions}
        for a in p._actions:
            if not a.option_strings or a.help == argparse.SUPPRESS or isinstance(
                    a, (argparse._HelpAction, argparse._VersionAction)):
                continue
            text = fmt._expand_help(a) if a.help else ""
            needs_default = not (a.required or a.nargs == 0 or id(a) in required_groups)
            if not text or (needs_default and "default" not in text.lower()):
                bad.append(f"{cmd} {a.option_strings[0]}: {text!r}")
    assert not bad, "\n".join(bad)


def _fdr(spelling, capsys):
    assert main(["continuous", "fdr", "--model", "quadratic", "--eta", "0.1", spelling, "4",
                 "--steps", "200", "--chains", "2", "--json"]) == 0
    out, err = capsys.readouterr()
    obj = json.loads(out)
    obj.pop("timing", None)
    return obj, err


def test_continuous_batch_size_and_deprecated_B(capsys):
    new, err_new = _fdr("--batch-size", capsys)
    old, err_old = _fdr("--B", capsys)
    assert new == old and new["params"]["B"] == 4  # the JSON key stays B
    assert "deprecated" not in err_new
    warn = [ln for ln in err_old.splitlines() if "deprecated" in ln]
    assert len(warn) == 1 and warn[0].startswith("mcsgd: warning: --B is deprecated")
    assert "--batch-size" in warn[0]
    for cmd in ("linear-fdt", "escape", "temperature", "occupation", "adaptive", "ivf"):
        assert "--batch-size" in LEAVES[f"continuous {cmd}"].format_help()
    ns = build_parser().parse_args(["continuous", "linear-fdt", "--eta", "0.1",
                                    "--batch-size", "4", "--grid-batch-size", "2,4"])
    assert ns.B == 4 and ns.grid_B == [2, 4]


def test_degree_is_c_everywhere_with_d_alias(tmp_path, capsys):
    p = build_parser()
    for flag in ("--c", "--d"):
        ns = p.parse_args(["generate", "ising", "--n", "100", flag, "3", "-o", "x.h5"])
        assert ns.d == 3.0
        ns = p.parse_args(["calibrate", "--problem", "ising", flag, "3,4", "--B", "0.5"])
        assert ns.c == [3.0, 4.0]
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    assert main(["generate", "ising", "--n", "100", "--c", "3", "-o", str(a)]) == 0
    assert main(["generate", "ising", "--n", "100", "--d", "3", "--seed", str(DEFAULT_SEED),
                 "-o", str(b)]) == 0
    err = capsys.readouterr().err
    assert f"wrote {a}" in err and f"wrote {b}" in err
    from mcsgd.problems import Instance

    ia, ib = Instance.load(a), Instance.load(b)
    assert (ia.indices == ib.indices).all() and (ia.couplings == ib.couplings).all()
    assert ia.params == ib.params


CAL = ["calibrate", "--n", "300", "--B", "0.5", "--instances", "2", "--replicas", "1",
       "--sweeps", "20", "--mode", "equilibrium", "--T-grid", "0.4,0.6,0.8", "--threads", "1",
       "--json", "--quiet"]


def _strip(obj):
    obj = dict(obj)
    obj.pop("timing")
    return obj


@pytest.mark.filterwarnings("ignore::mcsgd.errors.DisorderErrorWarning")
def test_calibrate_several_c_one_file_one_figure(tmp_path, capsys):
    from mcsgd.errors import FileFormatError
    from mcsgd.experiments.calibrate import Calibration, load_all

    multi, single = tmp_path / "multi.h5", tmp_path / "single.h5"
    plot = tmp_path / "tb.png"
    pytest.importorskip("matplotlib")
    loud = [a for a in CAL if a != "--quiet"]  # --quiet also silences `wrote PATH`
    assert main([*loud, "--c", "6,8", "-o", str(multi), "--plot", str(plot)]) == 0
    out, err = capsys.readouterr()
    both = json.loads(out)
    assert both["c"] == [6.0, 8.0] and len(both["calibrations"]) == 2
    assert f"wrote {multi}: calibration of c = 6, 8" in err and f"wrote {plot}" in err
    assert plot.stat().st_size > 0
    assert main([*CAL, "--c", "8", "-o", str(single)]) == 0
    one = json.loads(capsys.readouterr().out)
    assert "c" not in one and one["params"]["problem"]["c"] == 8.0  # single c: today's JSON
    # each c of the multi-c run is its own single-c run (same seed, same instances)
    assert _strip(both["calibrations"][1]) == _strip(one)
    cals = load_all(multi)
    assert [c.params["problem"]["c"] for c in cals] == [6.0, 8.0]
    ref = json.dumps(Calibration.load(single).table)  # (NaN == NaN as text)
    assert json.dumps(cals[1].table) == ref
    assert [json.dumps(c.table) for c in load_all(single)] == [ref]
    with pytest.raises(FileFormatError, match="load_all"):
        Calibration.load(multi)


def test_calibrate_refuses_a_repeated_c(tmp_path, capsys):
    out = tmp_path / "x.h5"
    assert main([*CAL, "--c", "6,6", "-o", str(out)]) == 2
    assert "twice" in capsys.readouterr().err and not out.exists()


def test_completion_script_from_the_parser(capsys, monkeypatch):
    pytest.importorskip("shtab")
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert "calibrate" in script and "--batch-size" in script
    assert "--layout" in script and "auto scalar lanes" in script  # run's layout choices
    import sys

    monkeypatch.setitem(sys.modules, "shtab", None)  # as if not installed
    assert main(["completion", "zsh"]) == 2
    assert "pip install" in capsys.readouterr().err


def test_wrote_lines_follow_the_root_quiet(tmp_path, capsys):
    # 'wrote PATH' is progress-like stderr: the root -q silences it like a command's --quiet
    args = ["generate", "coloring", "--q", "5", "--n", "200", "--c", "5", "-o"]
    assert main([*args, str(tmp_path / "a.h5")]) == 0
    assert f"wrote {tmp_path / 'a.h5'}: coloring N=200" in capsys.readouterr().err
    assert main(["-q", *args, str(tmp_path / "b.h5")]) == 0
    assert "wrote" not in capsys.readouterr().err


def test_calibrate_invert_takes_a_list_of_c(capsys):
    assert main(["calibrate", "--invert", "T=0.7", "--c", "8,12", "--json"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert main(["calibrate", "--invert", "T=0.7", "--c", "12", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert both["c"] == [8.0, 12.0] and both["inversions"][1] == one
