"""Switching dynamics mid-run (``Runner.set_dynamics``), checkpoints of flag workspaces, kernel
warm-up and the scope of numba's thread count (issue 9, sections 1 and 7).

The semantics under test (docs/dynamics.md, "Switching dynamics"): a switch starts a fresh
mini-batch at the next sweep, so the run continues exactly as a fresh run of the new dynamics
started from the same configurations and RNG states.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mcsgd import problems
from mcsgd.driver import Runner, run
from mcsgd.dynamics import SGD, Metropolis, kernels
from mcsgd.errors import ParameterError

# (name, dynamics before, sweeps before the switch, dynamics after, sweeps measured after).
# The sweeps before are chosen mid-epoch of the new tau where tau > 1.
SWITCHES = [
    ("fixed-shrink-tau1", SGD(0.8, flags="edge", batch="fixed"), 3,
     SGD(0.3, flags="edge", batch="fixed"), 2),
    ("fixed-shrink-tau5", SGD(0.8, flags="edge", batch="fixed", tau=5), 7,
     SGD(0.3, flags="edge", batch="fixed", tau=5), 5),
    ("bernoulli-into-fixed-tau4", SGD(0.6, flags="edge", tau=4), 2,
     SGD(0.4, flags="edge", batch="fixed", tau=4), 4),
    ("fixed-into-bernoulli-tau4", SGD(0.4, flags="edge", batch="fixed", tau=4), 2,
     SGD(0.5, flags="edge", tau=4), 4),
    ("bernoulli-halfedge-tau10", SGD(0.95, tau=10), 5, SGD(0.2, tau=10), 10),
    ("bernoulli-edge-tau10", SGD(0.95, flags="edge", tau=10), 5,
     SGD(0.2, flags="edge", tau=10), 10),
    ("table-into-fixed-tau4", SGD(0.8), 2, SGD(0.3, flags="edge", batch="fixed", tau=4), 4),
    ("metropolis-into-bernoulli-tau3", Metropolis(0.4), 4, SGD(0.3, order="random", tau=3), 3),
]
IDS = [c[0] for c in SWITCHES]


def _flag_counts(runner: Runner) -> np.ndarray:
    """Number of flags set per replica (from the public state_dict)."""
    return runner.state_dict()["flags"].sum(axis=1, dtype=np.int64)


@pytest.mark.parametrize("tau", [1, 5])
def test_fixed_batch_has_exact_size_after_switch(tau):
    """Guards the stale flags of a shrinking fixed-size batch (B 0.8 -> 0.3 left ~1550 extra
    edges flagged on c = 8, N = 1000): after the switch every sweep's batch holds exactly
    round(B M) edges, whether the switch falls on an epoch boundary or not."""
    inst = problems.planted_coloring(1000, 5, 8.0, seed=3)
    m = inst.edge_ids()[1]
    r = Runner(inst, SGD(0.8, flags="edge", batch="fixed", tau=tau), replicas=3, seed=1)
    r.advance(2 * tau + 2)
    assert np.all(_flag_counts(r) == round(0.8 * m))
    r.set_dynamics(SGD(0.3, flags="edge", batch="fixed", tau=tau))
    for _ in range(2 * tau + 1):
        r.advance(1)
        np.testing.assert_array_equal(_flag_counts(r), round(0.3 * m))


def test_entering_fixed_batch_mid_epoch_is_not_empty():
    """Guards the empty batch (every move accepted: infinite temperature) when
    ``batch="fixed", tau > 1`` is entered mid-epoch: the batch holds round(B M) edges from the
    first sweep after the switch."""
    inst = problems.planted_coloring(1000, 5, 8.0, seed=3)
    m = inst.edge_ids()[1]
    r = Runner(inst, SGD(0.6, flags="edge", tau=4), replicas=3, seed=1)
    r.advance(2)
    r.set_dynamics(SGD(0.4, flags="edge", batch="fixed", tau=4))
    for _ in range(6):
        r.advance(1)
        np.testing.assert_array_equal(_flag_counts(r), round(0.4 * m))


@pytest.mark.parametrize("case", SWITCHES, ids=IDS)
def test_switched_run_equals_fresh_run(case):
    """A switch starts a fresh mini-batch: from the switch on, the switched run is bit-identical
    to a fresh run of the new dynamics started from the same configurations and RNG states
    (guards the three defects: stale fixed-size flags, the empty batch entered mid-epoch, and
    Bernoulli flags of the current epoch kept from the old B)."""
    _, before, t1, after, t2 = case
    inst = problems.planted_coloring(600, 3, 5.0, seed=2)
    sw = Runner(inst, before, replicas=3, seed=7)
    sw.advance(t1)
    fresh = Runner(inst, after, replicas=3, seed=99, init=sw.s.copy())
    fresh.rng[:] = sw.rng
    acc0 = sw.accepted.copy()
    sw.set_dynamics(after)
    sw.advance(t2)
    fresh.advance(t2)
    np.testing.assert_array_equal(sw.s, fresh.s)
    np.testing.assert_array_equal(sw.rng, fresh.rng)
    np.testing.assert_array_equal(sw.energy, fresh.energy)
    np.testing.assert_array_equal(sw.accepted - acc0, fresh.accepted)


LAW_R = 4000  # replicas per law comparison
LAW_K = 5.0  # |mean difference| <= LAW_K sigma (two-sided normal tail 5.7e-7 per assertion)


@pytest.mark.parametrize("case", SWITCHES, ids=IDS)
def test_acceptance_law_after_switch(case):
    """The law after a switch: the accepted fraction over the sweeps after a switch has the
    law of a fresh run of the new dynamics started from the same configurations (independent
    random numbers). Per replica r the difference d_r = a_switched,r - a_fresh,r of the two
    accepted fractions is computed; sigma = std(d) / sqrt(R) over R = 4000 replicas (paired:
    the shared starting configurations cancel) and |mean(d)| <= 5 sigma is asserted.

    On the code before the fix the stale flags (B 0.8 -> 0.3), the empty batch entered
    mid-epoch and the Bernoulli flags kept from the old B move the mean by 10-10^3 sigma."""
    name, before, t1, after, t2 = case
    inst = problems.planted_coloring(60, 3, 4.0, seed=11)
    sw = Runner(inst, before, replicas=LAW_R, seed=21)
    sw.advance(t1)
    fresh = Runner(inst, after, replicas=LAW_R, seed=22, init=sw.s.copy())
    acc0 = sw.accepted.copy()
    sw.set_dynamics(after)
    sw.advance(t2)
    fresh.advance(t2)
    norm = inst.n * t2
    d = (sw.accepted - acc0) / norm - fresh.accepted / norm
    sigma = d.std(ddof=1) / np.sqrt(LAW_R)
    print(f"{name}: a_switched - a_fresh = {d.mean():+.5f}, sigma = {sigma:.5f}, "
          f"{d.mean() / sigma:+.1f} sigma")
    assert sigma > 0
    assert abs(d.mean()) <= LAW_K * sigma, (name, d.mean(), sigma)


def test_resume_after_switch_is_bit_identical():
    """A checkpoint taken after a mid-epoch switch carries where the epochs start (``epoch0``):
    a runner restored from it continues bit-identically."""
    inst = problems.planted_coloring(600, 3, 5.0, seed=2)
    after = SGD(0.4, flags="edge", batch="fixed", tau=4)
    a = Runner(inst, SGD(0.7, flags="edge", tau=4), replicas=2, seed=5)
    a.advance(3)
    a.set_dynamics(after)
    a.advance(1)
    saved = {k: np.copy(v) for k, v in a.state_dict().items()}
    b = Runner(inst, after, replicas=2, seed=6)
    b.load_state_dict(saved)
    a.advance(9)
    b.advance(9)
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(v, b.state_dict()[k], err_msg=k)


def test_load_state_dict_refuses_mismatched_flag_workspaces():
    """Guards the silent loss of mini-batch flags: a state with flag workspaces loaded into a
    runner whose dynamics has none (or the reverse) raises instead of being half-restored;
    an array of the wrong shape raises too (it used to broadcast)."""
    inst = problems.planted_coloring(600, 3, 5.0, seed=2)
    flagged = Runner(inst, SGD(0.5, flags="edge", tau=3), replicas=2, seed=1)
    flagged.advance(2)
    plain = Runner(inst, Metropolis(0.5), replicas=2, seed=1)
    plain.advance(2)
    before = {k: np.copy(v) for k, v in plain.state_dict().items()}
    with pytest.raises(ParameterError, match="has mini-batch flag workspaces"):
        plain.load_state_dict(flagged.state_dict())
    for k, v in plain.state_dict().items():  # nothing changed
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    with pytest.raises(ParameterError, match="lacks mini-batch flag workspaces"):
        flagged.load_state_dict(plain.state_dict())
    other = Runner(inst, SGD(0.5, tau=3), replicas=2, seed=1)  # half-edge flags: 2M, not M
    with pytest.raises(ParameterError, match="'flags' has shape"):
        other.load_state_dict(flagged.state_dict())
    one = Runner(inst, Metropolis(0.5), replicas=1, seed=1)
    with pytest.raises(ParameterError, match="'s' has shape"):
        plain.load_state_dict(one.state_dict())


# ---- section 7: warm-up and threads --------------------------------------------------------
@pytest.mark.parametrize("dyn", [Metropolis(0.5), SGD(0.6, flags="edge", batch="fixed")],
                         ids=["table", "flags"])
def test_run_warms_every_kernel_variant_before_the_clock(monkeypatch, dyn):
    """Guards the warm-up that compiled only the serial twin: the parallel kernel's compile or
    cache load was billed to ``timing.run_s``. Every kernel variant a run calls (serial twin
    for the short first intervals of the log grid, parallel kernel for the long ones) is first
    called with 0 sweeps, before any call that advances, and no other variant is warmed."""
    name = "table_sweeps" if isinstance(dyn, Metropolis) else "flag_sweeps"
    calls = []
    for variant in (name, name + "_serial"):
        real = getattr(kernels, variant)

        def rec(*args, _real=real, _variant=variant):
            calls.append((_variant, args[-2]))  # nsweeps is the 2nd argument from the end
            return _real(*args)

        monkeypatch.setattr(kernels, variant, rec)
    inst = problems.planted_coloring(3000, 5, 8.0, seed=5)  # 2M R = 96 000 updates per sweep
    run(inst, dyn, sweeps=200, replicas=4, seed=1, grid_points=20)
    used = {v for v, ns in calls if ns > 0}
    warmed = {v for v, ns in calls if ns == 0}
    assert used == {name, name + "_serial"}  # the run does exercise both variants
    assert warmed == used
    first_real = next(i for i, (_, ns) in enumerate(calls) if ns > 0)
    assert all(ns == 0 for _, ns in calls[:first_real])
    assert all(ns > 0 for _, ns in calls[first_real:])


def test_advance_zero_warms_both_variants(monkeypatch):
    """``Runner.advance(0)`` (the warm-up of direct Runner users) compiles or loads the serial
    twin and, with R > 1, the parallel kernel; ``warm(n)`` only the variant ``advance(n)``
    calls. Neither advances the run."""
    calls = []
    for variant in ("table_sweeps", "table_sweeps_serial"):
        real = getattr(kernels, variant)

        def rec(*args, _real=real, _variant=variant):
            calls.append(_variant)
            return _real(*args)

        monkeypatch.setattr(kernels, variant, rec)
    inst = problems.planted_coloring(3000, 5, 8.0, seed=5)
    r = Runner(inst, Metropolis(0.5), replicas=4, seed=1)
    s0, rng0 = r.s.copy(), r.rng.copy()
    r.advance(0)
    assert sorted(calls) == ["table_sweeps", "table_sweeps_serial"]
    calls.clear()
    r.warm(1000)
    assert calls == ["table_sweeps"]
    calls.clear()
    r.warm(1)
    assert calls == ["table_sweeps_serial"]
    assert r.t == 0
    np.testing.assert_array_equal(r.s, s0)
    np.testing.assert_array_equal(r.rng, rng0)
    calls.clear()
    Runner(inst, Metropolis(0.5), replicas=1, seed=1).advance(0)
    assert calls == ["table_sweeps_serial"]


def test_run_threads_are_scoped():
    """Guards the process-wide side effect of ``run(..., threads=n)``: the kernels run on n
    threads, and numba's thread count is restored afterwards. Runs in a
    subprocess with NUMBA_NUM_THREADS = 2 so that 1 and 2 threads can both be set."""
    code = textwrap.dedent("""
        import numba
        from mcsgd import problems
        from mcsgd.dynamics import kernels
        from mcsgd.dynamics import Metropolis
        from mcsgd.driver import run

        seen = []
        real = kernels.table_sweeps_serial
        def rec(*a):
            seen.append(numba.get_num_threads())
            return real(*a)
        kernels.table_sweeps_serial = rec
        inst = problems.planted_coloring(300, 3, 4.0, seed=1)
        numba.set_num_threads(2)
        run(inst, Metropolis(0.5), sweeps=10, replicas=1, threads=1)
        print(sorted(set(seen)), numba.get_num_threads())
    """)
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "[1] 2", out.stdout


def test_threads_scope_restores_after_error():
    """``threads_scope`` restores numba's thread count when its body raises."""
    import numba

    from mcsgd._numba import threads_scope

    prev = numba.get_num_threads()
    with pytest.raises(RuntimeError), threads_scope(1):
        assert numba.get_num_threads() == 1
        raise RuntimeError
    assert numba.get_num_threads() == prev
