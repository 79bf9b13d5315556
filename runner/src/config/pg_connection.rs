//! The pg backend's connection string: where it comes from, and the secrets in it.
//!
//! Read only when the installed config keeps the state in PostgreSQL
//! (`terraform.backend.pg`): the `--pg-connection-file` file, else
//! `$CREDENTIALS_DIRECTORY/pg-conn-str` (systemd `LoadCredential=`). It reaches terraform only
//! as `PG_CONN_STR` in its environment (terraform's pg backend reads it there); errors name
//! the file, never its content, and [`PgConnection::secrets`] tells the scrubber what to hide
//! wherever terraform or PostgreSQL's client quotes it.
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::credentials;
use crate::util::outcome::usage;
use crate::util::regular;

/// The variable terraform's pg backend reads the connection string from (`conn_str`'s
/// default in terraform's `internal/backend/remote-state/pg/backend.go`).
pub const VARIABLE: &str = "PG_CONN_STR";
/// The credential ID the NixOS module passes to `LoadCredential=`.
pub const SYSTEMD_CREDENTIAL: &str = "pg-conn-str";

const WHAT_IT_HOLDS: &str = "it must hold the libpq connection string \
     (postgresql://user:password@host/dbname… or key=value words), readable by this user";

/// Where the connection string comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--pg-connection-file` (or `TAILSCALE_MANAGER_PG_CONNECTION_FILE`).
    File(PathBuf),
    /// `$CREDENTIALS_DIRECTORY/pg-conn-str`.
    SystemdCredential(PathBuf),
}

impl Source {
    pub fn path(&self) -> &Path {
        match self {
            Source::File(path) | Source::SystemdCredential(path) => path,
        }
    }
}

/// A connection string and where it came from. Its value never leaves through `Debug`.
pub struct PgConnection {
    pub source: Source,
    value: String,
}

impl fmt::Debug for PgConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConnection")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl PgConnection {
    /// The connection string, for terraform's environment only.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// What the scrubber must hide: the whole string and its password, in every form a
    /// client may print it (see [`secrets`]).
    pub fn secrets(&self) -> Vec<String> {
        secrets(&self.value)
    }
}

/// Where the connection string would come from, without reading it.
pub fn source(flag: Option<&Path>, env: &impl Fn(&str) -> Option<OsString>) -> Option<Source> {
    if let Some(file) = flag {
        return Some(Source::File(file.to_path_buf()));
    }
    credentials::systemd_credential(SYSTEMD_CREDENTIAL, env).map(Source::SystemdCredential)
}

/// Reads the connection string from the first source that exists.
pub fn load(flag: Option<&Path>, env: &impl Fn(&str) -> Option<OsString>) -> Result<PgConnection> {
    let Some(source) = source(flag, env) else {
        return Err(usage(format!(
            "the config keeps the state in PostgreSQL (terraform.backend.pg), but no connection \
             string was found; pass --pg-connection-file FILE (or \
             TAILSCALE_MANAGER_PG_CONNECTION_FILE), or run under systemd with \
             LoadCredential={SYSTEMD_CREDENTIAL}:FILE"
        )));
    };
    let path = source.path();
    let shown = regular::shown(path);
    let bytes = regular::CREDENTIALS.read(path).map_err(|e| {
        usage(format!(
            "cannot read the pg connection string file {shown}: {e}; {WHAT_IT_HOLDS}"
        ))
    })?;
    let bad = |why: &str| {
        usage(format!(
            "the pg connection string file {shown} {why}; {WHAT_IT_HOLDS}"
        ))
    };
    let text = String::from_utf8(bytes).map_err(|_| bad("is not UTF-8 text"))?;
    if text.contains('\0') {
        return Err(bad(
            "holds a NUL byte, which no environment variable can hold",
        ));
    }
    let value = text.trim();
    if value.is_empty() {
        return Err(bad("is empty"));
    }
    Ok(PgConnection {
        value: value.to_string(),
        source,
    })
}

/// The whole connection string and each password in it, as written and as the client decodes
/// it (percent-decoded in a URI, unquoted and unescaped in key=value words): a client may
/// print any of them (Go's URL parser quotes the whole URI in its errors, password included).
pub fn secrets(conn: &str) -> Vec<String> {
    let mut found = vec![conn.to_string()];
    let lower = conn.to_ascii_lowercase();
    let uri = ["postgres://", "postgresql://"]
        .iter()
        .find_map(|scheme| lower.starts_with(scheme).then(|| &conn[scheme.len()..]));
    match uri {
        Some(rest) => uri_passwords(rest, &mut found),
        None => keyword_passwords(conn, &mut found),
    }
    found.retain(|s| !s.is_empty());
    found.sort();
    found.dedup();
    found
}

/// Passwords in `postgresql://user:password@host/db?password=…` (after the scheme): the
/// user-info as Go's URL parser splits it (the authority ends at the first `/`, `?` or `#`;
/// user-info is up to its last `@`), as a person may have meant it (up to the last `@` before
/// the query, or in the whole string), and the `password` query parameter; each raw and
/// percent-decoded. A password holding an unencoded `/`, `?` or `#` is cut there by Go's
/// parser, which then takes `user:start` for a host and quotes `:start` as its invalid port:
/// that start is a secret too.
fn uri_passwords(rest: &str, found: &mut Vec<String>) {
    let before_query = rest.split(['?', '#']).next().unwrap_or_default();
    let authority = before_query.split('/').next().unwrap_or_default();
    for userinfo in [authority, before_query, rest]
        .into_iter()
        .filter_map(|s| s.rsplit_once('@').map(|(userinfo, _)| userinfo))
    {
        if let Some((_, password)) = userinfo.split_once(':') {
            found.push(password.to_string());
            found.push(percent_decode(password));
        }
    }
    if !authority.contains('@') && rest.contains('@') {
        for start in [authority.split_once(':'), authority.rsplit_once(':')]
            .into_iter()
            .flatten()
            .map(|(_, start)| start)
        {
            found.push(start.to_string());
            found.push(percent_decode(start));
        }
    }
    let query = rest.split_once('?').map(|(_, q)| q).unwrap_or_default();
    for pair in query.split('&') {
        if let Some(("password", value)) = pair.split_once('=') {
            found.push(value.to_string());
            found.push(percent_decode(value));
        }
    }
}

/// Passwords in libpq's `key=value` words (`password=s3cret`, `password = 'it''s'`,
/// `password='a \' b'`): the value as written and as the client reads it, and the words an
/// unquoted one with spaces was meant to go on with.
fn keyword_passwords(conn: &str, found: &mut Vec<String>) {
    let mut chars = conn.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            if chars.next().is_none() {
                return;
            }
            continue;
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, first)) = chars.peek() else {
            return;
        };
        let quoted = first == '\'';
        if quoted {
            chars.next();
        }
        let mut value = String::new();
        let mut end = conn.len();
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '\'' if quoted => {
                    end = at + 1;
                    break;
                }
                c if c.is_whitespace() && !quoted => {
                    end = at;
                    break;
                }
                c => value.push(c),
            }
        }
        if key == "password" {
            found.push(conn[start..end].to_string());
            found.push(value);
            // `password=my secret`: what follows up to the next `key=value` word was meant as
            // the password too; libpq's syntax ends it at the space, and lib/pq quotes the
            // rest as a key (`missing "=" after "secret"`).
            if !quoted {
                let rest = conn[end..]
                    .split_whitespace()
                    .take_while(|word| !word.contains('='));
                found.extend(rest.map(str::to_string));
            }
        }
    }
}

/// `%XX` decoded; anything that is not a valid escape stays as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::credentials::tests::env_of;

    #[test]
    fn uri_passwords_are_found_raw_and_decoded() {
        let found = secrets(
            "postgresql://tm:p%40ss%2Fw0rd@db.example.com:5432/tfstate?sslmode=verify-full",
        );
        for secret in ["p%40ss%2Fw0rd", "p@ss/w0rd"] {
            assert!(found.iter().any(|s| s == secret), "{secret} in {found:?}");
        }
        assert!(
            found.iter().any(|s| s.starts_with("postgresql://tm:")),
            "the whole string too: {found:?}"
        );
        let found = secrets("POSTGRES://tm@/tfstate?host=/run/postgresql&password=q%20w");
        assert!(found.iter().any(|s| s == "q w"), "{found:?}");
        assert!(found.iter().any(|s| s == "q%20w"), "{found:?}");
        let found = secrets("postgresql://tm:un/encoded@db/tfstate");
        assert!(
            found.iter().any(|s| s == "un/encoded"),
            "a password whose '/' was not encoded, as meant: {found:?}"
        );
        let found = secrets("postgresql://tm:at@sign@db/tfstate");
        assert!(
            found.iter().any(|s| s == "at@sign"),
            "user-info ends at the last '@': {found:?}"
        );
    }

    /// Go's URL parser ends the authority at the first `/`, `?` or `#`, so a password holding
    /// one unencoded is cut there, and the error quotes the part before it as a port.
    #[test]
    fn no_part_of_a_password_go_cut_short_survives_its_error() {
        for (conn, error) in [
            (
                "postgresql://tm:un/encoded@db/tfstate",
                r#"parse "postgresql://tm:un/encoded@db/tfstate": invalid port ":un" after host"#,
            ),
            (
                "postgresql://tm:hash#tail@db/tfstate",
                r#"parse "postgresql://tm:hash#tail@db/tfstate": invalid port ":hash" after host"#,
            ),
            (
                "postgres://tm:ask?tail@db/tfstate",
                r#"parse "postgres://tm:ask?tail@db/tfstate": invalid port ":ask" after host"#,
            ),
        ] {
            let scrubbed = crate::util::scrub::Scrubber::new(secrets(conn)).scrub(error);
            let password = conn
                .split_once("tm:")
                .unwrap()
                .1
                .split_once("@db")
                .unwrap()
                .0;
            let cut = password.split(['/', '#', '?']).next().unwrap();
            assert!(
                !scrubbed.contains(cut) && !scrubbed.contains(password),
                "{conn}: the password or its first part '{cut}' survives in {scrubbed}"
            );
        }
    }

    /// An unquoted password with a space is cut there by libpq's syntax; lib/pq then reads
    /// the rest as the next key and quotes it in its error.
    #[test]
    fn the_rest_of_an_unquoted_password_with_spaces_is_a_secret_too() {
        for conn in [
            "host=db password=my long secret dbname=tfstate",
            "host=db password=my long secret",
        ] {
            let scrubbed = crate::util::scrub::Scrubber::new(secrets(conn))
                .scrub(r#"missing "=" after "secret" in connection info string""#);
            assert!(
                !scrubbed.contains("secret") && !scrubbed.contains("long"),
                "{conn}: a part of the password survives in {scrubbed}"
            );
        }
        assert!(
            !secrets("host=db password=pw dbname=tfstate").contains(&"dbname=tfstate".to_string()),
            "the next key=value word is not part of the password"
        );
    }

    #[test]
    fn keyword_passwords_are_found_as_written_and_as_read() {
        let found = secrets("host=/run/postgresql user=tm password=s3cr3t dbname=tfstate");
        assert!(found.iter().any(|s| s == "s3cr3t"), "{found:?}");
        let found = secrets("host=db password = 'it\\'s a secret' dbname=x");
        assert!(found.iter().any(|s| s == "it's a secret"), "{found:?}");
        assert!(
            found.iter().any(|s| s == "'it\\'s a secret'"),
            "as written: {found:?}"
        );
        let found = secrets("password=back\\\\slash\nhost=db");
        assert!(found.iter().any(|s| s == "back\\slash"), "{found:?}");
        let found = secrets("host=db dbname=x");
        assert_eq!(found, vec!["host=db dbname=x".to_string()], "no password");
        assert_eq!(secrets("password="), vec!["password=".to_string()]);
    }

    #[test]
    fn the_file_beats_the_systemd_credential_and_is_trimmed() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let flag = dir.path().join("conn");
        std::fs::write(&flag, "host=a password=one\n")?;
        let creds = dir.path().join("creds");
        std::fs::create_dir(&creds)?;
        std::fs::write(
            creds.join(SYSTEMD_CREDENTIAL),
            "  host=b password=two  \n\n",
        )?;
        let env = env_of(&[("CREDENTIALS_DIRECTORY", creds.to_str().unwrap())]);
        let conn = load(Some(&flag), &env)?;
        assert_eq!(conn.value(), "host=a password=one");
        assert_eq!(conn.source, Source::File(flag.clone()));
        let conn = load(None, &env)?;
        assert_eq!(conn.value(), "host=b password=two", "trimmed");
        assert_eq!(
            conn.source,
            Source::SystemdCredential(creds.join(SYSTEMD_CREDENTIAL))
        );
        assert!(
            !format!("{conn:?}").contains("two"),
            "Debug hides the value: {conn:?}"
        );
        Ok(())
    }

    #[test]
    fn bad_files_are_usage_errors_that_quote_nothing() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let env = env_of(&[]);
        let err = load(None, &env).expect_err("no source");
        assert!(crate::util::outcome::is_usage(&err));
        assert!(
            format!("{err:#}").contains("LoadCredential=pg-conn-str:FILE"),
            "{err:#}"
        );
        let empty = dir.path().join("empty");
        std::fs::write(&empty, " \n")?;
        let err = load(Some(&empty), &env).expect_err("empty");
        assert_eq!(
            format!("{err:#}"),
            format!(
                "the pg connection string file {} is empty; {WHAT_IT_HOLDS}",
                empty.display()
            )
        );
        let nul = dir.path().join("nul");
        std::fs::write(&nul, "password=a\0b")?;
        let err = load(Some(&nul), &env).expect_err("NUL");
        assert!(format!("{err:#}").contains("NUL byte"), "{err:#}");
        assert!(!format!("{err:#}").contains("password=a"), "{err:#}");
        let missing = dir.path().join("missing");
        let err = load(Some(&missing), &env).expect_err("missing");
        assert!(
            format!("{err:#}").starts_with(&format!(
                "cannot read the pg connection string file {}:",
                missing.display()
            )),
            "{err:#}"
        );
        Ok(())
    }
}
