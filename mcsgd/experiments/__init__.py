"""Experiments: calibration of T(B), recovery scans, the paper reproductions and parameter scans."""
