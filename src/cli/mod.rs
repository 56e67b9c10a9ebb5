//! The command line as sops 3.11 parses it: Go's `flag` package driven by
//! urfave/cli v1 (cli.md §1). This module owns the *syntax*: which argv is
//! accepted, what it means flag by flag, usage errors, help pages and the
//! shell-completion protocol. It stops at typed argument structs ([`Cli`]);
//! merging them with the environment and `.sops.yaml` is `resolve.rs`'s job.
//!
//! clap cannot parse sops' command line directly (single-dash long flags,
//! `--d`, booleans that take `=false` but never the next word, urfave's
//! argument reordering, env fallbacks with Go's rules, "two forms" errors),
//! so parsing has two passes:
//!
//! 1. [`normalize_with_env`] walks argv with the Go/urfave rules, using the flag
//!    tables read back from the clap declarations in `args.rs` (one source
//!    of truth). It answers help, version and completion requests itself and
//!    otherwise emits a canonical argv: `sops --long=value… [cmd…
//!    --long=value…] -- positionals…`.
//! 2. [`parse`] feeds that canonical argv to clap, which fills the structs.
//!
//! The order of checks follows urfave/cli v1.22.17 (`App.Run`,
//! `App.RunAsSubcommand`, `Command.Run`) so that the same argv gives the same
//! outcome as sops, error precedence included.

pub(crate) mod args;
pub(crate) mod resolve;
pub(crate) mod resolve_edit;
pub(crate) mod resolve_exec;
pub(crate) mod resolve_mutate;
pub(crate) mod resolve_publish;

use std::any::TypeId;
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fmt::{self, Write as _};

use clap::{ArgAction, CommandFactory, FromArgMatches};
use rsops::gotext;

pub(crate) use args::*;

/// The last argument that turns any invocation into a completion request
/// (urfave's `checkShellCompleteFlag`, cli.md §1.6).
const COMPLETION_FLAG: &str = "--generate-bash-completion";

/// Env var set by the zsh completion script: candidates become
/// `name:usage` (urfave's `printCommandSuggestions`).
const ZSH_HACK_ENV: &str = "_CLI_ZSH_AUTOCOMPLETE_HACK";

/// Usage of urfave's built-in `help` command.
const HELP_COMMAND_USAGE: &str = "Shows a list of commands or help for one command";

// ---------------------------------------------------------------------------
// Outcomes

/// What a command line asks for.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once per process
pub(crate) enum Parsed {
    /// Run a command, or the legacy action when `command` is `None`.
    Run(Cli),
    /// Print [`Help::render`] to stdout, exit 0.
    Help(Help),
    /// `--version`/`-v`: print the version (cli.md §1.6), exit 0. The global
    /// flags carry `--disable-version-check` and `--check-for-updates`.
    Version(GlobalArgs),
    /// Shell completion candidates: print one per line to stdout, exit 0.
    Complete(Vec<String>),
}

/// A help page, rendered on demand (it embeds the version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Help {
    page: Page,
    /// Basename of argv[0]: urfave's `HelpName` of top-level commands.
    prog: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Page {
    /// `sops --help`, `sops help`: urfave's app template.
    App,
    /// `sops groups help`: the app template applied to a command with
    /// subcommands (urfave runs those as a nested app).
    NestedApp(String),
    /// `sops groups`, `sops groups --help`: urfave's subcommand template.
    Subcommands(String),
    /// `sops decrypt --help`, `sops help decrypt`, `sops groups add -h`:
    /// urfave's command template, by command path.
    Command(Vec<String>),
    /// `sops help help`, `sops groups help --help`: the command template of
    /// urfave's own `help` command. In the main app its `HelpName` is empty,
    /// which gives odd output (reproduced); in a nested app (named here) it
    /// is `sops <name> help`.
    HelpCommand(Option<String>),
}

/// A command line sops rejects (or `help` of an unknown topic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsageError {
    message: String,
    kind: UsageKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum UsageKind {
    /// Only the fatal log line (bad boolean in an env var).
    Fatal,
    /// Usage text on stdout, then the fatal log line.
    Usage(Prefix, Help),
    /// `No help topic for '<x>'`: an exit error, status 3.
    NoHelpTopic,
}

/// How urfave introduces the help page that follows an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    /// App or nested app parse error: `Incorrect Usage. <err>` + blank line.
    AppIncorrect,
    /// Command parse error: `Incorrect Usage: <err>` + blank line.
    CommandIncorrect,
    /// App "two forms" error: `<err>` and no blank line.
    AppBare,
    /// Nested app "two forms" error: `<err>` + blank line.
    NestedBare,
}

impl UsageError {
    fn fatal(message: String) -> Self {
        UsageError {
            message,
            kind: UsageKind::Fatal,
        }
    }

    fn usage(message: String, prefix: Prefix, help: Help) -> Self {
        UsageError {
            message,
            kind: UsageKind::Usage(prefix, help),
        }
    }

    /// The error text: for the fatal log line (`level=fatal msg="…"`), or
    /// for stderr as is when [`UsageError::is_exit_error`].
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// 1 for usage errors (cli.md §1.2), 3 for `No help topic` (§1.6).
    pub(crate) fn exit_code(&self) -> u8 {
        match self.kind {
            UsageKind::NoHelpTopic => 3,
            _ => 1,
        }
    }

    /// True when sops prints the message plainly (`message` + `\n` on
    /// stderr) instead of logging it at fatal level.
    pub(crate) fn is_exit_error(&self) -> bool {
        self.kind == UsageKind::NoHelpTopic
    }

    /// What urfave prints to stdout before the fatal log (may be empty).
    pub(crate) fn stdout(&self, version: &str) -> String {
        let UsageKind::Usage(prefix, help) = &self.kind else {
            return String::new();
        };
        let m = &self.message;
        let head = match prefix {
            Prefix::AppIncorrect => format!("Incorrect Usage. {m}\n\n"),
            Prefix::CommandIncorrect => format!("Incorrect Usage: {m}\n\n"),
            Prefix::AppBare => format!("{m}\n"),
            Prefix::NestedBare => format!("{m}\n\n"),
        };
        head + &help.render(version)
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

/// The first pass: the outcome, and the canonical argv clap parses for
/// [`Action::Run`] and [`Action::Version`].
#[derive(Debug)]
pub(crate) struct Normalized {
    pub(crate) argv: Vec<OsString>,
    pub(crate) action: Action,
}

#[derive(Debug)]
pub(crate) enum Action {
    Run,
    Version,
    Help(Help),
    Complete(Vec<String>),
}

// ---------------------------------------------------------------------------
// Entry points

/// Parses a full argv (argv[0] included) reading the process environment.
pub(crate) fn parse(args: Vec<OsString>) -> Result<Parsed, UsageError> {
    parse_with_env(args, &|name| std::env::var_os(name))
}

/// [`parse`] with an injected environment lookup (tests, hermetic callers).
pub(crate) fn parse_with_env(
    args: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Parsed, UsageError> {
    let normalized = normalize_with_env(args, env)?;
    match normalized.action {
        Action::Help(help) => Ok(Parsed::Help(help)),
        Action::Complete(lines) => Ok(Parsed::Complete(lines)),
        Action::Run => Ok(Parsed::Run(clap_parse(normalized.argv)?)),
        Action::Version => Ok(Parsed::Version(clap_parse(normalized.argv)?.global)),
    }
}

/// The Go/urfave pass, with an injected environment lookup.
pub(crate) fn normalize_with_env(
    args: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Normalized, UsageError> {
    let root = clap_root();
    // urfave's `HelpName` is `filepath.Base(os.Args[0])`.
    let prog = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map_or_else(|| "sops".to_owned(), |p| p.to_string_lossy().into_owned());
    let mut rest: Vec<OsString> = args.iter().skip(1).cloned().collect();
    // urfave looks at os.Args' last element, the program name included.
    let shell_complete = args.last().is_some_and(|a| a == COMPLETION_FLAG);
    if shell_complete {
        rest.pop();
    }
    let mut run = Run {
        root: &root,
        prog,
        raw: args,
        env,
        shell_complete,
        argv: vec![OsString::from("sops")],
    };
    let action = run.app(&rest)?;
    Ok(Normalized {
        argv: run.argv,
        action,
    })
}

/// The script `sops completion bash|zsh` prints, byte for byte (note the
/// leading empty line); the program name is always `sops` (cli.md §1.6).
pub(crate) fn completion_script(shell: &Shell) -> &'static str {
    match shell {
        Shell::Bash(_) => concat!(
            "\n",
            "#! /bin/bash\n",
            "\n",
            "_cli_bash_autocomplete() {\n",
            "  if [[ \"${COMP_WORDS[0]}\" != \"source\" ]]; then\n",
            "    local cur opts base\n",
            "    COMPREPLY=()\n",
            "    cur=\"${COMP_WORDS[COMP_CWORD]}\"\n",
            "    if [[ \"$cur\" == \"-\"* ]]; then\n",
            "      opts=$( ${COMP_WORDS[@]:0:$COMP_CWORD} ${cur} --generate-bash-completion )\n",
            "    else\n",
            "      opts=$( ${COMP_WORDS[@]:0:$COMP_CWORD} --generate-bash-completion )\n",
            "    fi\n",
            "    COMPREPLY=( $(compgen -W \"${opts}\" -- ${cur}) )\n",
            "    return 0\n",
            "  fi\n",
            "}\n",
            "complete -o bashdefault -o default -o nospace -F _cli_bash_autocomplete sops\n",
        ),
        Shell::Zsh(_) => concat!(
            "\n",
            "#compdef sops\n",
            "\n",
            "_cli_zsh_autocomplete() {\n",
            "\n",
            "  local -a opts\n",
            "  local cur\n",
            "  cur=${words[-1]}\n",
            "  if [[ \"$cur\" == \"-\"* ]]; then\n",
            "    opts=(\"${(@f)$(_CLI_ZSH_AUTOCOMPLETE_HACK=1 ${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion)}\")\n",
            "  else\n",
            "    opts=(\"${(@f)$(_CLI_ZSH_AUTOCOMPLETE_HACK=1 ${words[@]:0:#words[@]-1} --generate-bash-completion)}\")\n",
            "  fi\n",
            "\n",
            "  if [[ \"${opts[1]}\" != \"\" ]]; then\n",
            "    _describe 'values' opts\n",
            "  else\n",
            "    _files\n",
            "  fi\n",
            "\n",
            "  return\n",
            "}\n",
            "\n",
            "compdef _cli_zsh_autocomplete sops\n",
        ),
    }
}

// ---------------------------------------------------------------------------
// Flag tables, read back from the clap declarations

/// The Go kind of a flag: decides whether it takes the next word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Str,
    Slice,
}

/// Flags urfave adds itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    Help,
    Version,
}

/// One flag as Go's `flag` package sees it.
#[derive(Debug, Clone)]
struct FlagDef {
    /// Names in sops' order (`in-place, i`); the first is clap's long name.
    names: Vec<String>,
    kind: Kind,
    env: Option<String>,
    help: String,
    default: Option<String>,
    builtin: Option<Builtin>,
}

impl FlagDef {
    fn builtin(builtin: Builtin) -> Self {
        let (long, short, help) = match builtin {
            Builtin::Help => ("help", "h", "show help"),
            Builtin::Version => ("version", "v", "print the version"),
        };
        FlagDef {
            names: vec![long.to_owned(), short.to_owned()],
            kind: Kind::Bool,
            env: None,
            help: help.to_owned(),
            default: None,
            builtin: Some(builtin),
        }
    }

    fn from_clap(arg: &clap::Arg) -> Option<Self> {
        let long = arg.get_long()?;
        let mut names = vec![long.to_owned()];
        names.extend(arg.get_short().map(String::from));
        names.extend(
            arg.get_visible_aliases()
                .unwrap_or_default()
                .into_iter()
                .map(str::to_owned),
        );
        let value_type = arg.get_value_parser().type_id();
        let kind = if matches!(arg.get_action(), ArgAction::Append) {
            Kind::Slice
        } else if value_type == TypeId::of::<bool>() {
            Kind::Bool
        } else if value_type == TypeId::of::<i64>() {
            Kind::Int
        } else {
            Kind::Str
        };
        Some(FlagDef {
            names,
            kind,
            env: arg.get_env().map(|e| e.to_string_lossy().into_owned()),
            help: arg.get_help().map(ToString::to_string).unwrap_or_default(),
            default: arg
                .get_default_values()
                .first()
                .map(|d| d.to_string_lossy().into_owned()),
            builtin: None,
        })
    }

    fn long(&self) -> &str {
        &self.names[0]
    }
}

/// The flags of one clap (sub)command, in declaration order, then urfave's
/// built-ins.
fn flag_table(cmd: &clap::Command, builtins: &[Builtin]) -> Vec<FlagDef> {
    cmd.get_arguments()
        .filter_map(FlagDef::from_clap)
        .chain(builtins.iter().map(|&b| FlagDef::builtin(b)))
        .collect()
}

/// The clap tree with clap's own help/version machinery switched off: help,
/// version and env are all handled here.
fn clap_root() -> clap::Command {
    fn prepare(cmd: clap::Command) -> clap::Command {
        cmd.disable_help_flag(true)
            .disable_version_flag(true)
            .disable_help_subcommand(true)
            .mut_subcommands(prepare)
    }
    prepare(Cli::command())
}

/// Runs clap on a canonical argv. Env fallbacks were applied by the first
/// pass, so clap must not read the process environment again.
fn clap_parse(argv: Vec<OsString>) -> Result<Cli, UsageError> {
    fn strip_env(cmd: clap::Command) -> clap::Command {
        cmd.mut_args(|a| a.env(None)).mut_subcommands(strip_env)
    }
    let cmd = strip_env(clap_root());
    cmd.try_get_matches_from(argv)
        .and_then(|m| Cli::from_arg_matches(&m))
        // The canonical argv is well formed; what is left is text clap
        // refuses, i.e. a flag value or positional that is not UTF-8.
        .map_err(|e| {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            UsageError::fatal(first.trim_start_matches("error: ").to_owned())
        })
}

// ---------------------------------------------------------------------------
// Go `flag` parsing

/// The result of Go's `FlagSet.Parse` over one level.
#[derive(Debug)]
struct GoParse {
    /// Command-line values per flag (slices accumulate, others keep the last).
    values: Vec<Option<Vec<OsString>>>,
    /// Names as written (`d`, `decrypt`), for the "two forms" check.
    visited: HashSet<String>,
    /// Go's `Args()`: what follows the flags.
    positionals: Vec<OsString>,
    error: Option<String>,
}

impl GoParse {
    fn bool(&self, flags: &[FlagDef], builtin: Builtin) -> bool {
        flags
            .iter()
            .position(|f| f.builtin == Some(builtin))
            .and_then(|i| self.values[i].as_ref())
            .and_then(|v| v.last())
            .is_some_and(|v| v == "true")
    }

    fn first_positional(&self) -> Option<&str> {
        self.positionals.first().and_then(|p| p.to_str())
    }
}

/// Go's `FlagSet.Parse`: flags until the first positional, `--` or `-`.
fn go_parse(flags: &[FlagDef], args: &[OsString]) -> GoParse {
    let mut st = GoParse {
        values: vec![None; flags.len()],
        visited: HashSet::new(),
        positionals: Vec::new(),
        error: None,
    };
    let mut i = 0;
    while i < args.len() {
        let tok = args[i].as_encoded_bytes();
        if tok.len() < 2 || tok[0] != b'-' {
            break;
        }
        let minuses = if tok[1] == b'-' { 2 } else { 1 };
        if tok.len() == 2 && minuses == 2 {
            // `--` ends the flags and is consumed.
            i += 1;
            break;
        }
        let body = &tok[minuses..];
        if body.is_empty() || body[0] == b'-' || body[0] == b'=' {
            st.error = Some(format!("bad flag syntax: {}", args[i].to_string_lossy()));
            break;
        }
        i += 1;
        // An `=` at index 0 was refused above, so a split here leaves a name.
        let (name, inline) = match body.iter().position(|&b| b == b'=') {
            Some(eq) => (&body[..eq], Some(os_from_bytes(&body[eq + 1..]))),
            None => (body, None),
        };
        let name = String::from_utf8_lossy(name).into_owned();
        let Some(idx) = flags.iter().position(|f| f.names.contains(&name)) else {
            st.error = Some(format!("flag provided but not defined: -{name}"));
            break;
        };
        let def = &flags[idx];
        let value = if def.kind == Kind::Bool {
            let parsed = inline
                .as_ref()
                .map_or(Some(true), |v| v.to_str().and_then(parse_go_bool));
            let Some(b) = parsed else {
                let q = gotext::quote(inline.unwrap_or_default().to_string_lossy().as_bytes());
                st.error = Some(format!(
                    "invalid boolean value {q} for -{name}: parse error"
                ));
                break;
            };
            OsString::from(if b { "true" } else { "false" })
        } else {
            // A non-boolean takes the next word whatever it looks like.
            let v = match inline {
                Some(v) => v,
                None if i < args.len() => {
                    i += 1;
                    args[i - 1].clone()
                }
                None => {
                    st.error = Some(format!("flag needs an argument: -{name}"));
                    break;
                }
            };
            if def.kind == Kind::Int {
                if let Err(e) = v.to_str().ok_or(GoNumError::Syntax).and_then(parse_go_int) {
                    let q = gotext::quote(v.to_string_lossy().as_bytes());
                    st.error = Some(format!("invalid value {q} for flag -{name}: {e}"));
                    break;
                }
            }
            v
        };
        let slot = st.values[idx].get_or_insert_with(Vec::new);
        if def.kind != Kind::Slice {
            slot.clear();
        }
        slot.push(value);
        st.visited.insert(name);
    }
    st.positionals = args[i.min(args.len())..].to_vec();
    st
}

/// urfave's `reorderArgs` as vendored in sops 3.11 (cli.md §1.2): every
/// argument naming one of the command's flags moves to the front, taking
/// along the next word unless that word names a flag too — even after a
/// boolean, and even when the word starts with `-` or is `--`. Verified
/// against sops: `decrypt f --ignore-mac other` makes `other` the file,
/// `decrypt --output -x f` writes to `-x`, `decrypt f -i -x` fails on `-x`.
/// A `--` that is not taken as a value ends reordering and is moved in
/// front of the remaining words (`decrypt f -- x`: positionals `f x`).
fn reorder(flags: &[FlagDef], args: &[OsString]) -> Vec<OsString> {
    let mut front = Vec::new();
    let mut back = Vec::new();
    let mut next_may_be_value = false;
    for (i, arg) in args.iter().enumerate() {
        let s = arg.to_string_lossy();
        let is_flag = arg_is_flag(flags, &s);
        if next_may_be_value && !is_flag {
            next_may_be_value = false;
            front.push(arg.clone());
        } else if s == "--" {
            back.insert(0, arg.clone());
            back.extend_from_slice(&args[i + 1..]);
            break;
        } else if is_flag {
            front.push(arg.clone());
            next_may_be_value = !s.contains('=');
        } else {
            back.push(arg.clone());
        }
    }
    front.extend(back);
    front
}

/// urfave's `argIsFlag`: up to three leading dashes stripped, `=value`
/// dropped, then an exact name match.
fn arg_is_flag(flags: &[FlagDef], arg: &str) -> bool {
    if !arg.starts_with('-') {
        return false;
    }
    let mut name = arg.strip_prefix("--").unwrap_or(arg);
    name = name.strip_prefix('-').unwrap_or(name);
    let name = name.split('=').next().unwrap_or_default();
    flags.iter().any(|f| f.names.iter().any(|n| n == name))
}

/// urfave's `normalizeFlags`: a flag written under two of its names.
fn two_forms(flags: &[FlagDef], visited: &HashSet<String>) -> Option<String> {
    for def in flags.iter().filter(|f| f.names.len() > 1) {
        let mut first: Option<&str> = None;
        for name in &def.names {
            if visited.contains(name) {
                if let Some(first) = first {
                    return Some(format!(
                        "Cannot use two forms of the same flag: {name} {first}"
                    ));
                }
                first = Some(name);
            }
        }
    }
    None
}

/// Env defaults of one level, applied when urfave builds the flag set
/// (cli.md §1.3): before parsing, so a bad boolean fails every invocation.
fn env_defaults(
    flags: &[FlagDef],
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Vec<Option<Vec<OsString>>>, String> {
    let mut out = vec![None; flags.len()];
    for (slot, def) in out.iter_mut().zip(flags) {
        let Some(value) = def.env.as_deref().and_then(env) else {
            continue;
        };
        let text = value.to_string_lossy();
        let name = def.names.join(", ");
        *slot = Some(match def.kind {
            Kind::Bool if text.is_empty() => vec![OsString::from("false")],
            Kind::Bool => {
                let Some(b) = parse_go_bool(&text) else {
                    let q = gotext::quote(text.as_bytes());
                    return Err(format!(
                        "could not parse {text} as bool value for flag {name}: strconv.ParseBool: parsing {q}: invalid syntax"
                    ));
                };
                vec![OsString::from(if b { "true" } else { "false" })]
            }
            Kind::Int => {
                if parse_go_int(&text).is_err() {
                    let q = gotext::quote(text.as_bytes());
                    return Err(format!(
                        "could not parse {q} as int value for flag {name}: strconv.ParseInt: parsing {q}: invalid syntax"
                    ));
                }
                vec![value.clone()]
            }
            Kind::Str => vec![value.clone()],
            // Split on `,`, trimmed, empty items kept (verified with sops).
            Kind::Slice => text.split(',').map(|s| OsString::from(s.trim())).collect(),
        });
    }
    Ok(out)
}

/// Appends `--long=value` for every flag given or read from the
/// environment; the command line wins, and replaces a slice's env items.
fn push_canonical(
    argv: &mut Vec<OsString>,
    flags: &[FlagDef],
    parsed: &GoParse,
    env: &[Option<Vec<OsString>>],
) {
    for (i, def) in flags.iter().enumerate() {
        if def.builtin.is_some() {
            continue;
        }
        let Some(values) = parsed.values[i].as_ref().or(env[i].as_ref()) else {
            continue;
        };
        for v in values {
            let mut arg = OsString::from(format!("--{}=", def.long()));
            arg.push(v);
            argv.push(arg);
        }
    }
}

// ---------------------------------------------------------------------------
// urfave's control flow

/// Where a command lives: the main app or a nested app (`groups`,
/// `completion`), which decides the help template and completions.
#[derive(Debug, Clone, Copy)]
enum Level<'c> {
    Main,
    Nested(&'c clap::Command),
}

struct Run<'a> {
    root: &'a clap::Command,
    prog: String,
    /// The untouched argv (urfave's completion reads `os.Args`).
    raw: Vec<OsString>,
    env: &'a dyn Fn(&str) -> Option<OsString>,
    shell_complete: bool,
    /// The canonical argv being built.
    argv: Vec<OsString>,
}

impl Run<'_> {
    fn help(&self, page: Page) -> Help {
        Help {
            page,
            prog: self.prog.clone(),
        }
    }

    fn app_flags(&self) -> Vec<FlagDef> {
        flag_table(self.root, &[Builtin::Help, Builtin::Version])
    }

    /// urfave `App.Run`.
    fn app(&mut self, args: &[OsString]) -> Result<Action, UsageError> {
        let flags = self.app_flags();
        let env = env_defaults(&flags, self.env).map_err(UsageError::fatal)?;
        let parsed = go_parse(&flags, args);
        if let Some(msg) = two_forms(&flags, &parsed.visited) {
            return Err(UsageError::usage(
                msg,
                Prefix::AppBare,
                self.help(Page::App),
            ));
        }
        let command = parsed
            .first_positional()
            .and_then(|name| find_command(self.root, name));
        if self.shell_complete && command.is_none() {
            return Ok(Action::Complete(self.complete_app(self.root, &flags)));
        }
        // While completing, urfave ignores parse errors.
        if let Some(msg) = parsed.error.clone().filter(|_| !self.shell_complete) {
            return Err(UsageError::usage(
                msg,
                Prefix::AppIncorrect,
                self.help(Page::App),
            ));
        }
        if parsed.bool(&flags, Builtin::Help) {
            return Ok(Action::Help(self.help(Page::App)));
        }
        push_canonical(&mut self.argv, &flags, &parsed, &env);
        if parsed.bool(&flags, Builtin::Version) {
            return Ok(Action::Version);
        }
        let tail = parsed.positionals.get(1..).unwrap_or_default();
        match command {
            Some(Found::Help) => self.help_command(Level::Main, tail),
            Some(Found::Command(cmd)) => self.command(Level::Main, cmd, tail),
            None => {
                // The legacy action: every positional goes to `file`/`extra`.
                self.argv.push(OsString::from("--"));
                self.argv.extend(parsed.positionals.iter().cloned());
                Ok(Action::Run)
            }
        }
    }

    /// urfave `Command.Run`, or `Command.startApp` for commands with
    /// subcommands.
    fn command(
        &mut self,
        level: Level<'_>,
        cmd: &clap::Command,
        args: &[OsString],
    ) -> Result<Action, UsageError> {
        self.argv.push(OsString::from(cmd.get_name()));
        if cmd.has_subcommands() {
            return self.nested_app(cmd, args);
        }
        let path = command_path(level, cmd);
        let command_help = self.help(Page::Command(path));
        let flags = flag_table(cmd, &[Builtin::Help]);
        let env = env_defaults(&flags, self.env)
            .map_err(|m| UsageError::usage(m, Prefix::CommandIncorrect, command_help.clone()))?;
        let parsed = go_parse(&flags, &reorder(&flags, args));
        if self.shell_complete {
            return Ok(Action::Complete(self.complete_command(level, cmd)));
        }
        // urfave checks "two forms" only when parsing succeeded.
        if let Some(msg) = parsed
            .error
            .clone()
            .or_else(|| two_forms(&flags, &parsed.visited))
        {
            return Err(UsageError::usage(
                msg,
                Prefix::CommandIncorrect,
                command_help,
            ));
        }
        if parsed.bool(&flags, Builtin::Help) {
            return Ok(Action::Help(command_help));
        }
        push_canonical(&mut self.argv, &flags, &parsed, &env);
        self.argv.push(OsString::from("--"));
        self.argv.extend(parsed.positionals.iter().cloned());
        Ok(Action::Run)
    }

    /// urfave `App.RunAsSubcommand` for `groups` and `completion`: a nested
    /// app whose only flag is `--help` and which does not reorder.
    fn nested_app(&mut self, cmd: &clap::Command, args: &[OsString]) -> Result<Action, UsageError> {
        let name = cmd.get_name().to_owned();
        let subcommands_help = self.help(Page::Subcommands(name.clone()));
        let flags = vec![FlagDef::builtin(Builtin::Help)];
        let parsed = go_parse(&flags, args);
        if let Some(msg) = two_forms(&flags, &parsed.visited) {
            return Err(UsageError::usage(msg, Prefix::NestedBare, subcommands_help));
        }
        let sub = parsed.first_positional().and_then(|n| find_command(cmd, n));
        if self.shell_complete && sub.is_none() {
            return Ok(Action::Complete(self.complete_app(cmd, &flags)));
        }
        if let Some(msg) = parsed.error.clone().filter(|_| !self.shell_complete) {
            return Err(UsageError::usage(
                msg,
                Prefix::AppIncorrect,
                subcommands_help,
            ));
        }
        if parsed.bool(&flags, Builtin::Help) {
            return Ok(Action::Help(subcommands_help));
        }
        let tail = parsed.positionals.get(1..).unwrap_or_default();
        match (sub, parsed.positionals.first()) {
            (Some(Found::Help), _) => self.help_command(Level::Nested(cmd), tail),
            (Some(Found::Command(sub)), _) => self.command(Level::Nested(cmd), sub, tail),
            // The nested app's default action is urfave's `helpSubcommand`.
            (None, Some(topic)) => Err(no_help_topic(topic)),
            (None, None) => Ok(Action::Help(subcommands_help)),
        }
    }

    /// urfave's built-in `help`/`h` command.
    fn help_command(&mut self, level: Level<'_>, args: &[OsString]) -> Result<Action, UsageError> {
        let own_help = self.help(Page::HelpCommand(match level {
            Level::Main => None,
            Level::Nested(cmd) => Some(cmd.get_name().to_owned()),
        }));
        let flags = vec![FlagDef::builtin(Builtin::Help)];
        let parsed = go_parse(&flags, &reorder(&flags, args));
        if self.shell_complete {
            let app_flags = self.level_flags(level);
            return Ok(Action::Complete(self.flag_completions(&[&app_flags])));
        }
        if let Some(msg) = parsed
            .error
            .clone()
            .or_else(|| two_forms(&flags, &parsed.visited))
        {
            return Err(UsageError::usage(msg, Prefix::CommandIncorrect, own_help));
        }
        if parsed.bool(&flags, Builtin::Help) {
            return Ok(Action::Help(own_help));
        }
        let parent = match level {
            Level::Main => self.root,
            Level::Nested(cmd) => cmd,
        };
        let Some(topic) = parsed.positionals.first() else {
            return Ok(Action::Help(self.help(match level {
                Level::Main => Page::App,
                Level::Nested(cmd) => Page::NestedApp(cmd.get_name().to_owned()),
            })));
        };
        // urfave's `ShowCommandHelp`: always the plain command template,
        // even for `groups` (so no subcommand list).
        match topic.to_str().and_then(|t| find_command(parent, t)) {
            Some(Found::Help) => Ok(Action::Help(own_help)),
            Some(Found::Command(cmd)) => Ok(Action::Help(
                self.help(Page::Command(command_path(level, cmd))),
            )),
            None => Err(no_help_topic(topic)),
        }
    }

    /// The flags of the app a command belongs to (`c.App.Flags`).
    fn level_flags(&self, level: Level<'_>) -> Vec<FlagDef> {
        match level {
            Level::Main => self.app_flags(),
            Level::Nested(_) => vec![FlagDef::builtin(Builtin::Help)],
        }
    }

    // -- completion (urfave `DefaultAppComplete`, `DefaultCompleteWithFlags`)

    /// The word before `--generate-bash-completion` if it looks like a flag.
    fn flag_word(&self) -> Option<String> {
        let n = self.raw.len();
        (n > 2)
            .then(|| self.raw[n - 2].to_string_lossy().into_owned())
            .filter(|w| w.starts_with('-'))
    }

    fn complete_app(&self, app: &clap::Command, flags: &[FlagDef]) -> Vec<String> {
        if self.flag_word().is_some() {
            return self.flag_completions(&[flags]);
        }
        let zsh = (self.env)(ZSH_HACK_ENV).is_some_and(|v| v == "1");
        let mut out = Vec::new();
        let commands = app
            .get_subcommands()
            .map(|c| {
                let names = std::iter::once(c.get_name().to_owned())
                    .chain(c.get_all_aliases().map(str::to_owned))
                    .collect::<Vec<_>>();
                (
                    names,
                    c.get_about().map(ToString::to_string).unwrap_or_default(),
                )
            })
            .chain(std::iter::once((
                vec!["help".to_owned(), "h".to_owned()],
                HELP_COMMAND_USAGE.to_owned(),
            )));
        for (names, usage) in commands {
            for name in names {
                out.push(if zsh { format!("{name}:{usage}") } else { name });
            }
        }
        out
    }

    fn complete_command(&self, level: Level<'_>, cmd: &clap::Command) -> Vec<String> {
        if self.flag_word().is_none() {
            // A leaf command has no subcommands to suggest.
            return Vec::new();
        }
        let app_flags = self.level_flags(level);
        // urfave suggests from the command as declared, without `--help`.
        let own = flag_table(cmd, &[]);
        self.flag_completions(&[&app_flags, &own])
    }

    /// urfave's `printFlagSuggestions` over each list in turn (duplicates
    /// between the app and the command are printed twice, as sops does).
    fn flag_completions(&self, lists: &[&[FlagDef]]) -> Vec<String> {
        let Some(last) = self.flag_word() else {
            return Vec::new();
        };
        let cur = last.strip_prefix('-').unwrap_or(&last);
        let cur = cur.strip_prefix('-').unwrap_or(cur);
        let dashed = |name: &str| {
            format!(
                "{}{name}",
                if name.chars().count() > 1 { "--" } else { "-" }
            )
        };
        let mut out = Vec::new();
        for def in lists.iter().flat_map(|l| l.iter()) {
            let given = def
                .names
                .iter()
                .any(|n| self.raw.iter().any(|a| *a == *dashed(n)));
            for name in &def.names {
                if last.starts_with("--") && name.chars().count() == 1 {
                    continue;
                }
                if name.starts_with(cur) && cur != name && !given {
                    out.push(dashed(name));
                }
            }
        }
        out
    }
}

#[derive(Clone, Copy)]
enum Found<'c> {
    Help,
    Command(&'c clap::Command),
}

/// urfave `App.Command(name)` over a clap (sub)command, plus the built-in
/// `help`/`h` every urfave app has.
fn find_command<'c>(parent: &'c clap::Command, name: &str) -> Option<Found<'c>> {
    if name == "help" || name == "h" {
        return Some(Found::Help);
    }
    parent
        .get_subcommands()
        .find(|c| c.get_name() == name || c.get_all_aliases().any(|a| a == name))
        .map(Found::Command)
}

/// A command's path from the root, as help pages name it.
fn command_path(level: Level<'_>, cmd: &clap::Command) -> Vec<String> {
    match level {
        Level::Main => vec![cmd.get_name().to_owned()],
        Level::Nested(parent) => vec![parent.get_name().to_owned(), cmd.get_name().to_owned()],
    }
}

fn no_help_topic(topic: &OsStr) -> UsageError {
    UsageError {
        message: format!("No help topic for '{}'", topic.to_string_lossy()),
        kind: UsageKind::NoHelpTopic,
    }
}

// ---------------------------------------------------------------------------
// Help pages (urfave v1 templates, laid out by Go's text/tabwriter)

impl Help {
    /// The page as sops prints it, with `version` in the `VERSION:` section.
    pub(crate) fn render(&self, version: &str) -> String {
        let root = clap_root();
        let text = match &self.page {
            Page::App => app_page(
                "sops",
                APP_USAGE,
                APP_USAGE_TEXT,
                version,
                Some(APP_AUTHOR),
                &root,
                &flag_table(&root, &[Builtin::Help, Builtin::Version]),
            ),
            Page::NestedApp(name) => {
                let cmd = subcommand(&root, &[name.as_str()]);
                let full = format!("sops {name}");
                let usage_text =
                    format!("{full} [global options] command [command options] [arguments...]");
                app_page(
                    &full,
                    &about(cmd),
                    &usage_text,
                    version,
                    None,
                    cmd,
                    &[FlagDef::builtin(Builtin::Help)],
                )
            }
            Page::Subcommands(name) => {
                let cmd = subcommand(&root, &[name.as_str()]);
                let full = format!("sops {name}");
                let mut s = format!(
                    "NAME:\n   {full} - {}\n\nUSAGE:\n   {full} command [command options] [arguments...]\n\nCOMMANDS:",
                    about(cmd)
                );
                push_command_lines(&mut s, cmd, false);
                s.push_str("\n\nOPTIONS:\n   ");
                push_flag_lines(&mut s, &[FlagDef::builtin(Builtin::Help)]);
                s.push('\n');
                s
            }
            Page::Command(path) => {
                let names: Vec<&str> = path.iter().map(String::as_str).collect();
                let cmd = subcommand(&root, &names);
                // urfave: `<argv0> <cmd>` for top-level commands, but the
                // nested app's name (`sops groups`) below it.
                let help_name = match names.as_slice() {
                    [one] => format!("{} {one}", self.prog),
                    _ => format!("sops {}", names.join(" ")),
                };
                command_page(
                    &help_name,
                    &about(cmd),
                    args_usage(&names),
                    &flag_table(cmd, &[]),
                )
            }
            Page::HelpCommand(nested) => {
                let help_name = nested
                    .as_ref()
                    .map(|n| format!("sops {n} help"))
                    .unwrap_or_default();
                command_page(&help_name, HELP_COMMAND_USAGE, Some("[command]"), &[])
            }
        };
        tabwrite(&text)
    }
}

fn subcommand<'c>(root: &'c clap::Command, path: &[&str]) -> &'c clap::Command {
    path.iter().fold(root, |cmd, name| {
        cmd.find_subcommand(name)
            .expect("help pages name declared commands")
    })
}

fn about(cmd: &clap::Command) -> String {
    cmd.get_about().map(ToString::to_string).unwrap_or_default()
}

/// urfave `AppHelpTemplate`.
fn app_page(
    name: &str,
    usage: &str,
    usage_text: &str,
    version: &str,
    author: Option<&str>,
    cmd: &clap::Command,
    flags: &[FlagDef],
) -> String {
    let mut s =
        format!("NAME:\n   {name} - {usage}\n\nUSAGE:\n   {usage_text}\n\nVERSION:\n   {version}");
    if let Some(author) = author {
        let _ = write!(s, "\n\nAUTHOR:\n   {author}");
    }
    s.push_str("\n\nCOMMANDS:");
    // The main app lists its `help` command; a nested app's list was taken
    // before urfave added it.
    push_command_lines(&mut s, cmd, author.is_some());
    s.push_str("\n\nGLOBAL OPTIONS:\n   ");
    for (i, def) in flags.iter().enumerate() {
        if i > 0 {
            s.push_str("\n   ");
        }
        s.push_str(&flag_line(def));
    }
    s.push('\n');
    s
}

/// urfave `CommandHelpTemplate`.
fn command_page(
    help_name: &str,
    usage: &str,
    args_usage: Option<&str>,
    flags: &[FlagDef],
) -> String {
    let options = if flags.is_empty() {
        ""
    } else {
        " [command options]"
    };
    let args = args_usage.unwrap_or("[arguments...]");
    let mut s =
        format!("NAME:\n   {help_name} - {usage}\n\nUSAGE:\n   {help_name}{options} {args}");
    if !flags.is_empty() {
        s.push_str("\n\nOPTIONS:\n   ");
        push_flag_lines(&mut s, flags);
    }
    s.push('\n');
    s
}

fn push_command_lines(s: &mut String, cmd: &clap::Command, with_help: bool) {
    for sub in cmd.get_subcommands() {
        let _ = write!(s, "\n   {}\t{}", sub.get_name(), about(sub));
    }
    if with_help {
        let _ = write!(s, "\n   help, h\t{HELP_COMMAND_USAGE}");
    }
}

/// `{{range .VisibleFlags}}{{.}}\n   {{end}}`.
fn push_flag_lines(s: &mut String, flags: &[FlagDef]) {
    for def in flags {
        s.push_str(&flag_line(def));
        s.push_str("\n   ");
    }
}

/// urfave's `stringifyFlag`: names with a `value` placeholder, tab, usage,
/// default, env hint.
fn flag_line(def: &FlagDef) -> String {
    let placeholder = if def.kind == Kind::Bool { "" } else { " value" };
    let names = def
        .names
        .iter()
        .map(|n| {
            format!(
                "{}{n}{placeholder}",
                if n.chars().count() == 1 { "-" } else { "--" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let default = match (def.kind, def.default.as_deref()) {
        (Kind::Int, d) => format!(" (default: {})", d.unwrap_or("0")),
        (Kind::Str, Some(d)) if !d.is_empty() => format!(" (default: {})", gotext::quote(d)),
        _ => String::new(),
    };
    let mut line = format!("{names}\t{}", format!("{}{default}", def.help).trim());
    if let Some(env) = &def.env {
        let _ = write!(line, " [${env}]");
    }
    line
}

/// Go `text/tabwriter` with urfave's settings (minwidth 1, padding 2,
/// spaces): cells end at tabs, and each column of consecutive lines that
/// have that cell is as wide as its widest cell plus the padding.
fn tabwrite(text: &str) -> String {
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut widths = Vec::new();
    tab_format(&lines, 0, lines.len(), &mut widths, &mut out);
    out.join("\n")
}

/// Go's `Writer.format`: recursive over columns.
fn tab_format(
    lines: &[Vec<&str>],
    first: usize,
    end: usize,
    widths: &mut Vec<usize>,
    out: &mut Vec<String>,
) {
    let column = widths.len();
    let mut start = first;
    let mut this = first;
    while this < end {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        tab_write_lines(lines, start, this, widths, out);
        start = this;
        let mut width = 1;
        while this < end && column + 1 < lines[this].len() {
            width = width.max(lines[this][column].chars().count() + 2);
            this += 1;
        }
        widths.push(width);
        tab_format(lines, start, this, widths, out);
        widths.pop();
        start = this;
    }
    tab_write_lines(lines, start, end, widths, out);
}

fn tab_write_lines(
    lines: &[Vec<&str>],
    from: usize,
    to: usize,
    widths: &[usize],
    out: &mut Vec<String>,
) {
    for cells in &lines[from..to] {
        let mut line = String::new();
        for (j, cell) in cells.iter().enumerate() {
            line.push_str(cell);
            if j < widths.len() && j + 1 < cells.len() {
                let pad = widths[j].saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push(line);
    }
}

// ---------------------------------------------------------------------------
// Small Go compatibility helpers


/// Bytes of an argument split at an ASCII `=` back into an `OsString`.
fn os_from_bytes(bytes: &[u8]) -> OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        OsStr::from_bytes(bytes).to_owned()
    }
    #[cfg(not(unix))]
    {
        OsString::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("sops")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn parse_env(args: &[&str], env: &[(&str, &str)]) -> Result<Parsed, UsageError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup = move |name: &str| {
            env.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        };
        parse_with_env(argv(args), &lookup)
    }

    fn run_env(args: &[&str], env: &[(&str, &str)]) -> Cli {
        match parse_env(args, env) {
            Ok(Parsed::Run(cli)) => cli,
            other => panic!("{args:?}: expected a run, got {other:?}"),
        }
    }

    fn run(args: &[&str]) -> Cli {
        run_env(args, &[])
    }

    fn err(args: &[&str]) -> UsageError {
        match parse_env(args, &[]) {
            Err(e) => e,
            other => panic!("{args:?}: expected an error, got {other:?}"),
        }
    }

    fn help(args: &[&str]) -> String {
        match parse_env(args, &[]) {
            Ok(Parsed::Help(h)) => h.render("9.9.9"),
            other => panic!("{args:?}: expected help, got {other:?}"),
        }
    }

    fn complete(args: &[&str]) -> Vec<String> {
        match parse_env(args, &[]) {
            Ok(Parsed::Complete(lines)) => lines,
            other => panic!("{args:?}: expected completions, got {other:?}"),
        }
    }

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[allow(clippy::unnecessary_wraps)] // compared with `Option<PathBuf>` fields
    fn file(p: &str) -> Option<PathBuf> {
        Some(PathBuf::from(p))
    }

    fn decrypt(cli: Cli) -> DecryptArgs {
        match cli.command {
            Some(Command::Decrypt(a)) => a,
            other => panic!("expected decrypt, got {other:?}"),
        }
    }

    // -- the two invocation styles and Go flag syntax (cli.md §1.1, §1.2)

    #[test]
    fn legacy_decrypt_in_every_spelling() {
        for spelling in [
            "-d",
            "--d",
            "-decrypt",
            "--decrypt",
            "--decrypt=true",
            "-d=1",
            "--d=T",
        ] {
            let cli = run(&[spelling, "f.yaml"]);
            assert!(cli.global.decrypt, "{spelling}");
            assert!(!cli.global.encrypt, "{spelling}");
            assert!(cli.command.is_none(), "{spelling}");
            assert_eq!(cli.file, file("f.yaml"), "{spelling}");
            assert!(cli.extra.is_empty(), "{spelling}");
        }
    }

    #[test]
    fn subcommand_form() {
        let cli = run(&["decrypt", "f.yaml"]);
        assert!(!cli.global.decrypt);
        assert_eq!(cli.file, None);
        let d = decrypt(cli);
        assert_eq!(d.file, file("f.yaml"));
        assert!(d.extra.is_empty());
        assert!(d.key_services.enable_local_keyservice);
        assert!(d.key_services.keyservice.is_empty());
    }

    #[test]
    fn no_arguments_is_the_legacy_action_without_file() {
        let cli = run(&[]);
        assert!(cli.command.is_none());
        assert_eq!(cli.file, None);
    }

    #[test]
    fn version_is_a_file_name_not_a_command() {
        // cli.md §1.1: `sops version` edits a new file called `version`.
        let cli = run(&["version"]);
        assert!(cli.command.is_none());
        assert_eq!(cli.file, file("version"));
    }

    #[test]
    fn value_flags_in_every_spelling() {
        for args in [
            &["--output", "o.json", "-d", "f"][..],
            &["--output=o.json", "-d", "f"],
            &["-output=o.json", "-d", "f"],
            &["-output", "o.json", "-d", "f"],
            &["--output", "x", "--output", "o.json", "-d", "f"],
        ] {
            let cli = run(args);
            assert_eq!(cli.global.output, "o.json", "{args:?}");
            assert!(cli.global.decrypt, "{args:?}");
            assert_eq!(cli.file, file("f"), "{args:?}");
        }
    }

    #[test]
    fn a_value_flag_takes_the_next_word_even_if_it_looks_like_a_flag() {
        let cli = run(&["--output", "-d", "f"]);
        assert_eq!(cli.global.output, "-d");
        assert!(!cli.global.decrypt);
        assert_eq!(cli.global.extract, "");
        assert_eq!(run(&["--extract=", "-d", "f"]).global.extract, "");
    }

    #[test]
    fn booleans_never_take_the_next_word() {
        let cli = run(&["--ignore-mac", "false"]);
        assert!(cli.global.ignore_mac);
        assert_eq!(cli.file, file("false"));
        let d = decrypt(run(&["decrypt", "-i", "f"]));
        assert!(d.in_place);
        assert_eq!(d.file, file("f"));
    }

    #[test]
    fn boolean_values_follow_strconv_parse_bool() {
        for (v, want) in [
            ("1", true),
            ("t", true),
            ("T", true),
            ("TRUE", true),
            ("true", true),
            ("True", true),
            ("0", false),
            ("f", false),
            ("F", false),
            ("FALSE", false),
            ("false", false),
            ("False", false),
        ] {
            let cli = run(&[&format!("--enable-local-keyservice={v}"), "f"]);
            assert_eq!(cli.global.key_services.enable_local_keyservice, want, "{v}");
        }
        let e = err(&["--decrypt=yes", "f"]);
        assert_eq!(
            e.message(),
            "invalid boolean value \"yes\" for -decrypt: parse error"
        );
        assert_eq!(e.exit_code(), 1);
    }

    #[test]
    fn default_true_boolean_can_be_turned_off_at_either_level() {
        let cli = run(&["--enable-local-keyservice=false", "decrypt", "f"]);
        assert!(!cli.global.key_services.enable_local_keyservice);
        assert!(decrypt(cli).key_services.enable_local_keyservice);
        let cli = run(&["decrypt", "--enable-local-keyservice=false", "f"]);
        assert!(cli.global.key_services.enable_local_keyservice);
        assert!(!decrypt(cli).key_services.enable_local_keyservice);
    }

    #[test]
    fn int_flags_use_go_syntax() {
        for (v, want) in [
            ("2", 2),
            ("0x10", 16),
            ("010", 8),
            ("0b11", 3),
            ("-1", -1),
            ("1_0", 10),
            ("0", 0),
        ] {
            assert_eq!(
                run(&["--indent", v, "-d", "f"]).global.indent,
                Some(want),
                "{v}"
            );
        }
        assert_eq!(run(&["-d", "f"]).global.indent, None);
        assert_eq!(
            err(&["--indent", "2x", "-d", "f"]).message(),
            "invalid value \"2x\" for flag -indent: parse error"
        );
        assert_eq!(
            err(&["--indent=99999999999999999999", "f"]).message(),
            "invalid value \"99999999999999999999\" for flag -indent: value out of range"
        );
    }

    #[test]
    fn go_int_parser() {
        for (s, want) in [
            ("0", Ok(0)),
            ("+5", Ok(5)),
            ("-0x1F", Ok(-31)),
            ("0o17", Ok(15)),
            ("0B101", Ok(5)),
            ("1_000", Ok(1000)),
            ("0x_1f", Ok(31)),
            ("9223372036854775807", Ok(i64::MAX)),
            ("-9223372036854775808", Ok(i64::MIN)),
            ("9223372036854775808", Err(GoNumError::Range)),
            ("-9223372036854775809", Err(GoNumError::Range)),
            ("", Err(GoNumError::Syntax)),
            ("+", Err(GoNumError::Syntax)),
            ("0x", Err(GoNumError::Syntax)),
            ("08", Err(GoNumError::Syntax)),
            ("_1", Err(GoNumError::Syntax)),
            ("1_", Err(GoNumError::Syntax)),
            ("1__0", Err(GoNumError::Syntax)),
            (" 1", Err(GoNumError::Syntax)),
            ("1.0", Err(GoNumError::Syntax)),
        ] {
            assert_eq!(parse_go_int(s), want, "{s:?}");
        }
    }

    #[test]
    fn no_bundling_of_short_flags() {
        let e = err(&["-id", "f.yaml"]);
        assert_eq!(e.message(), "flag provided but not defined: -id");
        assert!(e.stdout("v").starts_with(
            "Incorrect Usage. flag provided but not defined: -id\n\nNAME:\n   sops - "
        ));
    }

    #[test]
    fn bad_flag_syntax() {
        assert_eq!(err(&["---d", "f"]).message(), "bad flag syntax: ---d");
        assert_eq!(err(&["-d", "-=", "f"]).message(), "bad flag syntax: -=");
        assert_eq!(
            err(&["decrypt", "---output-type", "json", "f"]).message(),
            "bad flag syntax: ---output-type"
        );
    }

    #[test]
    fn missing_value() {
        let e = err(&["--output"]);
        assert_eq!(e.message(), "flag needs an argument: -output");
        assert!(e
            .stdout("v")
            .starts_with("Incorrect Usage. flag needs an argument: -output\n\n"));
    }

    // -- where flags may appear

    #[test]
    fn command_flags_after_the_file_are_reordered() {
        let d = decrypt(run(&["decrypt", "f.yaml", "--output-type", "json"]));
        assert_eq!(d.types.output_type, "json");
        assert_eq!(d.file, file("f.yaml"));
        assert!(d.extra.is_empty());

        let Some(Command::ExecEnv(e)) =
            run(&["exec-env", "f.yaml", "echo hi", "--pristine"]).command
        else {
            panic!("exec-env");
        };
        assert!(e.pristine);
        assert_eq!(e.file, file("f.yaml"));
        assert_eq!(e.command, Some(OsString::from("echo hi")));
        assert!(e.extra.is_empty());
    }

    #[test]
    fn a_boolean_after_the_file_swallows_the_next_word_position() {
        // cli.md §1.2: `decrypt f.yaml --ignore-mac other` makes `other` the file.
        let d = decrypt(run(&["decrypt", "f.yaml", "--ignore-mac", "other"]));
        assert!(d.ignore_mac);
        assert_eq!(d.file, file("other"));
        assert_eq!(d.extra, os(&["f.yaml"]));
        // A value flag at the very end takes the file as its value.
        let d = decrypt(run(&["decrypt", "f.yaml", "--output"]));
        assert_eq!(d.output, "f.yaml");
        assert_eq!(d.file, None);
    }

    #[test]
    fn unknown_words_after_the_file_stay_positional() {
        let d = decrypt(run(&["decrypt", "f.yaml", "-x"]));
        assert_eq!(d.file, file("f.yaml"));
        assert_eq!(d.extra, os(&["-x"]));
    }

    #[test]
    fn a_reordered_flag_takes_any_non_flag_word_along() {
        // Verified with sops 3.11: the file `-x` is written.
        let d = decrypt(run(&["decrypt", "--output", "-x", "f.yaml"]));
        assert_eq!(d.output, "-x");
        assert_eq!(d.file, file("f.yaml"));
        // `-x` follows `-i` after reordering, so Go's parser meets it.
        assert_eq!(
            err(&["decrypt", "f.yaml", "-i", "-x"]).message(),
            "flag provided but not defined: -x"
        );
        // A flag right after a flag is not its value.
        let d = decrypt(run(&["decrypt", "f.yaml", "-i", "--output-type", "json"]));
        assert!(d.in_place);
        assert_eq!(d.types.output_type, "json");
        assert_eq!(d.file, file("f.yaml"));
    }

    #[test]
    fn legacy_flags_after_the_file_are_positionals() {
        let cli = run(&["--output-type", "json", "-d", "f.yaml", "--ignore-mac"]);
        assert!(!cli.global.ignore_mac);
        assert_eq!(cli.global.types.output_type, "json");
        assert_eq!(cli.file, file("f.yaml"));
        assert_eq!(cli.extra, os(&["--ignore-mac"]));
    }

    #[test]
    fn double_dash() {
        let d = decrypt(run(&["decrypt", "--", "--output-type", "f.yaml"]));
        assert_eq!(d.file, file("--output-type"));
        assert_eq!(d.extra, os(&["f.yaml"]));
        assert_eq!(d.types.output_type, "");

        // urfave moves the `--` in front of the words before it (verified:
        // sops then names `--output-type` in its "looks like a flag" note).
        let d = decrypt(run(&["decrypt", "f.yaml", "--", "--output-type", "json"]));
        assert_eq!(d.file, file("f.yaml"));
        assert_eq!(d.extra, os(&["--output-type", "json"]));
        assert_eq!(d.types.output_type, "");

        let cli = run(&["--", "-d", "f.yaml"]);
        assert!(!cli.global.decrypt);
        assert_eq!(cli.file, file("-d"));
        assert_eq!(cli.extra, os(&["f.yaml"]));

        // Go's flag takes `--` as the value of a value flag.
        let d = decrypt(run(&["decrypt", "--output", "--", "f.yaml"]));
        assert_eq!(d.output, "--");
        assert_eq!(d.file, file("f.yaml"));

        // `-` is a positional, never a flag.
        assert_eq!(decrypt(run(&["decrypt", "-"])).file, file("-"));
        // `--` before a command name still runs the command (urfave checks
        // the first positional).
        assert_eq!(decrypt(run(&["--", "decrypt", "f"])).file, file("f"));
    }

    #[test]
    fn global_flags_before_a_command_are_recorded() {
        let cli = run(&["--config", "c.yaml", "decrypt", "f"]);
        assert_eq!(cli.global.config, "c.yaml");
        assert_eq!(decrypt(cli).file, file("f"));

        let cli = run(&["--indent", "2", "decrypt", "f"]);
        assert_eq!(cli.global.indent, Some(2));
        assert_eq!(decrypt(cli).file, file("f"));

        let cli = run(&["--verbose", "-d", "decrypt", "f"]);
        assert!(cli.global.verbose && cli.global.decrypt);
    }

    #[test]
    fn global_only_flags_after_a_command_are_rejected() {
        for (args, flag) in [
            (&["decrypt", "--indent", "2", "f"][..], "indent"),
            (&["decrypt", "--verbose", "f"], "verbose"),
            (
                &["encrypt", "--mac-only-encrypted", "f"],
                "mac-only-encrypted",
            ),
            (
                &["encrypt", "--encrypted-comment-regex", "x", "f"],
                "encrypted-comment-regex",
            ),
            (&["decrypt", "--config", "c", "f"], "config"),
            (&["decrypt", "-v"], "v"),
        ] {
            let e = err(args);
            assert_eq!(
                e.message(),
                format!("flag provided but not defined: -{flag}"),
                "{args:?}"
            );
            assert_eq!(e.exit_code(), 1);
            let out = e.stdout("v");
            let want = format!(
                "Incorrect Usage: flag provided but not defined: -{flag}\n\nNAME:\n   sops {} - ",
                args[0]
            );
            assert!(out.starts_with(&want), "{out}");
        }
    }

    #[test]
    fn two_forms_of_the_same_flag() {
        let e = err(&["-d", "--decrypt", "f"]);
        assert_eq!(
            e.message(),
            "Cannot use two forms of the same flag: d decrypt"
        );
        assert!(e
            .stdout("v")
            .starts_with("Cannot use two forms of the same flag: d decrypt\nNAME:\n   sops - "));

        let e = err(&["decrypt", "-i", "--in-place", "f"]);
        assert_eq!(
            e.message(),
            "Cannot use two forms of the same flag: i in-place"
        );
        assert!(e
            .stdout("v")
            .starts_with("Incorrect Usage: Cannot use two forms of the same flag: i in-place\n\nNAME:\n   sops decrypt - "));

        let e = err(&["keyservice", "--network", "a", "--net", "b"]);
        assert_eq!(
            e.message(),
            "Cannot use two forms of the same flag: net network"
        );
        let e = err(&["-v", "--version"]);
        assert_eq!(
            e.message(),
            "Cannot use two forms of the same flag: v version"
        );
        let e = err(&["groups", "-h", "--help"]);
        assert_eq!(e.message(), "Cannot use two forms of the same flag: h help");
        assert!(e.stdout("v").starts_with(
            "Cannot use two forms of the same flag: h help\n\nNAME:\n   sops groups - "
        ));
        // The same spelling twice is fine.
        assert!(run(&["-d", "-d", "f"]).global.decrypt);
    }

    // -- legacy form

    #[test]
    fn legacy_encrypt_with_age() {
        let cli = run(&["-e", "--age", "age1xyz", "file.yaml"]);
        assert!(cli.global.encrypt);
        assert_eq!(cli.global.keys.age, "age1xyz");
        assert_eq!(cli.file, file("file.yaml"));
    }

    #[test]
    fn legacy_globals_reach_their_fields() {
        let cli = run(&[
            "-r",
            "-i",
            "--add-age",
            "a1",
            "--rm-pgp",
            "FP",
            "--set",
            "[\"a\"] 1",
            "-s",
            "--unencrypted-comment-regex",
            "u",
            "--shamir-secret-sharing-threshold",
            "2",
            "--filename-override",
            "x.json",
            "--mac-only-encrypted",
            "--encrypted-regex",
            "^e",
            "--check-for-updates",
            "file",
        ]);
        let g = &cli.global;
        assert!(
            g.rotate
                && g.in_place
                && g.show_master_keys
                && g.mac_only_encrypted
                && g.check_for_updates
        );
        assert_eq!(g.rotate_keys.add_age, "a1");
        assert_eq!(g.rotate_keys.rm_pgp, "FP");
        assert_eq!(g.set.expose(), "[\"a\"] 1");
        assert_eq!(g.unencrypted_comment_regex, "u");
        assert_eq!(g.shamir_secret_sharing_threshold, 2);
        assert_eq!(g.filename_override, "x.json");
        assert_eq!(g.selection.encrypted_regex, "^e");
        assert_eq!(cli.file, file("file"));
    }

    // -- commands

    #[test]
    fn set_positionals() {
        let Some(Command::Set(s)) = run(&["set", "f.yaml", "[\"a\"]", "\"v\""]).command else {
            panic!("set");
        };
        assert_eq!(s.file, file("f.yaml"));
        assert_eq!(s.index.as_deref(), Some("[\"a\"]"));
        assert_eq!(s.value.as_ref().map(Redacted::expose), Some("\"v\""));
        assert_eq!(s.positional_count(), 3);

        let Some(Command::Set(s)) =
            run(&["set", "--value-stdin", "--idempotent", "f.yaml", "[\"a\"]"]).command
        else {
            panic!("set");
        };
        assert!(s.value_stdin && s.idempotent);
        assert_eq!(s.value, None);
        assert_eq!(s.positional_count(), 2);

        // The reordering quirk: a trailing boolean pulls the next word (the
        // file) along, so the second boolean is read as a positional (sops
        // 3.11 then fails with exit 100, verified).
        let Some(Command::Set(s)) =
            run(&["set", "--value-stdin", "f.yaml", "[\"a\"]", "--idempotent"]).command
        else {
            panic!("set");
        };
        assert!(s.value_stdin && !s.idempotent);
        assert_eq!(s.index.as_deref(), Some("--idempotent"));
        assert_eq!(s.positional_count(), 3);
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let cli = run(&["set", "f.yaml", "[\"a\"]", "\"hunter2\""]);
        assert!(!format!("{cli:?}").contains("hunter2"));
        let cli = run(&["--set", "[\"a\"] \"hunter2\"", "f.yaml"]);
        assert!(!format!("{cli:?}").contains("hunter2"));
        assert_eq!(format!("{:?}", Redacted::default()), "\"\"");
    }

    #[test]
    fn unset_positionals() {
        let Some(Command::Unset(u)) = run(&["unset", "--idempotent", "f.yaml", "[0]"]).command
        else {
            panic!("unset");
        };
        assert!(u.idempotent);
        assert_eq!(u.index.as_deref(), Some("[0]"));
        assert_eq!(u.positional_count(), 2);
    }

    #[test]
    fn groups_add_and_delete() {
        let cli = run(&[
            "groups", "add", "--file", "f.yaml", "--age", "X", "--age", "Y,Z", "-i", "--kms", "arn",
        ]);
        let Some(Command::Groups(GroupsArgs {
            command: GroupsCommand::Add(a),
        })) = cli.command
        else {
            panic!("groups add");
        };
        assert_eq!(a.file, "f.yaml");
        assert_eq!(a.age, ["X", "Y,Z"]);
        assert_eq!(a.kms, ["arn"]);
        assert!(a.pgp.is_empty());
        assert!(a.in_place);
        assert!(a.args.is_empty());

        let cli = run(&[
            "groups",
            "delete",
            "-f",
            "f.yaml",
            "1",
            "--shamir-secret-sharing-threshold",
            "2",
        ]);
        let Some(Command::Groups(GroupsArgs {
            command: GroupsCommand::Delete(d),
        })) = cli.command
        else {
            panic!("groups delete");
        };
        assert_eq!(d.file, "f.yaml");
        assert_eq!(d.args, os(&["1"]));
        assert_eq!(d.shamir_secret_sharing_threshold, 2);
    }

    #[test]
    #[allow(clippy::many_single_char_names)]
    fn other_commands() {
        let Some(Command::Encrypt(e)) =
            run(&["encrypt", "--age", "A", "--filename-override", "x.yaml"]).command
        else {
            panic!("encrypt");
        };
        assert_eq!(
            (e.keys.age.as_str(), e.filename_override.as_str(), e.file),
            ("A", "x.yaml", None)
        );

        let Some(Command::Rotate(r)) = run(&["rotate", "-i", "--add-age", "A", "f"]).command else {
            panic!("rotate");
        };
        assert!(r.in_place);
        assert_eq!(r.rotate_keys.add_age, "A");

        let Some(Command::Edit(e)) = run(&["edit", "f", "-s", "--ignore-mac"]).command else {
            panic!("edit");
        };
        assert!(e.show_master_keys && e.ignore_mac);

        let Some(Command::Updatekeys(u)) = run(&["updatekeys", "-y", "a.yaml", "b.yaml"]).command
        else {
            panic!("updatekeys");
        };
        assert!(u.yes);
        assert_eq!(u.files, [PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]);

        let Some(Command::ExecFile(x)) = run(&[
            "exec-file",
            "--no-fifo",
            "--filename",
            "n.env",
            "f",
            "cat {}",
        ])
        .command
        else {
            panic!("exec-file");
        };
        assert!(x.no_fifo);
        assert_eq!(x.filename, "n.env");
        assert_eq!(x.command, Some(OsString::from("cat {}")));

        let Some(Command::Keyservice(k)) = run(&["keyservice"]).command else {
            panic!("keyservice")
        };
        assert_eq!(
            (k.network.as_str(), k.address.as_str()),
            ("tcp", "127.0.0.1:5000")
        );
        let Some(Command::Keyservice(k)) =
            run(&["keyservice", "--net", "unix", "--addr=/tmp/s"]).command
        else {
            panic!("keyservice")
        };
        assert_eq!((k.network.as_str(), k.address.as_str()), ("unix", "/tmp/s"));

        let Some(Command::Publish(p)) =
            run(&["--verbose", "publish", "-y", "--recursive", "dir"]).command
        else {
            panic!("publish");
        };
        assert!(p.yes && p.recursive && !p.verbose);

        let Some(Command::Filestatus(f)) =
            run(&["filestatus", "--input-type", "json", "f"]).command
        else {
            panic!("filestatus");
        };
        assert_eq!(f.input_type, "json");

        let Some(Command::Completion(c)) = run(&["completion", "zsh"]).command else {
            panic!("completion")
        };
        assert!(completion_script(&c.shell).starts_with("\n#compdef sops\n"));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_file_names_survive() {
        use std::os::unix::ffi::OsStrExt;
        let name = OsStr::from_bytes(b"f\xff.yaml").to_owned();
        let args = vec![
            OsString::from("sops"),
            OsString::from("decrypt"),
            name.clone(),
        ];
        let Ok(Parsed::Run(cli)) = parse_with_env(args, &|_| None) else {
            panic!("run")
        };
        assert_eq!(decrypt(cli).file, Some(PathBuf::from(name)));
    }

    // -- environment (cli.md §1.3)

    #[test]
    fn env_fallbacks_at_both_levels() {
        let env = [
            ("SOPS_AGE_RECIPIENTS", "age1env"),
            ("SOPS_PGP_FP", "FP"),
            ("SOPS_KMS_ARN", "arn"),
            ("SOPS_GCP_KMS_IDS", "gcp"),
            ("SOPS_AZURE_KEYVAULT_URLS", "az"),
            ("SOPS_VAULT_URIS", "vault"),
            ("SOPS_HUAWEICLOUD_KMS_IDS", "hc"),
            ("SOPS_DECRYPTION_ORDER", "pgp,age"),
            ("SOPS_CONFIG", "cfg.yaml"),
        ];
        let cli = run_env(&["encrypt", "f"], &env);
        let g = &cli.global;
        assert_eq!(g.keys.age, "age1env");
        assert_eq!(g.config, "cfg.yaml");
        assert_eq!(g.order.decryption_order, "pgp,age");
        let Some(Command::Encrypt(e)) = cli.command else {
            panic!("encrypt")
        };
        let k = &e.keys;
        assert_eq!(
            [
                &k.age,
                &k.pgp,
                &k.kms,
                &k.gcp_kms,
                &k.azure_kv,
                &k.hc_vault_transit,
                &k.hckms
            ],
            ["age1env", "FP", "arn", "gcp", "az", "vault", "hc"]
        );
        // The command line wins over the variable.
        let Some(Command::Encrypt(e)) =
            run_env(&["encrypt", "--age", "age1cli", "f"], &env).command
        else {
            panic!("encrypt")
        };
        assert_eq!(e.keys.age, "age1cli");
        assert_eq!(
            run_env(&["-a", "age1cli", "f"], &env).global.keys.age,
            "age1cli"
        );
        assert_eq!(
            decrypt(run_env(&["decrypt", "f"], &env))
                .order
                .decryption_order,
            "pgp,age"
        );
    }

    #[test]
    fn boolean_env_vars() {
        let on = |v: &str| {
            decrypt(run_env(
                &["decrypt", "f"],
                &[("SOPS_ENABLE_LOCAL_KEYSERVICE", v)],
            ))
            .key_services
            .enable_local_keyservice
        };
        assert!(on("true"));
        assert!(on("1"));
        assert!(!on("0"));
        assert!(
            !on(""),
            "empty disables the local key service (cli.md §1.3)"
        );
        assert!(
            run(&["decrypt", "f"])
                .global
                .key_services
                .enable_local_keyservice
        );

        for args in [
            &["--help"][..],
            &["decrypt", "f"],
            &["--generate-bash-completion"],
        ] {
            let e = parse_env(args, &[("SOPS_ENABLE_LOCAL_KEYSERVICE", "bogus")]).unwrap_err();
            assert_eq!(
                e.message(),
                "could not parse bogus as bool value for flag enable-local-keyservice: strconv.ParseBool: parsing \"bogus\": invalid syntax"
            );
            assert_eq!(e.exit_code(), 1);
            assert_eq!(e.stdout("v"), "");
            assert!(!e.is_exit_error());
        }
        let Ok(Parsed::Version(g)) =
            parse_env(&["--version"], &[("SOPS_DISABLE_VERSION_CHECK", "1")])
        else {
            panic!("version")
        };
        assert!(g.disable_version_check && !g.check_for_updates);
    }

    #[test]
    fn keyservice_lists() {
        let env = [("SOPS_KEYSERVICE", " tcp://a:1 , ,unix:///s")];
        let d = decrypt(run_env(&["decrypt", "f"], &env));
        assert_eq!(d.key_services.keyservice, ["tcp://a:1", "", "unix:///s"]);
        // Command-line values replace the variable's, and accumulate.
        let d = decrypt(run_env(
            &[
                "decrypt",
                "--keyservice",
                "tcp://b:2",
                "--keyservice=tcp://c:3",
                "f",
            ],
            &env,
        ));
        assert_eq!(d.key_services.keyservice, ["tcp://b:2", "tcp://c:3"]);
        let cli = run_env(&["--keyservice", "tcp://g:1", "-d", "f"], &env);
        assert_eq!(cli.global.key_services.keyservice, ["tcp://g:1"]);
    }

    // -- help and version (cli.md §1.6)

    #[test]
    fn help_requests() {
        let app = help(&["--help"]);
        assert!(app.starts_with("NAME:\n   sops - sops - encrypted file editor"));
        assert!(app.contains("\n\nVERSION:\n   9.9.9\n\nAUTHOR:\n   CNCF Maintainers\n\nCOMMANDS:\n   completion  Generate"));
        assert!(app.contains("\n   --decrypt, -d                            decrypt a file and output the result to stdout\n"));
        assert!(app.contains("\n   --kms value, -k value                    comma separated list of KMS ARNs [$SOPS_KMS_ARN]\n"));
        assert!(app.ends_with("\n   --help, -h                               show help\n   --version, -v                            print the version\n"));
        for args in [
            &["-h"][..],
            &["help"],
            &["h"],
            &["-help"],
            &["-h", "-v"],
            &["--help", "decrypt"],
        ] {
            assert_eq!(help(args), app, "{args:?}");
        }
        let d = help(&["decrypt", "--help"]);
        assert!(d.starts_with("NAME:\n   sops decrypt - decrypt a file"));
        assert_eq!(help(&["help", "decrypt"]), d);
        assert_eq!(help(&["decrypt", "f.yaml", "-h"]), d);
        assert!(
            help(&["groups"]).contains("\nCOMMANDS:\n   add     add a new group to a SOPS file\n")
        );
        assert!(help(&["completion"]).contains("\n   bash  Generate bash completions."));
    }

    #[test]
    fn command_help_page_is_byte_exact() {
        assert_eq!(
            help(&["keyservice", "--help"]),
            concat!(
                "NAME:\n",
                "   sops keyservice - start a SOPS key service server\n",
                "\n",
                "USAGE:\n",
                "   sops keyservice [command options] [arguments...]\n",
                "\n",
                "OPTIONS:\n",
                "   --network value, --net value   network to listen on, e.g. 'tcp' or 'unix' (default: \"tcp\")\n",
                "   --address value, --addr value  address to listen on, e.g. '127.0.0.1:5000' or '/tmp/sops.sock' (default: \"127.0.0.1:5000\")\n",
                "   --prompt                       Prompt user to confirm every incoming request\n",
                "   --verbose                      Enable verbose logging output\n",
                "   \n",
            )
        );
        assert_eq!(
            help(&["help", "help"]),
            "NAME:\n    - Shows a list of commands or help for one command\n\nUSAGE:\n    [command]\n"
        );
        assert_eq!(
            help(&["help", "groups"]),
            "NAME:\n   sops groups - modify the groups on a SOPS file\n\nUSAGE:\n   sops groups [arguments...]\n"
        );
        assert_eq!(
            help(&["groups", "help"]),
            concat!(
                "NAME:\n   sops groups - modify the groups on a SOPS file\n\n",
                "USAGE:\n   sops groups [global options] command [command options] [arguments...]\n\n",
                "VERSION:\n   9.9.9\n\n",
                "COMMANDS:\n   add     add a new group to a SOPS file\n   delete  delete a key group from a SOPS file\n\n",
                "GLOBAL OPTIONS:\n   --help, -h  show help\n",
            )
        );
    }

    #[test]
    fn command_help_uses_the_program_name() {
        let args = vec![
            OsString::from("/usr/bin/mysops"),
            OsString::from("decrypt"),
            OsString::from("-h"),
        ];
        let Ok(Parsed::Help(h)) = parse_with_env(args, &|_| None) else {
            panic!("help")
        };
        let text = h.render("1");
        assert!(
            text.contains("\n   mysops decrypt [command options] [file]\n"),
            "{text}"
        );
    }

    #[test]
    fn unknown_help_topics_exit_3() {
        for (args, topic) in [
            (&["help", "foo"][..], "foo"),
            (&["groups", "foo"], "foo"),
            (&["completion", "fish"], "fish"),
        ] {
            let e = err(args);
            assert_eq!(e.message(), format!("No help topic for '{topic}'"));
            assert_eq!(e.exit_code(), 3);
            assert!(e.is_exit_error());
            assert_eq!(e.stdout("v"), "");
        }
    }

    #[test]
    fn version_requests() {
        for args in [
            &["--version"][..],
            &["-v"],
            &["-version", "extra"],
            &["--version=1"],
        ] {
            assert!(
                matches!(parse_env(args, &[]), Ok(Parsed::Version(_))),
                "{args:?}"
            );
        }
        assert!(matches!(
            parse_env(&["--version=false"], &[]),
            Ok(Parsed::Run(_))
        ));
        let Ok(Parsed::Version(g)) = parse_env(&["--check-for-updates", "-v"], &[]) else {
            panic!("version")
        };
        assert!(g.check_for_updates);
    }

    // -- completion protocol

    #[test]
    fn completions() {
        let all = complete(&["--generate-bash-completion"]);
        assert_eq!(all.first().map(String::as_str), Some("completion"));
        assert_eq!(all[all.len() - 3..], ["unset", "help", "h"]);
        assert_eq!(
            complete(&["groups", "--generate-bash-completion"]),
            ["add", "delete", "help", "h"]
        );
        assert_eq!(
            complete(&["decrypt", "--i", "--generate-bash-completion"]),
            [
                "--in-place",
                "--input-type",
                "--ignore-mac",
                "--indent",
                "--in-place",
                "--input-type",
                "--ignore-mac"
            ]
        );
        assert_eq!(
            complete(&["-i", "--generate-bash-completion"]),
            ["--input-type", "--ignore-mac", "--indent"]
        );
        assert_eq!(
            complete(&["keyservice", "--n", "--generate-bash-completion"]),
            ["--network", "--net"]
        );
        assert_eq!(
            complete(&["groups", "add", "--h", "--generate-bash-completion"]),
            ["--help", "--hckms", "--hc-vault-transit"]
        );
        assert!(complete(&["decrypt", "--generate-bash-completion"]).is_empty());
        assert!(complete(&["decrypt", "--bogus", "x", "--generate-bash-completion"]).is_empty());
        // Not last: an ordinary unknown flag.
        assert_eq!(
            err(&["-d", "--generate-bash-completion", "x"]).message(),
            "flag provided but not defined: -generate-bash-completion"
        );
        let zsh = parse_env(
            &["groups", "--generate-bash-completion"],
            &[("_CLI_ZSH_AUTOCOMPLETE_HACK", "1")],
        );
        let Ok(Parsed::Complete(lines)) = zsh else {
            panic!("complete")
        };
        assert_eq!(lines[0], "add:add a new group to a SOPS file");
    }

    // -- the passes themselves

    #[test]
    fn canonical_argv() {
        let n = normalize_with_env(argv(&["-decrypt", "--output", "o", "f", "--x"]), &|_| None)
            .unwrap();
        assert!(matches!(n.action, Action::Run));
        assert_eq!(
            n.argv,
            os(&["sops", "--decrypt=true", "--output=o", "--", "f", "--x"])
        );

        let n = normalize_with_env(
            argv(&["--config=c", "groups", "add", "a", "--age", "X"]),
            &|_| None,
        )
        .unwrap();
        assert_eq!(
            n.argv,
            os(&["sops", "--config=c", "groups", "add", "--age=X", "--", "a"])
        );
    }

    #[test]
    fn reorder_matches_urfave() {
        let flags = flag_table(subcommand(&clap_root(), &["decrypt"]), &[Builtin::Help]);
        let r = |a: &[&str]| reorder(&flags, &os(a));
        assert_eq!(
            r(&["f", "--output-type", "json"]),
            os(&["--output-type", "json", "f"])
        );
        assert_eq!(
            r(&["f", "--output-type=json", "x"]),
            os(&["--output-type=json", "f", "x"])
        );
        assert_eq!(r(&["--output", "-x", "f"]), os(&["--output", "-x", "f"]));
        assert_eq!(r(&["f", "-i", "-x"]), os(&["-i", "-x", "f"]));
        assert_eq!(
            r(&["f", "-i", "--output", "o"]),
            os(&["-i", "--output", "o", "f"])
        );
        assert_eq!(r(&["f", "--", "-i"]), os(&["--", "f", "-i"]));
        assert_eq!(
            r(&["f", "--output", "--", "x"]),
            os(&["--output", "--", "f", "x"])
        );
        assert_eq!(r(&["f", "---in-place"]), os(&["---in-place", "f"]));
    }

    #[test]
    fn tabwriter_aligns_consecutive_cells_only() {
        assert_eq!(
            tabwrite("a\tx\nlong\ty\n\nb\tz\nno tab"),
            "a     x\nlong  y\n\nb  z\nno tab"
        );
    }

    #[test]
    #[allow(clippy::too_many_lines)] // one table
    fn every_command_declares_sops_flags_in_order() {
        fn cat<'a>(parts: &[&[&'a str]]) -> Vec<&'a str> {
            parts.concat()
        }
        // Long names as sops 3.11's help lists them (cli.md §4).
        let ks = ["enable-local-keyservice", "keyservice"];
        let keys = [
            "kms",
            "aws-profile",
            "gcp-kms",
            "hckms",
            "azure-kv",
            "hc-vault-transit",
            "pgp",
            "age",
        ];
        let types = ["input-type", "output-type"];
        let sel = [
            "unencrypted-suffix",
            "encrypted-suffix",
            "unencrypted-regex",
            "encrypted-regex",
        ];
        let rot = [
            "add-gcp-kms",
            "rm-gcp-kms",
            "add-hckms",
            "rm-hckms",
            "add-azure-kv",
            "rm-azure-kv",
            "add-kms",
            "rm-kms",
            "add-hc-vault-transit",
            "rm-hc-vault-transit",
            "add-age",
            "rm-age",
            "add-pgp",
            "rm-pgp",
        ];
        let table: Vec<(&[&str], Vec<&str>)> = vec![
            (
                &["encrypt"],
                cat(&[
                    &["in-place", "output"],
                    &keys,
                    &types,
                    &sel,
                    &[
                        "encryption-context",
                        "shamir-secret-sharing-threshold",
                        "filename-override",
                    ],
                    &ks,
                ]),
            ),
            (
                &["decrypt"],
                cat(&[
                    &["in-place", "extract", "output"],
                    &types,
                    &["ignore-mac", "filename-override", "decryption-order"],
                    &ks,
                ]),
            ),
            (
                &["rotate"],
                cat(&[
                    &["in-place", "output"],
                    &types,
                    &["encryption-context"],
                    &rot,
                    &["filename-override", "decryption-order"],
                    &ks,
                ]),
            ),
            (
                &["edit"],
                cat(&[
                    &keys,
                    &types,
                    &sel,
                    &[
                        "encryption-context",
                        "shamir-secret-sharing-threshold",
                        "show-master-keys",
                        "ignore-mac",
                        "decryption-order",
                    ],
                    &ks,
                ]),
            ),
            (
                &["set"],
                cat(&[
                    &types,
                    &[
                        "value-file",
                        "value-stdin",
                        "shamir-secret-sharing-threshold",
                        "ignore-mac",
                        "decryption-order",
                        "idempotent",
                    ],
                    &ks,
                ]),
            ),
            (
                &["unset"],
                cat(&[
                    &types,
                    &[
                        "shamir-secret-sharing-threshold",
                        "ignore-mac",
                        "decryption-order",
                        "idempotent",
                    ],
                    &ks,
                ]),
            ),
            (&["updatekeys"], cat(&[&["yes", "input-type"], &ks])),
            (
                &["exec-env"],
                cat(&[
                    &[
                        "background",
                        "pristine",
                        "user",
                        "same-process",
                        "decryption-order",
                    ],
                    &ks,
                ]),
            ),
            (
                &["exec-file"],
                cat(&[
                    &[
                        "background",
                        "no-fifo",
                        "user",
                        "input-type",
                        "output-type",
                        "filename",
                        "decryption-order",
                    ],
                    &ks,
                ]),
            ),
            (&["filestatus"], vec!["input-type"]),
            (
                &["keyservice"],
                vec!["network", "address", "prompt", "verbose"],
            ),
            (
                &["publish"],
                cat(&[
                    &[
                        "yes",
                        "omit-extensions",
                        "recursive",
                        "verbose",
                        "decryption-order",
                    ],
                    &ks,
                ]),
            ),
            (
                &["groups", "add"],
                cat(&[
                    &[
                        "file",
                        "pgp",
                        "kms",
                        "aws-profile",
                        "gcp-kms",
                        "hckms",
                        "azure-kv",
                        "hc-vault-transit",
                        "age",
                        "in-place",
                        "shamir-secret-sharing-threshold",
                        "encryption-context",
                    ],
                    &ks,
                ]),
            ),
            (
                &["groups", "delete"],
                cat(&[
                    &["file", "in-place", "shamir-secret-sharing-threshold"],
                    &ks,
                ]),
            ),
            (
                &[],
                cat(&[
                    &[
                        "decrypt",
                        "encrypt",
                        "rotate",
                        "disable-version-check",
                        "check-for-updates",
                    ],
                    &keys,
                    &["in-place", "extract"],
                    &types,
                    &["show-master-keys"],
                    &rot,
                    &["ignore-mac", "mac-only-encrypted"],
                    &sel,
                    &[
                        "unencrypted-comment-regex",
                        "encrypted-comment-regex",
                        "config",
                        "encryption-context",
                        "set",
                        "shamir-secret-sharing-threshold",
                        "indent",
                        "verbose",
                        "output",
                        "filename-override",
                        "decryption-order",
                    ],
                    &ks,
                ]),
            ),
        ];
        let clap = clap_root();
        for (path, want) in table {
            let got: Vec<String> = flag_table(subcommand(&clap, path), &[])
                .into_iter()
                .map(|f| f.names[0].clone())
                .collect();
            assert_eq!(got, want, "{path:?}");
        }
    }
}
