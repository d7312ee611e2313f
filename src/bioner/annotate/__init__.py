"""Corpus-scale annotation (``bioner annotate-corpus``): many input files in, a folder of shards out.

Every input file is cut into shards of a fixed number of documents, in reading order; each
shard is predicted and written atomically under a name that depends only on the file and the
shard's place in it. A shard on disk is therefore complete, and a rerun of the same command
skips it, so a killed job resumes with every document in the output exactly once. The local
engine (:mod:`bioner.annotate.corpus`) runs in one process; the Ray engine
(:mod:`bioner.annotate.on_ray`) reads files with Ray Data and predicts in a pool of model actors.
"""
