"""The rules engine: rule files as data, three-valued requirements, and the flag resolver."""
