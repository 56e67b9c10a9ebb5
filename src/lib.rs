//! rsops: a fast, byte-compatible replacement for SOPS.
//!
//! The library owns everything but argument parsing: the document tree, the
//! stores, value cryptography and the MAC, metadata, key sources, the
//! `.sops.yaml` configuration and one function per command in `ops`.
#![forbid(unsafe_code)]

pub mod config;
pub mod context;
pub mod crypt;
pub mod error;
pub mod gotext;
pub mod io;
pub mod keys;
pub mod keyservice;
pub mod metadata;
pub mod ops;
pub mod publish;
pub mod stores;
pub mod tree;
