"""CI pre-flight: `advisor check` over a policy matrix, `advisor lint` of from_pretrained calls."""
