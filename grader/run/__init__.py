"""Running a class: the batch, worker processes, shards and merge, the output folder."""
