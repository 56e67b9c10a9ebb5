//! The one walker: encrypt, decrypt and MAC.
