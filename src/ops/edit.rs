//! `edit` and the legacy `sops FILE` (cli.md §4.5, §6): decrypt into a
//! private temporary file, run the editor until the text is acceptable, and
//! encrypt it again under the same data key.
//!
//! Unchanged values keep their IVs (format.md §2.6): the IVs seen while
//! decrypting are remembered and reused, so a git diff shows only the values
//! the user changed, plus the MAC and `lastmodified`. A file that does not
//! exist yet starts from the input store's example document (§6.4) under a
//! fresh data key wrapped for the keys the request names.
//!
//! The temporary file, the editor process, the prompt and the signals are
//! `io::editor`'s; this module decides what is shown and what is accepted.
//! Where rsops departs from sops 3.11 (each is marked `Departure`):
//! - after `-s/--show-master-keys` the data edits are applied (sops discards
//!   every edit made in that mode, cli.md §6.3 "Defect"); changes to the
//!   metadata section are not, and a warning says so;
//! - an empty document or a top-level `sops` key is refused and the editor
//!   re-opened, as in sops 3.12.2+ (3.11 wrote a broken file);
//! - text that cannot be encrypted (e.g. a non-string key) re-opens the
//!   editor with the error instead of exiting 23 and losing the edit;
//! - when nobody can answer the prompt (stdin at its end) and the editor
//!   writes the same refused text again, rsops stops with the refusal's
//!   error instead of looping forever as sops does.

use sha2::{Digest, Sha256};
use std::path::PathBuf;
use zeroize::Zeroizing;

use super::encrypt::{load_plaintext, wrap_data_key};
use super::{attach_metadata, decrypt_tree, empty_list_style, open_encrypted, Outcome};
use crate::context::Context;
use crate::crypt::rules::CryptRule;
use crate::crypt::{mac, DataKey};
use crate::error::Error;
use crate::io::editor::{self, Answer, EditorUi, TempEdit, PRESS_A_KEY};
use crate::io::{read_input, Input};
use crate::keys::{KeyKind, KeyRef};
use crate::metadata::{self, time, Metadata, WRITTEN_VERSION};
use crate::stores::{store_for, Format, StoreError, StoreOptions};
use crate::tree::{walk, Branch};

/// Everything `edit` needs.
pub struct EditRequest {
    /// The file to edit, absolute; written in place on success.
    pub path: PathBuf,
    pub input_format: Format,
    pub output_format: Format,
    pub output_options: StoreOptions,
    pub ignore_mac: bool,
    pub decryption_order: Vec<KeyKind>,
    pub show_master_keys: bool,
    /// `Some` when the file does not exist: how to create it.
    pub new_file: Option<NewFile>,
}

/// Keys and settings for a file `edit` creates (cli.md §3.11–3.13).
pub struct NewFile {
    pub key_groups: Vec<Vec<KeyRef>>,
    pub shamir_threshold: usize,
    /// `None` only for the binary store, which records no rule.
    pub rule: Option<CryptRule>,
    pub mac_only_encrypted: bool,
}

/// The example documents sops opens for a new file (cli.md §6.4), as its
/// stores' `EmitExample` write them. They are parsed with the input store
/// and shown through the output store, like sops.
fn example(format: Format) -> &'static [u8] {
    match format {
        Format::Yaml => {
            b"hello: Welcome to SOPS! Edit this file as you please!\n\
example_key: example_value\n\
# Example comment\n\
example_array:\n    - example_value1\n    - example_value2\n\
example_number: 1234.56789\n\
example_booleans:\n    - true\n    - false\n"
        }
        Format::Json => {
            b"{\n\t\"hello\": \"Welcome to SOPS! Edit this file as you please!\",\n\
\t\"example_key\": \"example_value\",\n\
\t\"example_array\": [\n\t\t\"example_value1\",\n\t\t\"example_value2\"\n\t],\n\
\t\"example_number\": 1234.56789,\n\
\t\"example_booleans\": [\n\t\ttrue,\n\t\tfalse\n\t]\n}\n"
        }
        Format::Dotenv => {
            b"# This is an example file.\n\
hello=Welcome to SOPS! Edit this file as you please!\n\
example_key=example_value\n\
example_multiline=foo\\nbar\\nbaz\n"
        }
        Format::Ini => {
            b"; This is an example file.\n\
[Welcome!]\n\
hello       = Welcome to SOPS! Edit this file as you please!\n\
example_key = example_value\n"
        }
        Format::Binary => b"Welcome to SOPS! Edit this file as you please!",
    }
}

/// Runs `edit` on the real terminal.
pub fn run(req: &EditRequest, ctx: &Context) -> Result<Outcome, Error> {
    run_with(req, ctx, &mut editor::Terminal::new(ctx.env.clone()))
}

/// Runs `edit` with the given editor and prompt.
pub fn run_with(req: &EditRequest, ctx: &Context, ui: &mut dyn EditorUi) -> Result<Outcome, Error> {
    let mut warnings = Vec::new();
    let mut ivs = walk::IvCache::default();
    let (docs, mut meta, key) = match &req.new_file {
        None => {
            let bytes = read_input(&Input::File(req.path.clone()))?;
            let mut opened = open_encrypted(&bytes, req.input_format, StoreOptions::default())?;
            drop(bytes);
            crate::keys::aws_kms::context_bug::repair_if_needed(&mut opened, Some(&req.path), req.input_format, req.ignore_mac, ctx)?;
            let (key, found) = decrypt_tree(&mut opened, &req.decryption_order, req.ignore_mac, ctx, Some(&mut ivs))?;
            warnings.extend(found);
            (opened.docs, opened.meta, key)
        }
        Some(new) => start_new_file(req.input_format, new, ctx)?,
    };

    let shown = {
        let mut shown_docs;
        let docs_to_show = if req.show_master_keys {
            shown_docs = docs.clone();
            attach_metadata(&mut shown_docs, &meta, req.output_format);
            &shown_docs
        } else {
            &docs
        };
        let out = store_for(req.output_format, req.output_options).emit(docs_to_show);
        Zeroizing::new(out.map_err(|e| Error::MarshalTree(e.0))?)
    };
    drop(docs);
    let original: [u8; 32] = Sha256::digest(&shown[..]).into();
    let name = req.path.file_name().unwrap_or(req.path.as_os_str());
    let session = TempEdit::create(&editor::temp_root(&ctx.env), name, &shown)?;
    drop(shown);

    let mut refused_unanswered: Option<[u8; 32]> = None;
    let (docs, mac_digest) = loop {
        ui.edit(session.path())?;
        let edited = session.read()?;
        let digest: [u8; 32] = Sha256::digest(&edited[..]).into();
        if digest == original {
            return Err(Error::FileNotChanged);
        }
        match accept(&edited, req, &meta, &key, &ivs, &mut warnings) {
            Ok(done) => break done,
            Err(refusal) => {
                // Departure: sops re-runs the editor forever here; the same
                // refused text again with nobody to read the prompt would
                // never end.
                if refused_unanswered == Some(digest) {
                    return Err(Error::EditAbandoned(Box::new(refusal.into_error())));
                }
                let answer = ui.refused(&refusal.message(), Some(&refusal.field()));
                refused_unanswered = (answer == Answer::NoInput).then_some(digest);
            }
        }
    };
    // The plaintext file goes as soon as it has been read.
    drop(session);

    if program_is_newer(WRITTEN_VERSION, &meta.version).map_err(|err| Error::VersionCompare {
        file: meta.version.clone(),
        program: WRITTEN_VERSION.to_owned(),
        err,
    })? {
        WRITTEN_VERSION.clone_into(&mut meta.version);
    }
    let mut docs = docs;
    meta.last_modified = time::format_rfc3339(&time::now_utc());
    meta.mac = mac::seal(&key, &mac_digest, &meta.last_modified);
    attach_metadata(&mut docs, &meta, req.output_format);
    let bytes = store_for(req.output_format, req.output_options).emit(&docs).map_err(|e| Error::MarshalTree(e.0))?;
    Ok(Outcome { bytes, warnings })
}

/// The example document, a fresh data key wrapped for the new file's keys,
/// and its metadata (cli.md §6.4). The key is wrapped before the editor
/// opens, so a key that cannot be used fails first (exit 128).
fn start_new_file(format: Format, new: &NewFile, ctx: &Context) -> Result<(Vec<Branch>, Metadata, DataKey), Error> {
    let docs = store_for(format, StoreOptions::default()).load_plain(example(format)).map_err(Error::ParsePlain)?;
    let key = DataKey::generate();
    let key_groups = wrap_data_key(&key, &new.key_groups, new.shamir_threshold, ctx).map_err(|e| match e {
        Error::GenerateDataKey(errs) => Error::EditDataKey(errs),
        other => other,
    })?;
    // With several groups the threshold defaults to their number (format.md §6.1).
    let shamir_threshold =
        if key_groups.len() > 1 && new.shamir_threshold == 0 { key_groups.len() } else { new.shamir_threshold };
    let meta = Metadata {
        key_groups,
        shamir_threshold,
        last_modified: time::format_rfc3339(&time::now_utc()),
        mac: String::new(),
        rule: new.rule.clone(),
        mac_only_encrypted: new.mac_only_encrypted,
        version: WRITTEN_VERSION.to_owned(),
    };
    Ok((docs, meta, key))
}

/// Why an edited text was sent back to the editor (cli.md §6.3).
enum Refusal {
    /// The input store could not parse it.
    Syntax(StoreError),
    /// `-s`: the metadata section does not load.
    Metadata(Error),
    /// It parses but cannot be encrypted.
    NotEncryptable(Error),
}

impl Refusal {
    fn message(&self) -> String {
        let what = match self {
            Refusal::Syntax(_) => "Could not load tree, probably due to invalid syntax.",
            Refusal::Metadata(_) => "SOPS metadata is invalid.",
            Refusal::NotEncryptable(_) => "Tree not valid for encryption.",
        };
        format!("{what} {PRESS_A_KEY}")
    }

    /// sops's `error` field.
    fn field(&self) -> String {
        match self {
            Refusal::Syntax(e) => e.to_string(),
            Refusal::Metadata(e) | Refusal::NotEncryptable(e) => e.to_string(),
        }
    }

    fn into_error(self) -> Error {
        match self {
            Refusal::Syntax(e) => Error::ParsePlain(e),
            Refusal::Metadata(e) | Refusal::NotEncryptable(e) => e,
        }
    }
}

/// Loads and encrypts the edited text: the encrypted documents and the MAC
/// digest, or why the editor must open again.
fn accept(
    edited: &[u8],
    req: &EditRequest,
    meta: &Metadata,
    key: &DataKey,
    ivs: &walk::IvCache,
    warnings: &mut Vec<String>,
) -> Result<(Vec<Branch>, String), Refusal> {
    let mut docs = if req.show_master_keys {
        store_for(req.input_format, StoreOptions::default()).load_plain(edited).map_err(Refusal::Syntax)?;
        let opened = open_encrypted(edited, req.input_format, StoreOptions::default()).map_err(Refusal::Metadata)?;
        // Departure (cli.md §6.3 "Defect"): sops drops every edit made with
        // -s. The data is applied here; the metadata is not, since keys
        // listed there without a wrapped data key would lock the file.
        let style = empty_list_style(req.output_format);
        if metadata::to_value(&opened.meta, style) != metadata::to_value(meta, style) {
            warnings.push(
                "Changes to the sops metadata made in the editor were not applied; use rotate, updatekeys or groups to change keys"
                    .to_owned(),
            );
        }
        opened.docs
    } else {
        // Departure: sops 3.11 accepts an empty document or a top-level
        // `sops` key and writes a broken file; 3.12.2+ refuses both.
        load_plaintext(edited, req.input_format, StoreOptions::default()).map_err(|e| match e {
            Error::ParsePlain(e) => Refusal::Syntax(e),
            other => Refusal::NotEncryptable(other),
        })?
    };
    // Departure: sops encrypts after the loop and exits 23 on failure, losing
    // the edit; here the editor opens again.
    let rule = meta.effective_rule();
    let digest = walk::encrypt(&mut docs, key, &rule, meta.mac_only_encrypted, Some(ivs))
        .map_err(|e| Refusal::NotEncryptable(Error::EncryptTree(e.message)))?;
    Ok((docs, digest))
}

/// Whether the program's version is newer than the file's, compared as sops
/// does (blang/semver after dropping a leading `v`; a `1.x` file is always
/// older), so `edit` can raise it (format.md §6.6).
fn program_is_newer(program: &str, file: &str) -> Result<bool, String> {
    if file.starts_with("1.") {
        return Ok(true);
    }
    let a = SemVer::parse(program.strip_prefix('v').unwrap_or(program))?;
    let b = SemVer::parse(file.strip_prefix('v').unwrap_or(file))?;
    Ok(a.cmp(&b) == std::cmp::Ordering::Greater)
}

/// `MAJOR.MINOR.PATCH[-pre][+build]` with semver's precedence rules.
#[derive(Debug, PartialEq, Eq)]
struct SemVer {
    core: [u64; 3],
    pre: Vec<String>,
}

impl SemVer {
    /// Parses like blang/semver's `Make`, with its error texts.
    fn parse(s: &str) -> Result<SemVer, String> {
        if s.is_empty() {
            return Err("Version string empty".to_owned());
        }
        let (rest, build) = match s.split_once('+') {
            Some((r, b)) => (r, Some(b)),
            None => (s, None),
        };
        if let Some(b) = build {
            for id in b.split('.') {
                if id.is_empty() {
                    return Err("Build meta data is empty".to_owned());
                }
                if !id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
                    return Err(format!("Invalid character(s) found in build meta data {id:?}"));
                }
            }
        }
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (rest, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() != 3 {
            return Err("No Major.Minor.Patch elements found".to_owned());
        }
        let mut nums = [0u64; 3];
        for (i, (part, name)) in parts.iter().zip(["major", "minor", "patch"]).enumerate() {
            if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(format!("Invalid character(s) found in {name} number {part:?}"));
            }
            if part.len() > 1 && part.starts_with('0') {
                let cap = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
                return Err(format!("{cap} number must not contain leading zeroes {part:?}"));
            }
            nums[i] = part.parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
        }
        let mut ids = Vec::new();
        if let Some(p) = pre {
            for id in p.split('.') {
                if id.is_empty() {
                    return Err("Prerelease is empty".to_owned());
                }
                let numeric = id.bytes().all(|c| c.is_ascii_digit());
                if numeric && id.len() > 1 && id.starts_with('0') {
                    return Err(format!("Numeric PreRelease version must not contain leading zeroes {id:?}"));
                }
                if !numeric && !id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
                    return Err(format!("Invalid character(s) found in prerelease {id:?}"));
                }
                ids.push(id.to_owned());
            }
        }
        Ok(SemVer { core: nums, pre: ids })
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        self.core.cmp(&other.core).then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            // A pre-release sorts before its release.
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (a, b) in self.pre.iter().zip(&other.pre) {
                    let ord = match (a.parse::<u64>(), b.parse::<u64>()) {
                        (Ok(x), Ok(y)) => x.cmp(&y),
                        (Ok(_), Err(_)) => Ordering::Less,
                        (Err(_), Ok(_)) => Ordering::Greater,
                        (Err(_), Err(_)) => a.cmp(b),
                    };
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                self.pre.len().cmp(&other.pre.len())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Env;
    use crate::crypt::value;
    use crate::tree::{Item, Value};
    use std::path::Path;

    /// One round of a scripted editor: the new text from the old.
    type Step = Box<dyn FnMut(&str) -> String>;

    /// A scripted editor: each round applies the next step to the file's text.
    struct Script {
        steps: Vec<Step>,
        round: usize,
        refusals: Vec<(String, String)>,
        answer: Answer,
        seen: Vec<String>,
    }

    impl Script {
        fn new(steps: Vec<Step>) -> Script {
            Script { steps, round: 0, refusals: Vec::new(), answer: Answer::Key, seen: Vec::new() }
        }
    }

    impl EditorUi for Script {
        fn edit(&mut self, file: &Path) -> Result<(), Error> {
            let text = std::fs::read_to_string(file).unwrap();
            self.seen.push(text.clone());
            let i = self.round.min(self.steps.len() - 1);
            self.round += 1;
            let new = (self.steps[i])(&text);
            std::fs::write(file, new).unwrap();
            Ok(())
        }

        fn refused(&mut self, message: &str, error: Option<&str>) -> Answer {
            self.refusals.push((message.to_owned(), error.unwrap_or_default().to_owned()));
            self.answer
        }
    }

    /// A fresh age identity: its secret for `SOPS_AGE_KEY` and its recipient.
    fn identity() -> (String, String) {
        use age::secrecy::ExposeSecret as _;
        let id = age::x25519::Identity::generate();
        (id.to_string().expose_secret().to_owned(), id.to_public().to_string())
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        tmp: tempfile::TempDir,
        ctx: Context,
        path: PathBuf,
        recipient: String,
    }

    fn fixture(name: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let (secret, recipient) = identity();
        let ctx = Context::new(
            Env::from_pairs([("SOPS_AGE_KEY", secret.as_str()), ("TMPDIR", tmp.path().to_str().unwrap())]),
            dir.path().to_owned(),
        );
        let path = dir.path().join(name);
        Fixture { _dir: dir, tmp, ctx, path, recipient }
    }

    fn request(f: &Fixture, format: Format, new_file: Option<NewFile>) -> EditRequest {
        EditRequest {
            path: f.path.clone(),
            input_format: format,
            output_format: format,
            output_options: StoreOptions::default(),
            ignore_mac: false,
            decryption_order: Vec::new(),
            show_master_keys: false,
            new_file,
        }
    }

    fn age_new_file(f: &Fixture, rule: Option<CryptRule>) -> NewFile {
        NewFile {
            key_groups: vec![vec![KeyRef::Age { recipient: f.recipient.clone() }]],
            shamir_threshold: 0,
            rule,
            mac_only_encrypted: false,
        }
    }

    /// Creates `f.path` through `edit` with the YAML text `text`.
    fn create(f: &Fixture, text: &'static str) {
        let req = request(f, Format::Yaml, Some(age_new_file(f, Some(CryptRule::default_rule()))));
        let mut ui = Script::new(vec![Box::new(move |_| text.to_owned())]);
        let out = run_with(&req, &f.ctx, &mut ui).unwrap();
        std::fs::write(&f.path, out.bytes).unwrap();
    }

    fn decrypt_file(f: &Fixture) -> String {
        let bytes = std::fs::read(&f.path).unwrap();
        let mut opened = open_encrypted(&bytes, Format::Yaml, StoreOptions::default()).unwrap();
        decrypt_tree(&mut opened, &[], false, &f.ctx, None).unwrap();
        String::from_utf8(store_for(Format::Yaml, StoreOptions::default()).emit(&opened.docs).unwrap()).unwrap()
    }

    fn top_values(f: &Fixture) -> Vec<(String, String)> {
        let bytes = std::fs::read(&f.path).unwrap();
        let docs = store_for(Format::Yaml, StoreOptions::default()).load_encrypted(&bytes).unwrap();
        docs[0]
            .iter()
            .filter_map(|i| match i {
                Item::Pair(k, Value::Str(s)) => Some((k.clone(), s.clone())),
                _ => None,
            })
            .collect()
    }

    fn assert_tmp_empty(f: &Fixture) {
        let left: Vec<_> = std::fs::read_dir(f.tmp.path()).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[test]
    fn new_file_starts_from_the_example_and_round_trips() {
        let f = fixture("new.yaml");
        let req = request(&f, Format::Yaml, Some(age_new_file(&f, Some(CryptRule::default_rule()))));
        let mut ui = Script::new(vec![Box::new(|t: &str| t.replace("example_value", "changed"))]);
        let out = run_with(&req, &f.ctx, &mut ui).unwrap();
        assert_eq!(ui.seen[0].as_bytes(), example(Format::Yaml));
        std::fs::write(&f.path, &out.bytes).unwrap();
        let text = decrypt_file(&f);
        assert!(
            text.starts_with("hello: Welcome to SOPS! Edit this file as you please!\nexample_key: changed\n"),
            "{text}"
        );
        assert!(String::from_utf8_lossy(&out.bytes).contains("version: 3.11.0"));
        assert_tmp_empty(&f);
    }

    #[test]
    fn unchanged_text_is_exit_200_and_leaves_nothing() {
        let f = fixture("new.json");
        let req = request(&f, Format::Json, Some(age_new_file(&f, Some(CryptRule::default_rule()))));
        let mut ui = Script::new(vec![Box::new(str::to_owned)]);
        let err = run_with(&req, &f.ctx, &mut ui).err().unwrap();
        assert_eq!(err.exit_code(), 200);
        assert_eq!(err.to_string(), "File has not changed, exiting.");
        assert_tmp_empty(&f);
    }

    #[test]
    fn unchanged_values_keep_their_ciphertext() {
        let f = fixture("s.yaml");
        create(&f, "a: one\nb: two\nlist:\n    - x\n    - y\nc: three\n");
        let before = top_values(&f);
        let req = request(&f, Format::Yaml, None);
        let mut ui = Script::new(vec![Box::new(|t: &str| t.replace("two", "TWO"))]);
        let out = run_with(&req, &f.ctx, &mut ui).unwrap();
        std::fs::write(&f.path, &out.bytes).unwrap();
        let after = top_values(&f);
        assert_eq!(before.len(), 3);
        assert_eq!(before[0], after[0], "a kept");
        assert_ne!(before[1], after[1], "b changed");
        assert_eq!(before[2], after[2], "c kept");
        let old = String::from_utf8(std::fs::read(&f.path).unwrap()).unwrap();
        assert!(decrypt_file(&f).contains("b: TWO\n"), "{old}");
        // The list elements kept theirs too.
        assert_eq!(old.matches("ENC[").count(), 6, "5 values and the MAC");
        assert_tmp_empty(&f);
    }

    #[test]
    fn invalid_text_reopens_the_editor_with_the_error() {
        let f = fixture("s.yaml");
        create(&f, "a: one\n");
        let req = request(&f, Format::Yaml, None);
        let mut ui = Script::new(vec![Box::new(|_| "a: [\n".to_owned()), Box::new(|_| "a: fixed\n".to_owned())]);
        let out = run_with(&req, &f.ctx, &mut ui).unwrap();
        assert_eq!(ui.refusals.len(), 1);
        assert_eq!(
            ui.refusals[0].0,
            "Could not load tree, probably due to invalid syntax. Press a key to return to the editor, or Ctrl+C to exit."
        );
        assert!(!ui.refusals[0].1.is_empty());
        // The second round sees what the first one wrote.
        assert_eq!(ui.seen[1], "a: [\n");
        std::fs::write(&f.path, &out.bytes).unwrap();
        assert_eq!(decrypt_file(&f), "a: fixed\n");
    }

    #[test]
    fn refused_again_without_input_gives_up() {
        let f = fixture("s.yaml");
        create(&f, "a: one\n");
        let req = request(&f, Format::Yaml, None);
        let mut ui = Script::new(vec![Box::new(|_| "a: [\n".to_owned())]);
        ui.answer = Answer::NoInput;
        let err = run_with(&req, &f.ctx, &mut ui).err().unwrap();
        assert_eq!(ui.refusals.len(), 1);
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("Error unmarshalling file: "), "{err}");
        assert!(err.hint().is_some());
        assert_tmp_empty(&f);
    }

    #[test]
    fn sops_key_and_empty_documents_are_refused() {
        let f = fixture("s.yaml");
        create(&f, "a: one\n");
        let req = request(&f, Format::Yaml, None);
        let mut ui = Script::new(vec![
            Box::new(|_| "sops: x\n".to_owned()),
            Box::new(|_| String::new()),
            Box::new(|_| "1: x\n".to_owned()),
            Box::new(|_| "a: ok\n".to_owned()),
        ]);
        run_with(&req, &f.ctx, &mut ui).unwrap();
        assert_eq!(ui.refusals.len(), 3, "{:?}", ui.refusals);
        for r in &ui.refusals[..2] {
            assert!(r.0.starts_with("Tree not valid for encryption. Press a key"), "{r:?}");
        }
        assert!(ui.refusals[0].1.contains("top-level entry called 'sops'"));
        assert_eq!(ui.refusals[1].1, "File cannot be completely empty, it must contain at least one document");
        // The YAML store refuses a non-string key while loading; sops
        // refused it while encrypting, exit 23, and lost the edit.
        assert!(ui.refusals[2].1.contains("Tree contains a non-string key"), "{:?}", ui.refusals[2]);
    }

    #[test]
    fn show_master_keys_applies_data_edits_and_keeps_metadata() {
        let f = fixture("s.yaml");
        create(&f, "a: one\n");
        let before = String::from_utf8(std::fs::read(&f.path).unwrap()).unwrap();
        let mut req = request(&f, Format::Yaml, None);
        req.show_master_keys = true;
        let mut ui = Script::new(vec![Box::new(|t: &str| t.replace("a: one", "a: two"))]);
        let out = run_with(&req, &f.ctx, &mut ui).unwrap();
        assert!(ui.seen[0].starts_with("a: one\nsops:\n    age:\n"), "{}", ui.seen[0]);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        std::fs::write(&f.path, &out.bytes).unwrap();
        assert_eq!(decrypt_file(&f), "a: two\n");

        // A metadata edit is ignored, with a warning.
        let mut ui = Script::new(vec![Box::new(|t: &str| {
            t.replace("a: two", "a: three").replace("version: 3.11.0", "version: 3.12.0")
        })]);
        let out = run_with(&req, &f.ctx, &mut ui).unwrap();
        assert_eq!(out.warnings.len(), 1);
        assert!(String::from_utf8_lossy(&out.bytes).contains("version: 3.11.0"));
        assert!(before.contains("recipient: "));

        // Broken metadata sends the user back.
        let mut ui = Script::new(vec![
            Box::new(|t: &str| t.replace("lastmodified", "lastmod")),
            Box::new(|_| "a: four\n".to_owned()),
        ]);
        ui.answer = Answer::NoInput;
        let err = run_with(&req, &f.ctx, &mut ui).err().unwrap();
        assert_eq!(ui.refusals[0].0, format!("SOPS metadata is invalid. {PRESS_A_KEY}"));
        assert_eq!(ui.refusals[1].1, "sops metadata not found");
        assert_eq!(err.exit_code(), 1, "no one answered twice: {err}");
    }

    #[test]
    fn old_versions_are_raised() {
        let f = fixture("s.yaml");
        create(&f, "a: one\n");
        let text = std::fs::read_to_string(&f.path).unwrap().replace("version: 3.11.0", "version: 3.7.3");
        std::fs::write(&f.path, text).unwrap();
        let req = request(&f, Format::Yaml, None);
        let mut ui = Script::new(vec![Box::new(|t: &str| t.replace("one", "two"))]);
        let out = run_with(&req, &f.ctx, &mut ui).unwrap();
        assert!(String::from_utf8_lossy(&out.bytes).contains("version: 3.11.0\n"));
    }

    #[test]
    fn unparsable_versions_are_202() {
        let f = fixture("s.yaml");
        create(&f, "a: one\n");
        let text = std::fs::read_to_string(&f.path).unwrap().replace("version: 3.11.0", "version: 3.07.0");
        std::fs::write(&f.path, text).unwrap();
        let req = request(&f, Format::Yaml, None);
        let mut ui = Script::new(vec![Box::new(|t: &str| t.replace("one", "two"))]);
        let err = run_with(&req, &f.ctx, &mut ui).err().unwrap();
        assert_eq!(err.exit_code(), 202);
        assert_eq!(
            err.to_string(),
            "Failed to compare document version \"3.07.0\" with program version \"3.11.0\": Minor number must not contain leading zeroes \"07\""
        );
        assert_tmp_empty(&f);
    }

    #[test]
    fn key_failures_for_new_files_are_128() {
        let f = fixture("n.yaml");
        let mut new = age_new_file(&f, None);
        new.key_groups = vec![vec![]];
        let req = request(&f, Format::Yaml, Some(new));
        let mut ui = Script::new(vec![Box::new(str::to_owned)]);
        let err = run_with(&req, &f.ctx, &mut ui).err().unwrap();
        assert_eq!(err.exit_code(), 128);
        assert_eq!(
            err.to_string(),
            "Error encrypting the data key with one or more master keys: [empty key group provided]"
        );
        assert!(ui.seen.is_empty(), "no editor before the key is wrapped");
    }

    #[test]
    fn every_example_loads_and_reemits_unchanged() {
        for format in [Format::Yaml, Format::Json, Format::Dotenv, Format::Ini, Format::Binary] {
            let store = store_for(format, StoreOptions::default());
            let docs = store.load_plain(example(format)).unwrap();
            assert_eq!(store.emit(&docs).unwrap(), example(format), "{}", format.name());
        }
    }

    #[test]
    fn binary_new_file_records_no_rule() {
        let f = fixture("n.bin");
        let req = request(&f, Format::Binary, Some(age_new_file(&f, None)));
        let mut ui = Script::new(vec![Box::new(|_| "secret bytes".to_owned())]);
        let out = run_with(&req, &f.ctx, &mut ui).unwrap();
        let text = String::from_utf8(out.bytes).unwrap();
        assert!(!text.contains("unencrypted_suffix"), "{text}");
        let opened = open_encrypted(text.as_bytes(), Format::Binary, StoreOptions::default()).unwrap();
        let Some(Item::Pair(k, Value::Str(v))) = opened.docs[0].first() else { panic!("{text}") };
        assert_eq!(k, "data");
        assert!(value::parse(v).is_ok());
    }

    #[test]
    fn semver_comparison_matches_sops() {
        assert_eq!(program_is_newer("3.11.0", "3.7.3"), Ok(true));
        assert_eq!(program_is_newer("3.11.0", "3.11.0"), Ok(false));
        assert_eq!(program_is_newer("3.11.0", "v3.12.0"), Ok(false));
        assert_eq!(program_is_newer("3.11.0", "3.11.0-rc.1"), Ok(true));
        assert_eq!(program_is_newer("3.11.0", "3.11.0+build.5"), Ok(false));
        assert_eq!(program_is_newer("3.11.0", "1.14"), Ok(true));
        assert_eq!(program_is_newer("3.11.0", "3.7"), Err("No Major.Minor.Patch elements found".to_owned()));
        assert_eq!(program_is_newer("3.11.0", ""), Err("Version string empty".to_owned()));
        assert_eq!(
            program_is_newer("3.11.0", "3.07.0"),
            Err("Minor number must not contain leading zeroes \"07\"".to_owned())
        );
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for w in order.windows(2) {
            assert!(SemVer::parse(w[0]).unwrap() < SemVer::parse(w[1]).unwrap(), "{} < {}", w[0], w[1]);
        }
    }
}
