"""The reference solver: the answer key computed from a rubric's parameters alone."""
