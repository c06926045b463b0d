"""The memory ledger and placement plan: will it fit, where does each GiB go."""

from advisor.memory.plan import MemoryPlan, plan_memory

__all__ = ["MemoryPlan", "plan_memory"]
