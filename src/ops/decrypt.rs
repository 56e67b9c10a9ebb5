//! `decrypt`: encrypted file in, plaintext (or one extracted value) out
//! (cli.md §4.3, format.md §9, §11.1). No creation rule is consulted.

use super::{decrypt_tree, emit_extracted, open_encrypted, Outcome};
use crate::context::Context;
use crate::error::Error;
use crate::io::{read_input, Input};
use crate::keys::KeyKind;
use crate::stores::{store_for, Format, StoreOptions};
use crate::tree::path::{self, Component};

/// Everything `decrypt` needs.
pub struct DecryptRequest {
    pub input: Input,
    pub input_format: Format,
    pub output_format: Format,
    pub output_options: StoreOptions,
    pub extract: Option<Vec<Component>>,
    pub ignore_mac: bool,
    pub decryption_order: Vec<KeyKind>,
}

/// Runs `decrypt`.
pub fn run(req: &DecryptRequest, ctx: &Context) -> Result<Outcome, Error> {
    let bytes = read_input(&req.input)?;
    let mut opened = open_encrypted(&bytes, req.input_format, StoreOptions::default())?;
    drop(bytes);
    // Files from sops < 3.3.0 may need the KMS context repair (cli.md §10.3).
    let path = if let Input::File(p) = &req.input { Some(p.as_path()) } else { None };
    crate::keys::aws_kms::context_bug::repair_if_needed(&mut opened, path, req.input_format, req.ignore_mac, ctx)?;
    let (_key, warnings) = decrypt_tree(&mut opened, &req.decryption_order, req.ignore_mac, ctx, None)?;
    let out = match &req.extract {
        Some(p) if !p.is_empty() => {
            let first = opened.docs.first().map_or(&[][..], Vec::as_slice);
            let value = path::lookup(first, p).map_err(|e| Error::Truncate(format!("error truncating tree: {e}")))?.clone();
            emit_extracted(&value, &mut opened.docs, req.output_format, req.output_options)?
        }
        _ => store_for(req.output_format, req.output_options).emit(&opened.docs).map_err(|e| Error::DumpFile(e.0))?,
    };
    Ok(Outcome { bytes: out, warnings })
}
