"""The rubric: its models and how a file becomes one."""
