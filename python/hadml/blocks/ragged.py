"""Variable-length events held flat: the items of all events in one array, with each event's
first item (``starts``) and number of items (``counts``)."""

from __future__ import annotations

import torch


def gather_events(
    starts: torch.Tensor, counts: torch.Tensor, sel: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat indices of the items of the selected events and their new event index (0..len(sel))."""
    c = counts[sel]
    ev = torch.repeat_interleave(torch.arange(sel.numel(), device=sel.device), c)
    offs = torch.cumsum(c, 0) - c
    within = torch.arange(int(c.sum()), device=sel.device) - torch.repeat_interleave(offs, c)
    return torch.repeat_interleave(starts[sel], c) + within, ev
