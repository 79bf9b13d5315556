//! OAuth client credentials: where they come from and how the file is parsed.
//!
//! Precedence: the `--credentials` file, then `$CREDENTIALS_DIRECTORY/tailscale-oauth`
//! (systemd `LoadCredential=`), then the environment variables. The values only ever reach
//! terraform's environment; errors name files, lines and keys, never values.
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::env_file;
use crate::util::outcome::usage;
use crate::util::regular;

pub const CLIENT_ID: &str = "TAILSCALE_OAUTH_CLIENT_ID";
pub const CLIENT_SECRET: &str = "TAILSCALE_OAUTH_CLIENT_SECRET";
/// The credential ID the NixOS module passes to `LoadCredential=`.
pub const SYSTEMD_CREDENTIAL: &str = "tailscale-oauth";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    SystemdCredential(PathBuf),
    Environment,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(p) => write!(f, "file {}", regular::shown(p)),
            Source::SystemdCredential(p) => write!(f, "systemd credential {}", p.display()),
            Source::Environment => write!(f, "environment ({CLIENT_ID}, {CLIENT_SECRET})"),
        }
    }
}

pub struct Credentials {
    pub source: Source,
    pub client_id: String,
    pub client_secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret, not even in a debug dump.
        f.debug_struct("Credentials")
            .field("source", &self.source)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Where credentials would come from, without reading any secret (for `status`).
pub fn source(flag: Option<&Path>, env: &impl Fn(&str) -> Option<OsString>) -> Option<Source> {
    if let Some(file) = flag {
        return Some(Source::File(file.to_path_buf()));
    }
    if let Some(path) = systemd_credential(SYSTEMD_CREDENTIAL, env) {
        return Some(Source::SystemdCredential(path));
    }
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    (set(CLIENT_ID) || set(CLIENT_SECRET)).then_some(Source::Environment)
}

/// Reads the credentials from the first source that exists.
pub fn load(flag: Option<&Path>, env: &impl Fn(&str) -> Option<OsString>) -> Result<Credentials> {
    let Some(source) = source(flag, env) else {
        return Err(usage(format!(
            "no Tailscale OAuth credentials found; pass --credentials FILE \
             (or TAILSCALE_MANAGER_CREDENTIALS_FILE), run under systemd with \
             LoadCredential={SYSTEMD_CREDENTIAL}:FILE, or set {CLIENT_ID} and {CLIENT_SECRET}"
        )));
    };
    let (client_id, client_secret) = match &source {
        Source::File(path) | Source::SystemdCredential(path) => from_file(path)?,
        Source::Environment => {
            let get =
                |name: &str| {
                    env(name)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| usage(format!(
                        "{name} is not set, but {} is; set both, or pass --credentials FILE",
                        if name == CLIENT_ID { CLIENT_SECRET } else { CLIENT_ID }
                    )))?
                    .into_string()
                    .map_err(|_| usage(format!("{name} is not valid UTF-8")))
                };
            (get(CLIENT_ID)?, get(CLIENT_SECRET)?)
        }
    };
    Ok(Credentials {
        source,
        client_id,
        client_secret,
    })
}

fn from_file(path: &Path) -> Result<(String, String)> {
    let shown = regular::shown(path);
    let bytes = regular::CREDENTIALS.read(path).map_err(|e| {
        usage(format!(
            "cannot read credentials file {shown}: {e}; it must be a KEY=VALUE file with \
             {CLIENT_ID}= and {CLIENT_SECRET}= lines, readable by this user"
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        usage(format!(
            "credentials file {shown}: line {line} is not valid UTF-8; save the file as UTF-8 text"
        ))
    })?;
    let assignments =
        env_file::parse(&text).map_err(|e| usage(format!("credentials file {shown}: {e}")))?;
    // The last assignment counts, an empty one too, as for systemd's EnvironmentFile=.
    let get = |key: &str| match assignments.iter().rev().find(|a| a.key == key) {
        Some(a) if !a.value.is_empty() => Ok(a.value.clone()),
        Some(a) => Err(usage(format!(
            "credentials file {shown} has no {key}: line {} sets it empty, and the last assignment \
             counts (as for systemd's EnvironmentFile=); put the value there",
            a.line
        ))),
        None => Err(usage(format!(
            "credentials file {shown} has no {key}; add a line {key}=<value>"
        ))),
    };
    Ok((get(CLIENT_ID)?, get(CLIENT_SECRET)?))
}

/// `$CREDENTIALS_DIRECTORY/<name>` when systemd's `LoadCredential=<name>:…` provided it.
pub fn systemd_credential(name: &str, env: &impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let dir = env("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty())?;
    let path = Path::new(&dir).join(name);
    path.exists().then_some(path)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A fixed environment for the credential lookups.
    pub(crate) fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| map.get(name).cloned()
    }

    /// Writes a credentials file with these two values.
    fn write(dir: &Path, name: &str, id: &str, secret: &str) -> Result<PathBuf> {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!("{CLIENT_ID}={id}\n{CLIENT_SECRET}={secret}\n"),
        )?;
        Ok(path)
    }

    /// Asserts what `load` finds: the id, the secret and the source.
    #[track_caller]
    fn assert_loads(
        flag: Option<&Path>,
        env: &impl Fn(&str) -> Option<OsString>,
        expected: (&str, &str, Source),
    ) -> Result<()> {
        let c = load(flag, env)?;
        let found = (c.client_id.as_str(), c.client_secret.as_str(), c.source);
        assert_eq!(found, expected, "the first source that exists wins");
        Ok(())
    }

    #[test]
    fn file_beats_systemd_credential_beats_environment() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let file = write(dir.path(), "flag.env", "from-flag", "s1")?;
        let creds_dir = dir.path().join("creds");
        std::fs::create_dir(&creds_dir)?;
        write(&creds_dir, SYSTEMD_CREDENTIAL, "from-systemd", "s2")?;
        let env = env_of(&[
            ("CREDENTIALS_DIRECTORY", creds_dir.to_str().unwrap()),
            (CLIENT_ID, "from-env"),
            (CLIENT_SECRET, "s3"),
        ]);
        let file_source = Source::File(file.clone());
        assert_loads(Some(&file), &env, ("from-flag", "s1", file_source))?;
        let systemd = Source::SystemdCredential(creds_dir.join(SYSTEMD_CREDENTIAL));
        assert_loads(None, &env, ("from-systemd", "s2", systemd))?;
        let empty = dir.path().join("empty");
        let env = env_of(&[
            ("CREDENTIALS_DIRECTORY", empty.to_str().unwrap()),
            (CLIENT_ID, "from-env"),
            (CLIENT_SECRET, "s3"),
        ]);
        assert_loads(None, &env, ("from-env", "s3", Source::Environment))?;
        Ok(())
    }

    #[test]
    fn missing_keys_are_named_without_values() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let file = write(dir.path(), "oauth.env", "kid", "")?;
        let err = load(Some(&file), &env_of(&[])).expect_err("secret is empty");
        let text = format!("{err:#}");
        assert_eq!(
            text,
            format!(
                "credentials file {} has no TAILSCALE_OAUTH_CLIENT_SECRET: line 2 sets it empty, and the last assignment counts (as for systemd's EnvironmentFile=); put the value there",
                file.display()
            )
        );
        assert!(
            crate::util::outcome::is_usage(&err),
            "a configuration error (exit 2)"
        );

        let err = load(None, &env_of(&[(CLIENT_SECRET, "s3cr3t")])).expect_err("no id");
        let text = format!("{err:#}");
        assert!(
            text.starts_with("TAILSCALE_OAUTH_CLIENT_ID is not set"),
            "{text}"
        );
        assert!(
            !text.contains("s3cr3t"),
            "the secret must not be quoted: {text}"
        );
        Ok(())
    }

    #[test]
    fn unreadable_or_absent_sources_give_guidance() {
        let err = load(Some(Path::new("/nonexistent/oauth.env")), &env_of(&[])).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.starts_with("cannot read credentials file /nonexistent/oauth.env:"),
            "{text}"
        );
        let err = load(None, &env_of(&[])).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("--credentials FILE"), "{text}");
        assert!(
            text.contains("LoadCredential=tailscale-oauth:FILE"),
            "{text}"
        );
        assert!(
            text.contains(CLIENT_ID) && text.contains(CLIENT_SECRET),
            "{text}"
        );
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let c = Credentials {
            source: Source::Environment,
            client_id: "kid".into(),
            client_secret: "tskey-client-hidden".into(),
        };
        assert!(!format!("{c:?}").contains("hidden"));
    }
}
