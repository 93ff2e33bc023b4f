"""A class's results as pandas tables, and the statistics computed on them."""
