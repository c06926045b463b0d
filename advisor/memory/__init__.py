"""The memory ledger and placement plan: will it fit, where does each GiB go."""
