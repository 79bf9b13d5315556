//! Parsing the command line: a pure function of argv and the environment, so unit tests can
//! cover it.
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::config::layout::StateDir;
use crate::config::options::{
    Action, Command, DEFAULT_BACKUP_COUNT, DEFAULT_EXPIRY_WARNING_DAYS, DEFAULT_LOCK_TIMEOUT,
    DEFAULT_STATE_DIR, MAX_EXPIRY_WARNING_DAYS, OnFailure, Options, StatusFormat,
};
use crate::util::outcome::usage;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cli {
    pub command: Command,
    pub options: Options,
}

/// The options that take a value: (flag, environment variable).
const VALUE_OPTIONS: [(&str, &str); 10] = [
    ("--state-dir", "TAILSCALE_MANAGER_STATE_DIR"),
    ("--config", "TAILSCALE_MANAGER_CONFIG"),
    ("--terraform", "TAILSCALE_MANAGER_TERRAFORM_BIN"),
    ("--backup-count", "TAILSCALE_MANAGER_BACKUP_COUNT"),
    ("--credentials", "TAILSCALE_MANAGER_CREDENTIALS_FILE"),
    ("--on-failure", "TAILSCALE_MANAGER_ON_FAILURE"),
    ("--lock-timeout", "TAILSCALE_MANAGER_LOCK_TIMEOUT"),
    // Read by `status` only, like --config is read by init, plan and apply only.
    ("--expiry-warning", "TAILSCALE_MANAGER_EXPIRY_WARNING_DAYS"),
    // Read only when the installed config has a remote backend (`terraform.backend`).
    ("--workspace", "TAILSCALE_MANAGER_WORKSPACE"),
    (
        "--pg-connection-file",
        "TAILSCALE_MANAGER_PG_CONNECTION_FILE",
    ),
];

/// Parses arguments (without the program name). `env` looks up environment variables, so
/// tests can pass a fixed environment.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Cli> {
    let mut flags: [Option<OsString>; VALUE_OPTIONS.len()] = Default::default();
    let mut format: Option<(StatusFormat, String)> = None;
    let mut words: Vec<OsString> = Vec::new();
    let mut help = false;
    let mut version = false;
    let mut force = false;
    let mut args = args.into_iter();
    let mut only_words = false;

    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if only_words || !text.starts_with('-') || text == "-" {
            words.push(arg);
            continue;
        }
        let (name, inline) = match text.split_once('=') {
            Some((name, _)) if name.starts_with("--") => {
                (name.to_string(), Some(value_after_eq(&arg)))
            }
            _ => (text.to_string(), None),
        };
        if let Some(i) = VALUE_OPTIONS.iter().position(|(flag, _)| *flag == name) {
            let value = match inline {
                Some(value) => value,
                None => args.next().ok_or_else(|| {
                    usage(format!(
                        "option '{name}' needs a value (see tailscale-manager --help)"
                    ))
                })?,
            };
            // An empty value is a mistake (`--state-dir \"$UNSET\"`), never the current
            // directory or "unset": leaving the option out means unset.
            if value.is_empty() {
                return Err(usage(format!(
                    "option '{name}' needs a non-empty value; to leave it unset, leave it out \
                     (see tailscale-manager --help)"
                )));
            }
            flags[i] = Some(value);
            continue;
        }
        if inline.is_some() {
            return Err(usage(format!(
                "option '{name}' takes no value (see tailscale-manager --help)"
            )));
        }
        let status_format = match name.as_str() {
            "--help" | "-h" => {
                help = true;
                continue;
            }
            "--version" | "-V" => {
                version = true;
                continue;
            }
            "--" => {
                only_words = true;
                continue;
            }
            "--force" => {
                force = true;
                continue;
            }
            "--json" => StatusFormat::Json,
            "--waybar" => StatusFormat::Waybar,
            "--prometheus" => StatusFormat::Prometheus,
            "--oneline" => StatusFormat::Oneline,
            _ => {
                return Err(usage(format!(
                    "unknown option '{name}' (see tailscale-manager --help)"
                )));
            }
        };
        if let Some((_, previous)) = &format
            && *previous != name
        {
            return Err(usage(format!(
                "'{previous}' and '{name}' cannot be combined; pick one status format"
            )));
        }
        format = Some((status_format, name));
    }

    let options = resolve_options(flags, &env)?;
    let command = if help {
        Command::Help
    } else if version {
        Command::Version
    } else {
        command_from_words(words)?
    };
    if let Some((_, flag)) = &format
        && !matches!(command, Command::Status(_))
    {
        return Err(usage(format!(
            "'{flag}' only applies to the status command (see tailscale-manager --help)"
        )));
    }
    let command = match (command, format) {
        (Command::Status(_), Some((format, _))) => Command::Status(format),
        (command, _) => command,
    };
    let command = match command {
        Command::RestoreState { file, .. } => Command::RestoreState { file, force },
        _ if force => {
            return Err(usage(
                "'--force' only applies to restore-state (see tailscale-manager --help)",
            ));
        }
        command => command,
    };
    Ok(Cli { command, options })
}

fn value_after_eq(arg: &OsStr) -> OsString {
    use std::os::unix::ffi::OsStrExt;
    let bytes = arg.as_bytes();
    let eq = bytes.iter().position(|b| *b == b'=').unwrap_or(bytes.len());
    OsStr::from_bytes(&bytes[(eq + 1).min(bytes.len())..]).to_os_string()
}

fn command_from_words(words: Vec<OsString>) -> Result<Command> {
    let mut words = words.into_iter();
    let Some(first) = words.next() else {
        return Err(usage("no command given (see tailscale-manager --help)"));
    };
    let rest: Vec<OsString> = words.collect();
    let name = first.to_string_lossy().into_owned();
    let command = match name.as_str() {
        "init" => Command::Init,
        "plan" => Command::Plan,
        "apply" => Command::Action(Action::Apply),
        "destroy" => Command::Action(Action::Destroy),
        "status" => Command::Status(StatusFormat::Human),
        "backup-state" => Command::BackupState,
        "version" => Command::Version,
        "help" => Command::Help,
        "restore-state" => {
            if rest.len() > 1 {
                return Err(usage(
                    "restore-state takes at most one FILE (see tailscale-manager --help)",
                ));
            }
            if rest.first().is_some_and(|file| file.is_empty()) {
                return Err(usage(
                    "restore-state FILE is empty; name a state file, or leave FILE out for the \
                     newest backup",
                ));
            }
            return Ok(Command::RestoreState {
                file: rest.into_iter().next().map(PathBuf::from),
                force: false,
            });
        }
        _ => {
            return Err(usage(format!(
                "unknown command '{name}' (see tailscale-manager --help)"
            )));
        }
    };
    if let Some(extra) = rest.first() {
        return Err(usage(format!(
            "unexpected argument '{}' for {name} (see tailscale-manager --help)",
            extra.to_string_lossy()
        )));
    }
    Ok(command)
}

/// Where an option's value came from, for error messages.
struct Setting {
    value: OsString,
    source: String,
}

fn resolve_options(
    flags: [Option<OsString>; VALUE_OPTIONS.len()],
    env: &impl Fn(&str) -> Option<OsString>,
) -> Result<Options> {
    let mut settings = flags
        .into_iter()
        .zip(VALUE_OPTIONS)
        .map(|(flag, (name, var))| {
            match flag {
                Some(value) => Some(Setting {
                    value,
                    source: name.to_string(),
                }),
                // An empty environment variable counts as unset (systemd units often set VAR=).
                None => env(var).filter(|v| !v.is_empty()).map(|value| Setting {
                    value,
                    source: var.to_string(),
                }),
            }
        });
    let mut next = || settings.next().flatten();
    let path = |s: Option<Setting>| s.map(|s| PathBuf::from(s.value));
    let state_dir = StateDir::new(path(next()).unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR)));
    let config = path(next());
    let terraform = path(next());
    let backup_count = match next() {
        None => DEFAULT_BACKUP_COUNT,
        Some(s) => parse_number(&s, 1, 1000, "an integer from 1 to 1000")? as usize,
    };
    let credentials = path(next());
    let on_failure = match next() {
        None => None,
        Some(s) => match s.value.to_str() {
            Some("restore") => Some(OnFailure::Restore),
            Some("keep") => Some(OnFailure::Keep),
            _ => {
                return Err(usage(format!(
                    "{} must be 'restore' or 'keep', got '{}'",
                    s.source,
                    s.value.to_string_lossy()
                )));
            }
        },
    };
    let lock_timeout = match next() {
        None => DEFAULT_LOCK_TIMEOUT,
        Some(s) => Duration::from_secs(parse_number(
            &s,
            0,
            u32::MAX as u64,
            "a whole number of seconds",
        )?),
    };
    let expiry_warning_days = match next() {
        None => DEFAULT_EXPIRY_WARNING_DAYS,
        Some(s) => parse_number(
            &s,
            0,
            u64::from(MAX_EXPIRY_WARNING_DAYS),
            &format!("a whole number of days from 0 to {MAX_EXPIRY_WARNING_DAYS}"),
        )? as u32,
    };
    let workspace = next().map(workspace_name).transpose()?;
    let pg_connection = path(next());
    Ok(Options {
        state_dir,
        config,
        terraform,
        backup_count,
        credentials,
        on_failure,
        lock_timeout,
        expiry_warning_days,
        workspace,
        pg_connection,
    })
}

/// A terraform workspace name, by the rule the NixOS module's `stateBackend.pg.workspace` has:
/// a letter or digit, then letters, digits, `_`, `.` or `-`.
fn workspace_name(s: Setting) -> Result<String> {
    let name = s.value.to_str().unwrap_or_default();
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        return Err(usage(format!(
            "{} must be a terraform workspace name (a letter or digit, then letters, digits, \
             '_', '.' or '-'), got '{}'",
            s.source,
            s.value.to_string_lossy()
        )));
    }
    Ok(name.to_string())
}

fn parse_number(s: &Setting, min: u64, max: u64, what: &str) -> Result<u64> {
    s.value
        .to_str()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            usage(format!(
                "{} must be {what}, got '{}'",
                s.source,
                s.value.to_string_lossy()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::outcome::is_usage;
    use std::collections::HashMap;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Cli> {
        let env: HashMap<String, OsString> = env
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        parse(args.iter().map(OsString::from), move |name| {
            env.get(name).cloned()
        })
    }

    /// (arguments, environment, the usage error they give)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

    /// Each case's arguments and environment give exactly its usage error.
    fn assert_usage_errors(cases: &[Case]) {
        for (args, env, expected) in cases {
            let err = parse_with(args, env).expect_err("expected a usage error");
            assert!(is_usage(&err), "{err:#} should be a usage error");
            assert_eq!(format!("{err:#}"), *expected, "args {args:?}, env {env:?}");
        }
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() -> Result<()> {
        let cli = parse_with(&["apply"], &[])?;
        assert_eq!(cli.command, Command::Action(Action::Apply));
        assert_eq!(cli.options.state_dir, StateDir::new(DEFAULT_STATE_DIR));
        assert_eq!(cli.options.backup_count, 5);
        assert_eq!(
            cli.options.on_failure, None,
            "not given: it depends on the backend"
        );
        assert_eq!(cli.options.lock_timeout, Duration::from_secs(300));
        assert_eq!(cli.options.workspace, None);
        assert_eq!(cli.options.pg_connection, None);
        assert_eq!(cli.options.config, None);
        assert_eq!(cli.options.terraform, None);
        assert_eq!(cli.options.credentials, None);
        Ok(())
    }

    #[test]
    fn options_work_before_and_after_the_command_and_with_equals() -> Result<()> {
        let a = parse_with(&["--state-dir", "/s", "apply", "--config=/c.json"], &[])?;
        let b = parse_with(&["apply", "--config", "/c.json", "--state-dir=/s"], &[])?;
        assert_eq!(a, b, "option position must not matter");
        assert_eq!(a.options.state_dir, StateDir::new("/s"));
        assert_eq!(a.options.config, Some(PathBuf::from("/c.json")));
        Ok(())
    }

    #[test]
    fn flags_beat_environment_variables() -> Result<()> {
        let env = [
            ("TAILSCALE_MANAGER_STATE_DIR", "/env-dir"),
            ("TAILSCALE_MANAGER_BACKUP_COUNT", "9"),
            ("TAILSCALE_MANAGER_ON_FAILURE", "keep"),
            ("TAILSCALE_MANAGER_LOCK_TIMEOUT", "7"),
            ("TAILSCALE_MANAGER_CONFIG", "/env.json"),
            ("TAILSCALE_MANAGER_TERRAFORM_BIN", "/env/tofu"),
            ("TAILSCALE_MANAGER_CREDENTIALS_FILE", "/env/creds"),
        ];
        let from_env = parse_with(&["plan"], &env)?;
        assert_eq!(from_env.options.state_dir, StateDir::new("/env-dir"));
        assert_eq!(from_env.options.backup_count, 9);
        assert_eq!(from_env.options.on_failure, Some(OnFailure::Keep));
        assert_eq!(from_env.options.lock_timeout, Duration::from_secs(7));
        assert_eq!(from_env.options.config, Some(PathBuf::from("/env.json")));
        assert_eq!(from_env.options.terraform, Some(PathBuf::from("/env/tofu")));
        assert_eq!(
            from_env.options.credentials,
            Some(PathBuf::from("/env/creds"))
        );

        let flags = parse_with(
            &[
                "plan",
                "--state-dir=/flag-dir",
                "--backup-count=2",
                "--on-failure=restore",
                "--lock-timeout=0",
                "--config=/flag.json",
                "--terraform=/flag/terraform",
                "--credentials=/flag/creds",
            ],
            &env,
        )?;
        assert_eq!(flags.options.state_dir, StateDir::new("/flag-dir"));
        assert_eq!(flags.options.backup_count, 2);
        assert_eq!(flags.options.on_failure, Some(OnFailure::Restore));
        assert_eq!(flags.options.lock_timeout, Duration::ZERO);
        assert_eq!(flags.options.config, Some(PathBuf::from("/flag.json")));
        assert_eq!(
            flags.options.terraform,
            Some(PathBuf::from("/flag/terraform"))
        );
        assert_eq!(
            flags.options.credentials,
            Some(PathBuf::from("/flag/creds"))
        );
        Ok(())
    }

    #[test]
    fn empty_environment_variables_count_as_unset() -> Result<()> {
        let cli = parse_with(&["status"], &[("TAILSCALE_MANAGER_STATE_DIR", "")])?;
        assert_eq!(cli.options.state_dir, StateDir::new(DEFAULT_STATE_DIR));
        Ok(())
    }

    #[test]
    fn every_command_parses() -> Result<()> {
        let cases = [
            (vec!["init"], Command::Init),
            (vec!["plan"], Command::Plan),
            (vec!["apply"], Command::Action(Action::Apply)),
            (vec!["destroy"], Command::Action(Action::Destroy)),
            (vec!["status"], Command::Status(StatusFormat::Human)),
            (
                vec!["status", "--json"],
                Command::Status(StatusFormat::Json),
            ),
            (
                vec!["--waybar", "status"],
                Command::Status(StatusFormat::Waybar),
            ),
            (
                vec!["status", "--prometheus"],
                Command::Status(StatusFormat::Prometheus),
            ),
            (
                vec!["status", "--oneline"],
                Command::Status(StatusFormat::Oneline),
            ),
            (vec!["backup-state"], Command::BackupState),
            (
                vec!["restore-state"],
                Command::RestoreState {
                    file: None,
                    force: false,
                },
            ),
            (
                vec!["restore-state", "/b/x.tfstate"],
                Command::RestoreState {
                    file: Some(PathBuf::from("/b/x.tfstate")),
                    force: false,
                },
            ),
            (
                vec!["--force", "restore-state", "/b/x.tfstate"],
                Command::RestoreState {
                    file: Some(PathBuf::from("/b/x.tfstate")),
                    force: true,
                },
            ),
            (
                vec!["restore-state", "--force"],
                Command::RestoreState {
                    file: None,
                    force: true,
                },
            ),
            (vec!["version"], Command::Version),
            (vec!["--version"], Command::Version),
            (vec!["-V"], Command::Version),
            (vec!["help"], Command::Help),
            (vec!["--help"], Command::Help),
            (vec!["apply", "-h"], Command::Help),
        ];
        for (args, expected) in cases {
            assert_eq!(parse_with(&args, &[])?.command, expected, "args {args:?}");
        }
        Ok(())
    }

    #[test]
    fn usage_errors_name_the_problem_and_point_at_help() {
        let cases: &[Case] = &[
            (
                &["apply", "--x"],
                &[],
                "unknown option '--x' (see tailscale-manager --help)",
            ),
            (
                &["frobnicate"],
                &[],
                "unknown command 'frobnicate' (see tailscale-manager --help)",
            ),
            (&[], &[], "no command given (see tailscale-manager --help)"),
            (
                &["apply", "--config"],
                &[],
                "option '--config' needs a value (see tailscale-manager --help)",
            ),
            (
                &["apply", "now"],
                &[],
                "unexpected argument 'now' for apply (see tailscale-manager --help)",
            ),
            (
                &["restore-state", "a", "b"],
                &[],
                "restore-state takes at most one FILE (see tailscale-manager --help)",
            ),
            (
                &["apply", "--json"],
                &[],
                "'--json' only applies to the status command (see tailscale-manager --help)",
            ),
            (
                &["status", "--json", "--waybar"],
                &[],
                "'--json' and '--waybar' cannot be combined; pick one status format",
            ),
            (
                &["status", "--json=yes"],
                &[],
                "option '--json' takes no value (see tailscale-manager --help)",
            ),
            (
                &["apply", "--state-dir", ""],
                &[("TAILSCALE_MANAGER_STATE_DIR", "/var/lib/x")],
                "option '--state-dir' needs a non-empty value; to leave it unset, leave it out \
                 (see tailscale-manager --help)",
            ),
            (
                &["status", "--credentials="],
                &[],
                "option '--credentials' needs a non-empty value; to leave it unset, leave it \
                 out (see tailscale-manager --help)",
            ),
            (
                &["restore-state", ""],
                &[],
                "restore-state FILE is empty; name a state file, or leave FILE out for the \
                 newest backup",
            ),
            (
                &["apply", "--force"],
                &[],
                "'--force' only applies to restore-state (see tailscale-manager --help)",
            ),
            (
                &["restore-state", "--force=yes"],
                &[],
                "option '--force' takes no value (see tailscale-manager --help)",
            ),
        ];
        assert_usage_errors(cases);
    }

    #[test]
    fn bad_values_name_their_source() {
        let cases: &[Case] = &[
            (
                &["apply", "--backup-count", "0"],
                &[],
                "--backup-count must be an integer from 1 to 1000, got '0'",
            ),
            (
                &["apply", "--backup-count=1001"],
                &[],
                "--backup-count must be an integer from 1 to 1000, got '1001'",
            ),
            (
                &["apply"],
                &[("TAILSCALE_MANAGER_BACKUP_COUNT", "five")],
                "TAILSCALE_MANAGER_BACKUP_COUNT must be an integer from 1 to 1000, got 'five'",
            ),
            (
                &["apply", "--on-failure", "ignore"],
                &[],
                "--on-failure must be 'restore' or 'keep', got 'ignore'",
            ),
            (
                &["apply"],
                &[("TAILSCALE_MANAGER_LOCK_TIMEOUT", "-1")],
                "TAILSCALE_MANAGER_LOCK_TIMEOUT must be a whole number of seconds, got '-1'",
            ),
        ];
        assert_usage_errors(cases);
    }

    #[test]
    fn backup_count_bounds_are_inclusive() -> Result<()> {
        assert_eq!(
            parse_with(&["apply", "--backup-count=1"], &[])?
                .options
                .backup_count,
            1
        );
        assert_eq!(
            parse_with(&["apply", "--backup-count=1000"], &[])?
                .options
                .backup_count,
            1000
        );
        Ok(())
    }

    #[test]
    fn expiry_warning_days_come_from_the_flag_the_environment_or_the_default() -> Result<()> {
        let days = |args: &[&str], env: &[(&str, &str)]| -> Result<u32> {
            Ok(parse_with(args, env)?.options.expiry_warning_days)
        };
        assert_eq!(days(&["status"], &[])?, 14, "the default is 14 days");
        let env = [("TAILSCALE_MANAGER_EXPIRY_WARNING_DAYS", "30")];
        assert_eq!(
            days(&["status", "--json"], &env)?,
            30,
            "from the environment"
        );
        assert_eq!(
            days(&["status", "--expiry-warning", "3"], &env)?,
            3,
            "the flag beats the environment"
        );
        assert_eq!(
            days(&["--expiry-warning=0", "status"], &[])?,
            0,
            "0: only expired keys"
        );
        assert_eq!(days(&["status", "--expiry-warning", "3650"], &[])?, 3650);
        assert_usage_errors(&[
            (
                &["status", "--expiry-warning", "3651"],
                &[],
                "--expiry-warning must be a whole number of days from 0 to 3650, got '3651'",
            ),
            (
                &["status"],
                &[("TAILSCALE_MANAGER_EXPIRY_WARNING_DAYS", "2w")],
                "TAILSCALE_MANAGER_EXPIRY_WARNING_DAYS must be a whole number of days from 0 to 3650, got '2w'",
            ),
            (
                &["status", "--expiry-warning"],
                &[],
                "option '--expiry-warning' needs a value (see tailscale-manager --help)",
            ),
        ]);
        Ok(())
    }

    #[test]
    fn workspace_and_pg_connection_file_come_from_flags_or_the_environment() -> Result<()> {
        let env = [
            ("TAILSCALE_MANAGER_WORKSPACE", "host-a"),
            ("TAILSCALE_MANAGER_PG_CONNECTION_FILE", "/run/secrets/pg"),
        ];
        let from_env = parse_with(&["apply"], &env)?.options;
        assert_eq!(from_env.workspace.as_deref(), Some("host-a"));
        assert_eq!(
            from_env.pg_connection,
            Some(PathBuf::from("/run/secrets/pg"))
        );
        let flags = parse_with(
            &[
                "apply",
                "--workspace=web.eu_1",
                "--pg-connection-file",
                "/etc/pg",
            ],
            &env,
        )?
        .options;
        assert_eq!(
            flags.workspace.as_deref(),
            Some("web.eu_1"),
            "the flag beats the environment"
        );
        assert_eq!(flags.pg_connection, Some(PathBuf::from("/etc/pg")));
        assert_usage_errors(&[
            (
                &["apply", "--workspace", "-x"],
                &[],
                "--workspace must be a terraform workspace name (a letter or digit, then \
                 letters, digits, '_', '.' or '-'), got '-x'",
            ),
            (
                &["apply", "--workspace=_x"],
                &[],
                "--workspace must be a terraform workspace name (a letter or digit, then \
                 letters, digits, '_', '.' or '-'), got '_x'",
            ),
            (
                &["apply"],
                &[("TAILSCALE_MANAGER_WORKSPACE", "a b")],
                "TAILSCALE_MANAGER_WORKSPACE must be a terraform workspace name (a letter or \
                 digit, then letters, digits, '_', '.' or '-'), got 'a b'",
            ),
        ]);
        Ok(())
    }

    #[test]
    fn double_dash_ends_options() -> Result<()> {
        let cli = parse_with(&["restore-state", "--", "--odd-name.tfstate"], &[])?;
        assert_eq!(
            cli.command,
            Command::RestoreState {
                file: Some(PathBuf::from("--odd-name.tfstate")),
                force: false
            }
        );
        Ok(())
    }
}
