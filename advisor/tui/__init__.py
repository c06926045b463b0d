"""The Textual app (`advisor tui`): a thin face over the Python API. Imported only when the app opens."""
