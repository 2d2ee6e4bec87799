"""Router drivers of the L3 agent (see base.RouterDriver)."""
