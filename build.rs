//! Links the `rsops` executable as a non-PIE binary on Linux.
//!
//! Why: a PIE image is relocated at every start, and those relocations
//! write to every page of `.data.rel.ro` (vtables, string tables of the
//! SDKs), one copy-on-write page fault each: ~190 faults and ~0.6 ms of
//! CPU on each run of a 25 MB binary, a third of what decrypting a small
//! file costs. Tools like KSOPS and pre-commit hooks start rsops once per
//! file, so this is the start-up cost users pay most. Go builds sops the
//! same way (non-PIE is Go's default on linux/amd64), so rsops gives up
//! nothing sops users have: shared libraries, stack and heap are still
//! randomized. Packagers who want a PIE anyway set `RSOPS_PIE=1`.
//!
//! Only the binary is affected (`rustc-link-arg-bins`); the library and
//! its dependencies are compiled as usual.

fn main() {
    println!("cargo:rerun-if-env-changed=RSOPS_PIE");
    println!("cargo:rerun-if-changed=build.rs");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    let pie = std::env::var("RSOPS_PIE").is_ok_and(|v| v == "1");
    if linux && !pie {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
