"""Comparing two event samples: observables, event shapes, distances, a classifier test, plots."""
