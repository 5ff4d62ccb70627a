"""Data layer: readers for every input format, one awkward representation, ROOT I/O."""

from .errors import DataFormatError, SkipReport
from .hadml_format import read_cluster_file

__all__ = ["DataFormatError", "SkipReport", "read_cluster_file"]
