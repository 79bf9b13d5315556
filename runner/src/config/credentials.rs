//! OAuth client credentials: where they come from and how the file is parsed.
//!
//! Precedence: the `--credentials` file, then `$CREDENTIALS_DIRECTORY/tailscale-oauth`
//! (systemd `LoadCredential=`), then the environment variables. The values only ever reach
//! terraform's environment; errors name files, lines and keys, never values.
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Result;

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
            Source::File(p) => write!(f, "file {}", p.display()),
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
    if let Some(dir) = env("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty()) {
        let path = Path::new(&dir).join(SYSTEMD_CREDENTIAL);
        if path.exists() {
            return Some(Source::SystemdCredential(path));
        }
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
    let bytes = regular::CREDENTIALS.read(path).map_err(|e| {
        usage(format!(
            "cannot read credentials file {}: {e}; it must be a KEY=VALUE file with \
             {CLIENT_ID}= and {CLIENT_SECRET}= lines, readable by this user",
            path.display()
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        usage(format!(
            "credentials file {}: line {line} is not valid UTF-8; save the file as UTF-8 text",
            path.display()
        ))
    })?;
    let vars = parse_env_file(&text)
        .map_err(|e| usage(format!("credentials file {}: {e}", path.display())))?;
    let get = |key: &str| {
        vars.iter()
            .rev()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                usage(format!(
                    "credentials file {} has no {key}; add a line {key}=<value>",
                    path.display()
                ))
            })
    };
    Ok((get(CLIENT_ID)?, get(CLIENT_SECRET)?))
}

/// Parses systemd `EnvironmentFile=` syntax: `KEY=VALUE` lines, blank lines and `#`/`;`
/// comments ignored, an optional `export ` prefix, single or double quotes, CRLF line ends.
/// Errors name the line number, never its content (it may hold a secret).
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut vars = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => line,
        };
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {line_no} is not KEY=VALUE"));
        };
        let key = key.trim_end();
        let valid_key = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_key {
            return Err(format!(
                "line {line_no}: the name before '=' is not a valid variable name"
            ));
        }
        let value = unquote(value.trim()).map_err(|e| format!("line {line_no}: {e}"))?;
        vars.push((key.to_string(), value));
    }
    Ok(vars)
}

fn unquote(value: &str) -> Result<String, &'static str> {
    let mut chars = value.chars();
    let quote = match chars.next() {
        Some(q @ ('"' | '\'')) => q,
        _ => return Ok(value.to_string()),
    };
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err("the quoted value has no closing quote"),
            Some(c) if c == quote => break,
            Some('\\') if quote == '"' => match chars.next() {
                Some('n') => out.push('\n'),
                Some(c) => out.push(c),
                None => return Err("the quoted value has no closing quote"),
            },
            Some(c) => out.push(c),
        }
    }
    let rest = chars.as_str().trim();
    if !rest.is_empty() && !rest.starts_with('#') {
        return Err("unexpected text after the closing quote");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parsed(text: &str) -> Vec<(String, String)> {
        parse_env_file(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn plain_comments_blank_lines_and_export() {
        let text = "# OAuth client\n\nTAILSCALE_OAUTH_CLIENT_ID=kid\n; other comment\n  export TAILSCALE_OAUTH_CLIENT_SECRET=tskey-client-kid-s\n";
        assert_eq!(
            parsed(text),
            pairs(&[
                ("TAILSCALE_OAUTH_CLIENT_ID", "kid"),
                ("TAILSCALE_OAUTH_CLIENT_SECRET", "tskey-client-kid-s")
            ])
        );
    }

    #[test]
    fn quotes_crlf_and_whitespace() {
        let text = "A=\"double quoted # not a comment\"\r\nB='single \\n literal'\r\nC = spaced value  \r\nD=\"esc \\\" \\\\ \\n\"\nE=\"\"\nF=a=b\n";
        assert_eq!(
            parsed(text),
            pairs(&[
                ("A", "double quoted # not a comment"),
                ("B", "single \\n literal"),
                ("C", "spaced value"),
                ("D", "esc \" \\ \n"),
                ("E", ""),
                ("F", "a=b"),
            ])
        );
    }

    #[test]
    fn exported_name_is_not_confused_with_prefix() {
        assert_eq!(parsed("exported=1"), pairs(&[("exported", "1")]));
    }

    #[test]
    fn broken_lines_name_the_line_and_never_the_content() {
        let cases = [
            (
                "A=1\ntskey-client-secret-on-its-own\n",
                "line 2 is not KEY=VALUE",
            ),
            (
                "A=\"unterminated\n",
                "line 1: the quoted value has no closing quote",
            ),
            (
                "A='x' trailing\n",
                "line 1: unexpected text after the closing quote",
            ),
            (
                "1A=x\n",
                "line 1: the name before '=' is not a valid variable name",
            ),
            (
                "my key=x\n",
                "line 1: the name before '=' is not a valid variable name",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_env_file(text).expect_err(text);
            assert_eq!(err, expected, "for {text:?}");
            assert!(
                !err.contains("secret"),
                "error must not quote the line: {err}"
            );
        }
    }

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
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
                "credentials file {} has no TAILSCALE_OAUTH_CLIENT_SECRET; add a line TAILSCALE_OAUTH_CLIENT_SECRET=<value>",
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
