//! rsops: a fast, byte-compatible replacement for SOPS.
//!
//! The library owns everything but argument parsing: the document tree, the
//! stores, value cryptography and the MAC, metadata, key sources, the
//! `.sops.yaml` configuration and one function per command in `ops`.
#![forbid(unsafe_code)]

pub mod stores;
pub mod tree;
