//! Which terraform runs, and the environment it runs with: the caller's environment is
//! cleared and only an allowlist passes.
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::credentials::{self, Credentials};
use crate::config::pg_connection::{self, PgConnection};
use crate::util::outcome::{IoContext, usage};
use crate::util::sys;

/// Variables passed through from the caller's environment when set (besides every `TF_*`).
const PASS_THROUGH: [&str; 6] = [
    "PATH",
    "TMPDIR",
    "SSL_CERT_FILE",
    "NIX_SSL_CERT_FILE",
    "TAILSCALE_TAILNET",
    "TAILSCALE_BASE_URL",
];

/// terraform's workspace with a remote backend; set from `--workspace` only.
pub const WORKSPACE: &str = "TF_WORKSPACE";

/// What terraform needs for a remote backend (`terraform.backend` in the config).
#[derive(Debug)]
pub struct RemoteAccess {
    /// The backend's type (`pg`), for messages and the snapshot.
    pub backend: String,
    /// `--workspace` (default `default`), as `TF_WORKSPACE`.
    pub workspace: String,
    /// The pg backend's connection string, as `PG_CONN_STR`.
    pub pg: Option<PgConnection>,
}

/// How to point the runner at another binary, for messages.
pub const FIX_BINARY: &str = "pass --terraform PATH or set TAILSCALE_MANAGER_TERRAFORM_BIN";

/// Finds the terraform binary: `--terraform` (a path, or a name looked up on PATH), else
/// `terraform` on PATH.
pub fn locate(flag: Option<&Path>, path_env: Option<&OsStr>) -> Result<PathBuf> {
    let wanted = flag.unwrap_or(Path::new("terraform"));
    if wanted.as_os_str().as_bytes().contains(&b'/') {
        let absolute = std::path::absolute(wanted).cannot("resolve", wanted)?;
        if !absolute.is_file() {
            return Err(usage(format!(
                "terraform binary {} does not exist or is not a file; {FIX_BINARY}",
                absolute.display()
            )));
        }
        if !sys::executable(&absolute) {
            let mode = std::fs::metadata(&absolute).map_or(0, |m| m.permissions().mode() & 0o7777);
            return Err(usage(format!(
                "terraform binary {} is not executable (mode {mode:04o}); `chmod +x` it, or {FIX_BINARY}",
                absolute.display()
            )));
        }
        return Ok(absolute);
    }
    // As a shell does: the first file by that name that may be executed.
    std::env::split_paths(path_env.unwrap_or_default())
        .map(|dir| dir.join(wanted))
        .find(|candidate| candidate.is_file() && sys::executable(candidate))
        .and_then(|found| std::path::absolute(found).ok())
        .ok_or_else(|| {
            usage(format!(
                "{} not found on PATH; {FIX_BINARY}",
                wanted.display()
            ))
        })
}

/// The environment terraform runs with: nothing from the caller except the allowlist (a
/// `TF_WORKSPACE` of the caller's neither: `--workspace` is the one way to name it), `HOME` =
/// the state directory, the credentials when given, and with a remote backend its workspace
/// and connection string.
pub fn environment(
    caller: impl IntoIterator<Item = (OsString, OsString)>,
    home: &Path,
    credentials: Option<&Credentials>,
    remote: Option<&RemoteAccess>,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = caller
        .into_iter()
        .filter(|(name, _)| {
            let name = name.as_bytes();
            (name.starts_with(b"TF_") && name != WORKSPACE.as_bytes())
                || PASS_THROUGH.iter().any(|p| p.as_bytes() == name)
        })
        .collect();
    let mut set = |name: &str, value: &OsStr| {
        env.retain(|(n, _)| n != name);
        env.push((name.into(), value.to_os_string()));
    };
    set("HOME", home.as_os_str());
    set("TF_IN_AUTOMATION", OsStr::new("1"));
    set("CHECKPOINT_DISABLE", OsStr::new("1"));
    if let Some(c) = credentials {
        set(credentials::CLIENT_ID, OsStr::new(&c.client_id));
        set(credentials::CLIENT_SECRET, OsStr::new(&c.client_secret));
    }
    if let Some(remote) = remote {
        set(WORKSPACE, OsStr::new(&remote.workspace));
        if let Some(pg) = &remote.pg {
            set(pg_connection::VARIABLE, OsStr::new(pg.value()));
        }
    }
    env
}

/// Whether `init` runs without `name`: it configures no provider, so it gets no OAuth
/// credentials, and it selects no workspace (terraform's init fails on a workspace that does not
/// exist yet, while every other command creates it).
pub fn init_skips(name: &OsStr) -> bool {
    name == credentials::CLIENT_ID || name == credentials::CLIENT_SECRET || name == WORKSPACE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    fn lookup<'a>(env: &'a [(OsString, OsString)], name: &str) -> Option<&'a str> {
        env.iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.to_str())
    }

    #[test]
    fn environment_is_an_allowlist() {
        let caller = os(&[
            ("PATH", "/bin"),
            ("HOME", "/root"),
            ("CANARY", "must-not-leak"),
            ("AWS_SECRET_ACCESS_KEY", "nope"),
            ("TF_LOG", "info"),
            ("TF_IN_AUTOMATION", "0"),
            ("TAILSCALE_BASE_URL", "file:///tmp/tailnet.json"),
            ("TAILSCALE_TAILNET", "example.com"),
            ("TAILSCALE_OAUTH_CLIENT_SECRET", "from-caller"),
            ("TAILSCALE_API_KEY", "tskey-api-x"),
            ("NIX_SSL_CERT_FILE", "/etc/ssl/certs/ca.pem"),
        ]);
        let creds = Credentials {
            source: credentials::Source::Environment,
            client_id: "kid".into(),
            client_secret: "from-file".into(),
        };
        let env = environment(caller, Path::new("/var/lib/tm"), Some(&creds), None);
        let names: Vec<&str> = env.iter().map(|(k, _)| k.to_str().unwrap()).collect();
        for absent in ["CANARY", "AWS_SECRET_ACCESS_KEY", "TAILSCALE_API_KEY"] {
            assert!(
                !names.contains(&absent),
                "{absent} must not reach terraform: {names:?}"
            );
        }
        assert_eq!(
            lookup(&env, "HOME"),
            Some("/var/lib/tm"),
            "HOME is the state dir"
        );
        assert_eq!(lookup(&env, "PATH"), Some("/bin"));
        assert_eq!(lookup(&env, "TF_LOG"), Some("info"), "caller's TF_* pass");
        assert_eq!(lookup(&env, "TF_IN_AUTOMATION"), Some("1"), "forced");
        assert_eq!(lookup(&env, "CHECKPOINT_DISABLE"), Some("1"));
        assert_eq!(
            lookup(&env, "TAILSCALE_BASE_URL"),
            Some("file:///tmp/tailnet.json")
        );
        assert_eq!(lookup(&env, "TAILSCALE_TAILNET"), Some("example.com"));
        assert_eq!(
            lookup(&env, "NIX_SSL_CERT_FILE"),
            Some("/etc/ssl/certs/ca.pem")
        );
        assert_eq!(lookup(&env, "TAILSCALE_OAUTH_CLIENT_ID"), Some("kid"));
        assert_eq!(
            lookup(&env, "TAILSCALE_OAUTH_CLIENT_SECRET"),
            Some("from-file"),
            "the resolved credentials replace the caller's"
        );
        let once = env.iter().filter(|(k, _)| k == "TF_IN_AUTOMATION").count();
        assert_eq!(once, 1, "no duplicate variables");
    }

    #[test]
    fn without_credentials_none_are_passed() {
        let env = environment(
            os(&[("TAILSCALE_OAUTH_CLIENT_SECRET", "x")]),
            Path::new("/s"),
            None,
            None,
        );
        assert_eq!(lookup(&env, "TAILSCALE_OAUTH_CLIENT_SECRET"), None);
    }

    #[test]
    fn a_remote_backend_gets_its_workspace_and_connection_string() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("pg");
        std::fs::write(&file, "host=/run/postgresql password=pw\n")?;
        let pg = pg_connection::load(Some(&file), &|_| None)?;
        let caller = os(&[
            ("TF_WORKSPACE", "from-caller"),
            ("PG_CONN_STR", "host=elsewhere"),
            ("TF_LOG", "info"),
        ]);
        let remote = RemoteAccess {
            backend: "pg".into(),
            workspace: "host-a".into(),
            pg: Some(pg),
        };
        let env = environment(caller.clone(), Path::new("/s"), None, Some(&remote));
        assert_eq!(
            lookup(&env, "TF_WORKSPACE"),
            Some("host-a"),
            "--workspace wins"
        );
        assert_eq!(
            lookup(&env, "PG_CONN_STR"),
            Some("host=/run/postgresql password=pw"),
            "the file's connection string, never the caller's"
        );
        assert_eq!(lookup(&env, "TF_LOG"), Some("info"));
        let local = environment(caller, Path::new("/s"), None, None);
        assert_eq!(
            lookup(&local, "TF_WORKSPACE"),
            None,
            "a caller's TF_WORKSPACE never reaches terraform"
        );
        assert_eq!(lookup(&local, "PG_CONN_STR"), None);
        assert!(init_skips(OsStr::new("TF_WORKSPACE")));
        assert!(
            !init_skips(OsStr::new("PG_CONN_STR")),
            "init needs the backend"
        );
        Ok(())
    }

    #[test]
    fn locate_reports_missing_binaries_as_configuration_errors() {
        let err = locate(Some(Path::new("/nonexistent/terraform")), None).unwrap_err();
        assert!(crate::util::outcome::is_usage(&err));
        assert_eq!(
            format!("{err:#}"),
            "terraform binary /nonexistent/terraform does not exist or is not a file; pass --terraform PATH or set TAILSCALE_MANAGER_TERRAFORM_BIN"
        );
        let err = locate(None, Some(OsStr::new("/nonexistent"))).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "terraform not found on PATH; pass --terraform PATH or set TAILSCALE_MANAGER_TERRAFORM_BIN"
        );
    }

    #[test]
    fn locate_searches_path_for_bare_names() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let bin = dir.path().join("tofu");
        std::fs::write(&bin, "#!/bin/sh\n")?;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755))?;
        let path = std::env::join_paths([Path::new("/nonexistent"), dir.path()])?;
        assert_eq!(locate(Some(Path::new("tofu")), Some(&path))?, bin);
        Ok(())
    }
}
