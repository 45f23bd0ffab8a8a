"""Seed namespaces (issue 9 §2): no two purposes share a random stream, and instance k of
(problem parameters, seed) is the same graph whichever command builds it."""

from __future__ import annotations

import numpy as np
import pytest

from mcsgd import problems
from mcsgd.problems.instance import _mix

SEEDS = (0, 1, 5)


class _Recorder:
    """Records every ``SeedSequence`` built while active (entropy, spawn key, first states)."""

    def __init__(self, monkeypatch):
        self.made: list[np.random.SeedSequence] = []
        real = np.random.SeedSequence
        rec = self

        class Recording(real):  # type: ignore[misc, valid-type]
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                rec.made.append(self)

        monkeypatch.setattr(np.random, "SeedSequence", Recording)

    def take(self) -> list[tuple[int, ...]]:
        """The first four 64-bit state words of each stream recorded since the last take."""
        out = [tuple(int(x) for x in ss.generate_state(4, np.uint64)) for ss in self.made]
        self.made = []
        return out


def test_no_two_purposes_share_a_stream(monkeypatch):
    """Guards the old collisions: the colouring generator's stream SeedSequence(seed, (0,)) was
    replica 0's dynamics stream of a run with the same seed (README: ``--seed 1`` for both), the
    Ising generator's (1,) was replica 1's, BP's initial messages reused the generator's stream,
    the initial configuration drew from the dynamics stream, and continuous tasks used (0,)/(1,)
    too. Every stream built by the real code paths (generators, random and planted starts,
    BP, continuous, calibrate, recover) for the same user seed must have its own first states."""
    from mcsgd.bp import bp
    from mcsgd.driver import Runner
    from mcsgd.dynamics import SGD, Metropolis
    from mcsgd.experiments.calibrate import Problem, calibrate
    from mcsgd.experiments.continuous import run_task
    from mcsgd.experiments.recover import instance_maker, recovery_scan

    R = 2
    streams: dict[str, list[tuple[int, ...]]] = {}
    for seed in SEEDS:
        rec = _Recorder(monkeypatch)
        col = problems.planted_coloring(150, 3, 4.0, seed=seed)
        streams[f"coloring instance s={seed}"] = rec.take()
        problems.ising(150, 3, seed=seed)
        streams[f"ising instance s={seed}"] = rec.take()
        Runner(col, SGD(0.5), replicas=R, seed=seed, init="planted")
        dyn = rec.take()
        assert len(dyn) == R
        streams[f"dynamics s={seed}"] = dyn
        Runner(col, SGD(0.5), replicas=R, seed=seed, init="random")
        both = rec.take()
        # the random start must have R streams of its own besides the R dynamics streams
        streams[f"init s={seed}"] = sorted(set(both) - set(dyn)) or [("no own stream", seed)]
        bp(col, seed=seed, max_iter=2, schedule="random")
        streams[f"bp s={seed}"] = rec.take()
        run_task({"experiment": "fdr", "steps": 200, "chains": 2}, seed, ())
        streams[f"continuous s={seed}"] = rec.take()
        # other parameters than the instance above: the same ones would (rightly) share it
        calibrate(Problem(n=180, q=3, c=4.0), [SGD(0.5)], instances=2, replicas=1, sweeps=8,
                  seed=seed, T_grid=[1.0], mode="equilibrium")
        streams[f"calibrate s={seed}"] = rec.take()
        recovery_scan(instance_maker(3, 150, "er", False, seed), [4.5], [Metropolis(0.5)],
                      instances=2, replicas=R, sweeps=4, seed=seed)
        streams[f"recover s={seed}"] = rec.take()
        monkeypatch.undo()
    owner: dict[tuple, str] = {}
    shared = []
    for name, states in streams.items():
        assert states, name
        for st in states:
            if st in owner or len(st) != 4:
                shared.append(f"{name} shares a stream with {owner.get(st, 'dynamics')}")
            owner[st] = name
    assert not shared, "; ".join(shared)
    assert all(len(v) == R for k, v in streams.items() if k.startswith("init"))


def test_old_collision_explicitly():
    """The old aliasing, stated directly: generator stream of instance 0 vs replica-0 dynamics
    stream and replica-0 initial-configuration stream of a run (key ``()``), same seed."""
    from mcsgd.seeds import (
        BP_MESSAGES,
        dynamics_states,
        init_states,
        instance_rng,
        namespaced_generator,
    )

    for seed in SEEDS:
        inst = problems.planted_coloring(150, 3, 4.0, seed=seed)
        gen = instance_rng(inst.params, seed, 0).bit_generator.state["state"]["state"]
        old = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(0,))).state["state"]["state"]
        dyn0 = tuple(int(x) for x in dynamics_states(seed, (), 1)[0])
        ini0 = tuple(int(x) for x in init_states(seed, (), 1)[0])
        bpm = namespaced_generator(BP_MESSAGES, seed).bit_generator.state["state"]["state"]
        old_dyn0 = tuple(int(x) for x in
                         np.random.SeedSequence(seed, spawn_key=(0,)).generate_state(4, np.uint64))
        assert gen != old and bpm != old and bpm != gen
        assert dyn0 != old_dyn0 and ini0 != old_dyn0 and dyn0 != ini0


def test_spawn_key_words_and_seeds_are_range_checked():
    """SeedSequence splits a word >= 2**32 (``(2**32,)`` aliases ``(0, 1)``) and a seed >= 2**128
    aliases a spawn key: both are refused instead of silently sharing a stream."""
    from mcsgd.driver import Runner
    from mcsgd.errors import ParameterError
    from mcsgd.seeds import SeedError, dynamics_states

    a = np.random.SeedSequence(5, spawn_key=(2**32,)).generate_state(2)
    b = np.random.SeedSequence(5, spawn_key=(0, 1)).generate_state(2)
    assert np.array_equal(a, b)  # the numpy behaviour the checks guard against
    with pytest.raises(SeedError, match=r"2\*\*32"):
        dynamics_states(5, (2**32,), 1)
    with pytest.raises(SeedError, match=r"2\*\*64"):
        dynamics_states(2**128, (), 1)
    inst = problems.planted_coloring(30, 3, 2.0, seed=0)
    with pytest.raises(ParameterError, match="key"):
        Runner(inst, _sgd(), seed=1, key=(2**32,))
    with pytest.raises(ParameterError, match="instance"):
        problems.planted_coloring(30, 3, 2.0, seed=0, instance=-1)
    with pytest.raises(ParameterError, match="seed"):
        problems.ising(30, 3, seed=2**70)


def _sgd():
    from mcsgd.dynamics import SGD

    return SGD(0.5)


def edge_hash(inst) -> int:
    """Half-edge multiset hash of the instance's validation (problems.instance._check_csr):
    sum over half-edges (i, j, J) of mix((i*N + j)*4 + J + 2), modulo 2**64."""
    n = np.uint64(inst.n)
    i = np.repeat(np.arange(inst.n, dtype=np.uint64), np.diff(inst.indptr))
    j = inst.indices.astype(np.uint64)
    w = (inst.couplings.astype(np.int64) + 2).astype(np.uint64) if inst.couplings is not None \
        else np.zeros_like(j)
    return int(_mix.py_func((i * n + j) * np.uint64(4) + w).sum(dtype=np.uint64))


def _capture_runs(monkeypatch, module):
    """Replace ``module.run`` / ``run_many`` / ``recovery_runs`` by a recorder of the instances
    they are given."""
    seen: list = []
    for name in ("run", "run_many", "recovery_runs"):
        real = getattr(module, name, None)
        if real is None:
            continue

        def wrapper(inst, *a, _real=real, **kw):
            seen.append(inst)
            return _real(inst, *a, **kw)

        monkeypatch.setattr(module, name, wrapper)
    return seen


SCAN_TOML = """
name = "seeds"
seed = {seed}
instances = 2
[instance]
{instance}
[run]
sweeps = 4
replicas = 1
grid_points = 4
[[dynamics]]
dynamics = "metropolis"
T = 1.0
"""


def _scan_instances(tmp_path, seed, instance_toml):
    from mcsgd.experiments.scan.spec import load_spec
    from mcsgd.experiments.scan.task import build_instance

    p = tmp_path / "scan.toml"
    p.write_text(SCAN_TOML.format(seed=seed, instance=instance_toml))
    spec = load_spec(str(p), out=str(tmp_path / "out"))
    return {t.params["instance"]["index"]: build_instance(t.params["instance"], spec.seed)
            for t in spec.tasks}


def _generate(tmp_path, args, k):
    """Instance k from the ``mcsgd generate`` command line (in process; k = 0 is the default)."""
    from mcsgd.cli import main

    out = tmp_path / f"gen{k}.h5"
    extra = ["--instance", str(k)] if k else []
    assert main(["generate", *args, *extra, "-o", str(out)]) == 0
    return problems.load(out)


def test_instance_k_is_one_graph_across_commands(tmp_path, monkeypatch):
    """Guards the old four derivations of "instance k": calibrate (SeedSequence(seed, (k,))),
    recover (SeedSequence(seed, (7, round(1000c), k))), scan (hash of the instance point) and
    generate (the seed itself). Instance k of (planted colouring n=300, q=3, c=4, seed=5) must
    have the same half-edge multiset hash from `mcsgd generate --seed 5 --instance k`, the
    instances calibrate and recover run on, and a scan task's instance; k = 0 and 1 differ."""
    import mcsgd.experiments.calibrate as cal_mod
    import mcsgd.experiments.recover as rec_mod
    from mcsgd.cli import main
    from mcsgd.dynamics import SGD

    seed, n, q, c = 5, 300, 3, 4.0
    args = ["coloring", "--n", str(n), "--q", str(q), "--c", str(c), "--seed", str(seed)]
    gen0 = edge_hash(_generate(tmp_path, args, 0))

    seen = _capture_runs(monkeypatch, cal_mod)
    cal_mod.calibrate(cal_mod.Problem(n=n, q=q, c=c), [SGD(0.5)], instances=2, replicas=1,
                      sweeps=8, seed=seed, T_grid=[1.0], mode="equilibrium")
    monkeypatch.undo()
    assert len({id(i) for i in seen}) == 2
    cal = [edge_hash(i) for i in seen[:2]]  # first use: instance 0, then 1
    assert cal[0] == gen0, "calibrate's instance 0 is not generate's"
    gen = [gen0, edge_hash(_generate(tmp_path, args, 1))]
    assert gen[0] != gen[1]
    assert cal == gen

    seen = _capture_runs(monkeypatch, rec_mod)
    assert main(["recover", "--q", str(q), "--n", str(n), "--c", str(c), "--T", "0.5",
                 "--instances", "2", "--replicas", "1", "--sweeps", "4", "--seed", str(seed),
                 "--quiet"]) == 0
    monkeypatch.undo()
    assert [edge_hash(i) for i in seen] == gen

    scan = _scan_instances(tmp_path, seed, f'problem = "coloring"\nn = {n}\nq = {q}\nc = {c}')
    assert [edge_hash(scan[k]) for k in (0, 1)] == gen


def test_ising_instance_k_is_one_graph_across_commands(tmp_path, monkeypatch):
    """The same for a planted Ising instance (generate, calibrate, scan; recover is colouring
    only): couplings enter the hash."""
    import mcsgd.experiments.calibrate as cal_mod
    from mcsgd.dynamics import SGD

    seed, n, d = 3, 200, 3
    args = ["ising", "--n", str(n), "--d", str(d), "--noise", "0.1", "--seed", str(seed)]
    gen0 = edge_hash(_generate(tmp_path, args, 0))
    seen = _capture_runs(monkeypatch, cal_mod)
    cal_mod.calibrate(cal_mod.Problem(problem="ising", n=n, c=d, graph="regular", noise=0.1),
                      [SGD(0.5)], instances=2, replicas=1, sweeps=8, seed=seed, T_grid=[1.0],
                      mode="equilibrium")
    monkeypatch.undo()
    cal = [edge_hash(i) for i in seen[:2]]
    assert cal[0] == gen0, "calibrate's instance 0 is not generate's"
    gen = [gen0, edge_hash(_generate(tmp_path, args, 1))]
    assert gen[0] != gen[1] and cal == gen
    scan = _scan_instances(tmp_path, seed,
                           f'problem = "ising"\nn = {n}\nd = {d}\nnoise = 0.1')
    assert [edge_hash(scan[k]) for k in (0, 1)] == gen


def test_instance_streams_depend_on_every_parameter():
    """Different parameters, seeds or indices give independent instance streams (the old recover
    key carried c for this reason): every field of the canonical parameters enters the key."""
    from mcsgd.seeds import instance_key

    base = problems.planted_coloring(150, 3, 4.0, seed=1).params
    keys = {instance_key(base, 0), instance_key(base, 1)}
    for field, value in (("n", 153), ("q", 5), ("c", 4.5), ("planted", False),
                         ("graph", "er-simple"), ("shuffle", True)):
        keys.add(instance_key({**base, field: value}, 0))
    assert len(keys) == 8
    # seed and instance do not enter the parameter hash (they enter SeedSequence directly)
    assert instance_key({**base, "seed": 99, "instance": 7}, 0) == instance_key(base, 0)
    # the same parameters normalise the same way: c = 4 and c = 4.0 are one instance
    a = problems.planted_coloring(150, 3, 4, seed=1)
    b = problems.planted_coloring(150, 3, 4.0, seed=1)
    assert edge_hash(a) == edge_hash(b)


def test_recovery_row_does_not_depend_on_its_neighbours():
    """Guards issue 9 §2 ("one scheme") for recover: its run streams were keyed by list
    positions (RECOVERY, c index, setting index, k), so ``--c 22`` did not reproduce the c = 22
    row of ``--c 20,22`` and adding a B value changed the others. Now the key hashes (c, the
    setting): the same row comes out bit for bit whatever runs beside it."""
    from mcsgd import problems
    from mcsgd.dynamics import SGD, Metropolis
    from mcsgd.experiments.recover import recovery_scan

    def make(c, k):
        return problems.planted_coloring(600, 5, float(c), seed=3, instance=k)

    kw = dict(instances=2, replicas=2, sweeps=60, seed=5, check_every=10)
    alone = recovery_scan(make, [22.0], [SGD(0.85)], **kw)
    both = recovery_scan(make, [20.0, 22.0], [Metropolis(0.7), SGD(0.85)], **kw)
    row = next(r for r in both if r["c"] == 22.0 and "B" in r)
    assert np.array_equal(alone[0]["final_overlap"], row["final_overlap"])
    assert np.array_equal(alone[0]["t_rec"], row["t_rec"], equal_nan=True)
