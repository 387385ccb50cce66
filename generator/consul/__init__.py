"""Consul: the plan of a sync (pure), the py-consul edge, and the sync rounds of
`modelship sync-consul`."""
