"""advisor verify: try candidate flags on a small model of the same architecture, on this machine.

Importing this package imports neither torch nor transformers: the worker subprocess does.
"""
