"""Privacy: a person's data on request, erasure that sticks, and retention."""
