"""Storage: atomic HDF5 writing, provenance, output-path checks and every file layout."""
