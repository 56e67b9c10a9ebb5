//! Key paths: the `["a"][0]` syntax of --extract/set/unset.
