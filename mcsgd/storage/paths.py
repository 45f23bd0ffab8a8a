"""Checks every command runs on the files it is about to write, before any computation.

One function, :func:`check_output`, is called by every command that writes a file (``-o``,
``--plot``, ``--out``) right after its arguments are parsed, so that a bad output path costs
nothing and can never destroy an input. It refuses (:class:`~mcsgd.errors.ParameterError`, exit
code 2 in the CLI):

* an output that is one of the command's inputs (same file by ``os.path.samefile`` or by
  resolved path, so symlinks and hard links count);
* an output inside a scan's own bookkeeping (``scan.json``, ``scan.toml``, ``tasks/``,
  ``slurm/`` of a directory holding a scan manifest);
* a directory, a missing or read-only parent directory, or a file name whose extension does not
  match what is written (figures: ``.png``/``.pdf``/``.svg``; HDF5: ``.h5``/``.hdf5``;
  JSON: ``.json``);
* an existing file that is not an mcsgd file of the kind about to be written, unless ``force``
  (``--force``): re-running a command over its own previous result is allowed, replacing an
  unrelated file is not.

Memory estimates for the size checks live in :mod:`mcsgd.resources`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mcsgd.errors import ParameterError

PLOT_EXTENSIONS = (".png", ".pdf", ".svg")
EXTENSIONS = {"h5": (".h5", ".hdf5"), "plot": PLOT_EXTENSIONS, "json": (".json",)}
# an HDF5 output may have any name (``-o run`` has always worked) except one that says it is
# another kind of file: those are refused as mistakes
NOT_HDF5 = (*PLOT_EXTENSIONS, ".json", ".toml", ".txt", ".csv", ".md", ".py", ".sh", ".npy",
            ".npz", ".edges", ".edgelist")
SCAN_BOOKKEEPING = ("scan.json", "scan.toml", "tasks", "slurm")


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def scan_bookkeeping_owner(path: str | os.PathLike) -> Path | None:
    """The scan directory whose bookkeeping ``path`` lies in (or is), else None."""
    p = Path(os.path.realpath(path))
    for parent in p.parents:
        try:
            rel = p.relative_to(parent)
        except ValueError:  # pragma: no cover - parents are ancestors
            continue
        if rel.parts and rel.parts[0] in SCAN_BOOKKEEPING and (parent / "scan.json").is_file():
            return parent
    return None


def _mcsgd_kind(path: Path) -> str | None:
    """The ``mcsgd_kind`` of an HDF5 file, or None when it is not an mcsgd HDF5 file."""
    try:
        import h5py

        from mcsgd.storage.h5 import read_kind

        with h5py.File(path, "r") as f:
            return read_kind(f)
    except Exception:  # noqa: BLE001 - any unreadable file is "not an mcsgd file"
        return None


def check_output(
    path: str | os.PathLike | None,
    *,
    option: str = "-o",
    kind: str = "h5",
    mcsgd_kind: str | tuple[str, ...] | None = None,
    inputs: Iterable[str | os.PathLike | None] = (),
    force: bool = False,
) -> None:
    """Refuse an output path before any work is done (module docstring lists the rules).

    Parameters
    ----------
    path : path-like or None
        The output file (None: nothing is written, nothing checked).
    option : str
        The option's name, used in messages (``-o``, ``--plot``).
    kind : {"h5", "plot", "json"}
        What is written: fixes the allowed extensions.
    mcsgd_kind : str or tuple, optional
        For HDF5 outputs, the ``mcsgd_kind`` the command writes: an existing file of that kind
        (a previous result of the same command) may be replaced without ``force``.
    inputs : iterable of path-like
        Files (or directories) the command reads; the output may not be one of them.
    force : bool
        Allow replacing an existing unrelated file.
    """
    if path is None:
        return
    p = Path(path)
    if str(path) == "":
        raise ParameterError(f"{option} is an empty file name")
    for src in inputs:
        if src is not None and _same(p, Path(src)):
            raise ParameterError(f"{option} = {str(path)!r} is an input of this command "
                                 f"({str(src)!r}); it would be replaced: choose another file")
    owner = scan_bookkeeping_owner(p)
    if owner is not None:
        raise ParameterError(f"{option} = {str(path)!r} lies in the bookkeeping of the scan in "
                             f"{str(owner)!r} (scan.json, scan.toml, tasks/, slurm/): choose "
                             "another file")
    if p.is_dir():
        raise ParameterError(f"{option} = {str(path)!r} is a directory")
    exts = EXTENSIONS[kind]
    suffix = p.suffix.lower()
    if (suffix in NOT_HDF5) if kind == "h5" else (suffix not in exts):
        what = {"h5": "an HDF5 file", "plot": "a figure", "json": "a JSON file"}[kind]
        raise ParameterError(f"{option} = {str(path)!r} must name {what} ending in "
                             f"{', '.join(exts)}" + (f" (or any name not ending in {suffix})"
                                                     if kind == "h5" else ""))
    _check_writable_ancestor(p.resolve().parent, path, option)
    if p.exists() and not force:
        if not p.is_file():
            raise ParameterError(f"{option} = {str(path)!r} exists and is not a regular file")
        if kind == "h5" and mcsgd_kind is not None:
            kinds = (mcsgd_kind,) if isinstance(mcsgd_kind, str) else tuple(mcsgd_kind)
            found = _mcsgd_kind(p)
            if found not in kinds:
                what = "not an mcsgd file" if found is None else f"an mcsgd {found!r} file"
                raise ParameterError(f"{option} = {str(path)!r} exists and is {what}, not a "
                                     f"previous {' or '.join(kinds)} result; pass --force to "
                                     "replace it")
        elif kind != "plot":
            raise ParameterError(f"{option} = {str(path)!r} exists; pass --force to replace it")


def check_output_dir(path: str | os.PathLike, *, option: str = "--out") -> None:
    """Refuse an output directory that is a file, lies in a scan's bookkeeping, or cannot be
    created / written."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ParameterError(f"{option} = {str(path)!r} exists and is not a directory")
    owner = scan_bookkeeping_owner(p)
    if owner is not None:
        raise ParameterError(f"{option} = {str(path)!r} lies in the bookkeeping of the scan in "
                             f"{str(owner)!r}: choose another directory")
    _check_writable_ancestor(p.resolve(), path, option)


def _check_writable_ancestor(start: Path, path: str | os.PathLike, option: str) -> None:
    """The nearest existing ancestor of ``start`` (itself included) must be a writable
    directory: where ``path`` (or the directories leading to it) will be created."""
    anc = start
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise ParameterError(f"{option} = {str(path)!r}: {str(anc)!r} is not a directory")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise ParameterError(f"{option} = {str(path)!r}: directory {str(anc)!r} is not "
                             "writable")
