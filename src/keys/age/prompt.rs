//! Asking a person for a passphrase (encrypted SSH keys, passphrase-protected
//! identity files) or for what an age plugin wants to know, on the terminal
//! only: sops's `readSecret` reads from the terminal that is stdin, else
//! from `/dev/tty`, and fails when there is neither (cli.md §10.1). rsops
//! never blocks a script that has no terminal: it gets sops's error.
//!
//! The prompt is a function held by [`AgeIdentities`](super::AgeIdentities),
//! so tests supply answers without a terminal.

use age_core::secrecy::{ExposeSecret as _, SecretString};

use crate::gotext::errno_text;

/// Asks for a secret; the argument is the prompt text. `Err` holds the
/// reason in sops's words, e.g. `standard input is not a terminal, and
/// /dev/tty is not available: open /dev/tty: no such device or address`.
pub type Prompt = dyn Fn(&str) -> Result<SecretString, String> + Send + Sync;

/// The terminal prompt: the text on the terminal, the answer read without
/// echo. Nothing is read or written when no terminal can be opened.
pub fn terminal(prompt: &str) -> Result<SecretString, String> {
    // Opening the terminal first gives sops's error without side effects.
    if let Err(e) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty") {
        return Err(format!(
            "standard input is not a terminal, and /dev/tty is not available: open /dev/tty: {}",
            errno_text(&e)
        ));
    }
    rpassword::prompt_password(format!("{prompt} "))
        .map(SecretString::from)
        .map_err(|e| errno_text(&e))
}

/// A prompt that never asks: for callers that must not interact.
pub fn never(_prompt: &str) -> Result<SecretString, String> {
    Err("standard input is not a terminal, and /dev/tty is not available: open /dev/tty: no such device or address".to_owned())
}

/// What age plugins may ask of the user (age's `Callbacks`), answered
/// through the same prompt; messages go to stderr as Go age's terminal UI
/// writes them.
#[derive(Clone)]
pub(super) struct PluginUi {
    pub(super) prompt: std::sync::Arc<Box<Prompt>>,
    pub(super) plugin: String,
}

impl age::Callbacks for PluginUi {
    fn display_message(&self, message: &str) {
        eprintln!("age-plugin-{}: {message}", self.plugin);
    }

    fn confirm(&self, message: &str, yes_string: &str, no_string: Option<&str>) -> Option<bool> {
        let choices = match no_string {
            Some(no) => format!("{message} [1: {yes_string}, 2: {no}]"),
            None => format!("{message} [1: {yes_string}]"),
        };
        let answer = (self.prompt)(&choices).ok()?;
        match answer.expose_secret().trim() {
            "1" => Some(true),
            "2" if no_string.is_some() => Some(false),
            _ => None,
        }
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        (self.prompt)(description).ok().map(|s| s.expose_secret().to_owned())
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        (self.prompt)(description).ok()
    }
}
