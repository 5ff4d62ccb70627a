"""Building blocks shared by training (:mod:`hadml.ml`) and comparison (:mod:`hadml.compare`):
networks, batching of variable-length events, distances. They import nothing of either."""
