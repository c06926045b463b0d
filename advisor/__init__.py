"""advisor: a hardware-aware compatibility advisor for loading Hugging Face models."""

__version__ = "0.1.0"
