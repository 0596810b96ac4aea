//! Shared helpers for the hub benches.
