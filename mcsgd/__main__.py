"""``python -m mcsgd``: the same as the ``mcsgd`` command."""

from mcsgd.cli import main

if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in the tests
    main()
