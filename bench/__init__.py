"""`make bench`: the benchmarks, one module each, listed in `registry.py` and run by `python -m bench`."""
