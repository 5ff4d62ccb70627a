"""Opening plain or gzip text files, and the fast number parser used by the readers."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np

from .errors import DataFormatError

GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | Path) -> bytes:
    """A file's whole contents (of a gzip file: decompressed)."""
    p = Path(path)
    if not p.is_file():
        raise DataFormatError(str(p), "-", "no such file")
    with p.open("rb") as fh:
        magic = fh.read(2)
    try:
        if magic == GZIP_MAGIC:
            with gzip.open(p, "rb") as fh:
                return fh.read()
        return p.read_bytes()
    except (OSError, EOFError) as err:  # truncated gzip stream, unreadable file
        raise DataFormatError(str(p), "-", f"cannot read file: {err}") from None


def read_head(path: str | Path, size: int) -> bytes:
    """The first ``size`` bytes of a file's contents; of a gzip file only as much of the stream is
    decompressed as they need (format detection must not decompress a whole sample)."""
    p = Path(path)
    if not p.is_file():
        raise DataFormatError(str(p), "-", "no such file")
    try:
        with p.open("rb") as fh:
            if fh.read(2) != GZIP_MAGIC:
                fh.seek(0)
                return fh.read(size)
            fh.seek(0)
            with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
                return gz.read(size)
    except (OSError, EOFError) as err:  # truncated gzip stream, unreadable file
        raise DataFormatError(str(p), "-", f"cannot read file: {err}") from None


def parse_numbers(text: bytes) -> np.ndarray | None:
    """Parse comma/whitespace separated numbers; None if anything is not a number."""
    body = text.strip(b", \n\r\t")
    if not body:
        return np.zeros(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return np.fromstring(body.decode("ascii"), dtype=np.float64, sep=",")
        except (DeprecationWarning, ValueError, UnicodeDecodeError):
            return None
