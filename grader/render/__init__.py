"""Pure renderers: results in, text out. Nothing here reads or writes files."""
