"""The process layer: the only place that imports SpiffWorkflow (parsing, running, deploying diagrams)."""
