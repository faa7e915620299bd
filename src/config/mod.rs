//! config: see the helper brief; filled in by its owner.
