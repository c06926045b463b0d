"""The bottom layer: the vocabulary every other package shares. It imports nothing else of advisor."""
