"""Experiments: what the CLI runs, each callable from Python.

``calibrate`` (T(B) of SGD-like dynamics), ``recover`` (recovery of a planted colouring),
``reproduce`` (the paper's tb-curve and recovery reproductions from their spec files),
``continuous`` (the continuous-SGD experiment runner), ``demo``, and ``scan/`` (parameter scans).
Every spec file (scan, tb-curve, recovery) is read by the one loader, ``specfile``.
"""
