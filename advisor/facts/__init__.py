"""Facts: what advisor knows about the hardware, the software, the model and the request."""
