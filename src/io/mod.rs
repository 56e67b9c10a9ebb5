//! Reading the input and writing the result without ever losing data.
//!
//! Output is computed fully in memory first; only then is anything created or
//! truncated. In-place writes go to a temporary sibling, are fsynced and
//! renamed over the original, keeping its permissions, so a failure at any
//! point leaves the original untouched (a deliberate improvement on sops,
//! which truncates in place, cli.md §3.4).

pub mod editor;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::config::io_text;
use crate::error::Error;

/// Where the input comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

/// Where the result goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
    InPlace(PathBuf),
}

/// Reads the whole input.
pub fn read_input(input: &Input) -> Result<Vec<u8>, Error> {
    match input {
        Input::File(path) => std::fs::read(path).map_err(|e| Error::ReadInput {
            message: format!("Error reading file: open {}: {}", path.display(), io_text(&e)),
        }),
        Input::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| Error::ReadInput { message: format!("Error reading from stdin: {}", io_text(&e)) })?;
            Ok(buf)
        }
    }
}

/// Writes `bytes` to a file atomically: temp file in the same directory,
/// fsync, rename. An existing file's permissions are kept.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let fail = |what: &str, e: &std::io::Error| {
        Error::WriteOutput(format!("Could not write output file: {what} {}: {}", path.display(), io_text(e)))
    };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let existing = std::fs::metadata(path).ok();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".rsops-tmp")
        .tempfile_in(dir)
        .map_err(|e| fail("create temporary file for", &e))?;
    tmp.write_all(bytes).map_err(|e| fail("write", &e))?;
    let perms = match existing {
        Some(meta) => Some(meta.permissions()),
        // A new file gets the mode a plain create gives (0666 minus the
        // umask): create it empty, read its mode, then rename over it.
        None => std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|f| f.metadata())
            .map(|m| m.permissions())
            .ok(),
    };
    if let Some(perms) = perms {
        tmp.as_file().set_permissions(perms).map_err(|e| fail("set permissions of", &e))?;
    }
    tmp.as_file().sync_all().map_err(|e| fail("sync", &e))?;
    tmp.persist(path).map_err(|e| fail("rename onto", &e.error))?;
    Ok(())
}

/// Writes the result where the request says. A closed stdout (broken pipe)
/// ends quietly.
pub fn write_output(output: &Output, bytes: &[u8]) -> Result<(), Error> {
    match output {
        Output::Stdout => {
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::WriteOutput(format!("Could not write output file: {}", io_text(&e))))
                }
                _ => Ok(()),
            }
        }
        Output::File(path) | Output::InPlace(path) => write_atomic(path, bytes),
    }
}
