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


def event_pairs(event: torch.Tensor, n_events: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every unordered pair (i < j) of items of the same event, items held flat with each event's
    items contiguous (``event`` non-decreasing): flat indices i, j and the pair's event index."""
    counts = torch.bincount(event, minlength=n_events)
    starts = torch.cumsum(counts, 0) - counts
    pos = torch.arange(event.numel(), device=event.device)
    partners = counts[event] - (pos - starts[event]) - 1  # items after this one in its event
    i = torch.repeat_interleave(pos, partners)
    offs = torch.cumsum(partners, 0) - partners
    j = i + 1 + torch.arange(i.numel(), device=event.device) - torch.repeat_interleave(offs, partners)
    return i, j, event[i]
