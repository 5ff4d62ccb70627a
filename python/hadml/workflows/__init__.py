"""Workflows: jobs that combine training (:mod:`hadml.ml`), the deployed decayer and the comparison
(:mod:`hadml.compare`): the evaluation of a trained model and ``hadml demo``. The Herwig runs
(:mod:`hadml.herwig`) sit in this layer too. Only the command line imports them."""
