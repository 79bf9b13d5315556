//! The simulated tailnet: one JSON file that plays the part of the Tailscale API: keys, OAuth
//! clients and their scopes, the policy file, DNS settings, devices, fault knobs, and a log of
//! every API request.
//!
//! Files written before the policy, DNS, devices, scopes and request log existed still load:
//! every newer field has a default (the default policy, MagicDNS on, no devices, the default
//! scopes).
//!
//! Every reader and writer takes an exclusive lock on `<file>.lock` (terraform runs several
//! provider processes, and tests poke the file while terraform runs), and every change is written
//! to a temporary file in the same directory, fsynced and renamed into place, so a reader never
//! sees a torn file, even if a writer is killed.

mod devices;
mod dns;
mod policy;
pub mod scopes;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

pub use devices::{Device, ZERO_TIME};
pub use dns::{Dns, Nameserver};
pub use policy::{DEFAULT_POLICY, Policy};

/// The only format version this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The API's default key lifetime when a create asks for `expirySeconds: 0` (Tailscale API
/// documentation, "Create auth key": 90 days).
pub const DEFAULT_EXPIRY_SECONDS: i64 = 7_776_000;

/// The whole simulated tailnet, as stored in the file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tailnet {
    pub version: u32,
    /// The tailnet's name; the provider's `tailnet` must be this or `-`.
    pub tailnet: String,
    /// The OAuth clients the API accepts.
    pub oauth_clients: Vec<OAuthClient>,
    /// Every auth key that exists. Deleted keys are removed (a GET then answers 404).
    pub keys: Vec<Key>,
    /// The policy file (ACL).
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub dns: Dns,
    #[serde(default)]
    pub devices: Vec<Device>,
    #[serde(default)]
    pub faults: Faults,
    /// What happened, oldest first: every API request (`op: "request"`), creates, deletes and
    /// the control command's changes.
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OAuthClient {
    pub id: String,
    /// `tskey-client-<id>-<random>`, like a real OAuth client secret.
    pub secret: String,
    /// The client's tag set. Keys it creates must ask for exactly this set (an OAuth client's
    /// keys must carry its full tag set, terraform-provider-tailscale#437).
    pub tags: Vec<String>,
    /// What its tokens may do (see [`scopes::allows`]).
    #[serde(default = "scopes::default_scopes")]
    pub scopes: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Key {
    pub id: String,
    /// The secret, `tskey-auth-<id>-<random>`; the API returns it only from create.
    pub key: String,
    pub description: String,
    pub tags: Vec<String>,
    pub reusable: bool,
    pub ephemeral: bool,
    pub preauthorized: bool,
    /// RFC 3339, whole seconds, UTC.
    pub created: String,
    pub expires: String,
    pub expiry_seconds: i64,
    pub revoked: bool,
    /// `""` for keys created by an OAuth client.
    pub user_id: String,
}

impl Key {
    /// The API reports expired and revoked keys as `invalid` (Tailscale API documentation,
    /// "Get key").
    pub fn invalid(&self, now: OffsetDateTime) -> bool {
        self.revoked || parse_time(&self.expires).is_none_or(|expires| expires <= now)
    }
}

/// Knobs that make the simulated API misbehave, for tests.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Fail this many of the next creates (each failure counts it down).
    pub fail_next_creates: u32,
    /// The API message of those failures, shown as `<message> (<status>)`.
    pub fail_message: String,
    pub fail_status: u16,
    /// Sleep this long inside every create (0: no sleep; setting it to 0 also ends the sleeps of
    /// the creates in flight).
    pub create_delay_seconds: u64,
    /// Whether the key exists in the tailnet before or after that sleep.
    pub create_commit: CommitPoint,
}

/// When a slow create puts its key into the tailnet.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CommitPoint {
    /// Sleep first, then create the key: a create killed during the sleep leaves nothing behind.
    #[default]
    AfterSleep,
    /// Create the key, then sleep before answering: a kill during the sleep loses the response,
    /// so the key exists in the tailnet but terraform never records it (a leaked key).
    BeforeSleep,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub at: String,
    /// `request` (one per HTTP request the real client would send, token requests included),
    /// `create_started`, `create`, `create_failed`, `delete`, `delete_missing`, `auth_failed`,
    /// and the control command's `expire`, `revoke`, `delete_behind`, `add_device`,
    /// `set_policy`, `grant_scope`, `drop_scope`.
    pub op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For `request` events: what went over the wire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
}

/// One HTTP request as the real Go client would send it, and the status it got. Credentials
/// (the `Authorization` header, a client secret in a token request) are never recorded.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// `GET`, `POST`, `DELETE`.
    pub method: String,
    /// E.g. `/api/v2/tailnet/-/acl`, `/api/v2/oauth/token`.
    pub path: String,
    /// The encoded query string, without `?` (`tags=tag%3Aweb`); empty for none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    /// `Accept` or `Content-Type`, and `If-Match` when sent.
    pub headers: BTreeMap<String, String>,
    /// The request body (JSON, HuJSON or a form), if there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The answer: 200, or the error status.
    pub status: u16,
}

impl Tailnet {
    /// A fresh tailnet with one OAuth client owning `tags`.
    pub fn new(tailnet: &str, client_tags: Vec<String>) -> Result<Self> {
        let client_id = new_id()?;
        let secret = format!("tskey-client-{client_id}-{}", random_alnum(32)?);
        Ok(Self {
            version: FORMAT_VERSION,
            tailnet: tailnet.to_owned(),
            oauth_clients: vec![OAuthClient {
                id: client_id,
                secret,
                tags: client_tags,
                scopes: scopes::default_scopes(),
            }],
            keys: Vec::new(),
            policy: Policy::default(),
            dns: Dns::default(),
            devices: Vec::new(),
            faults: Faults::default(),
            events: Vec::new(),
        })
    }

    pub fn key(&self, id: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.id == id)
    }

    pub fn key_mut(&mut self, id: &str) -> Result<&mut Key> {
        match self.keys.iter_mut().find(|k| k.id == id) {
            Some(key) => Ok(key),
            None => bail!("no key with id {id:?} in the simulated tailnet"),
        }
    }

    /// Removes the key with this id; false if there was none.
    pub fn remove_key(&mut self, id: &str) -> bool {
        let before = self.keys.len();
        self.keys.retain(|k| k.id != id);
        self.keys.len() != before
    }

    pub fn record(&mut self, op: &str, id: Option<&str>, detail: Option<String>) {
        self.events.push(Event {
            at: format_time(now()),
            op: op.to_owned(),
            id: id.map(str::to_owned),
            detail,
            request: None,
        });
    }

    pub fn record_request(&mut self, request: Request) {
        self.events.push(Event {
            at: format_time(now()),
            op: "request".to_owned(),
            id: None,
            detail: None,
            request: Some(request),
        });
    }

    /// How many events of this kind happened.
    pub fn count(&self, op: &str) -> usize {
        self.events.iter().filter(|e| e.op == op).count()
    }

    /// Every recorded API request, oldest first.
    pub fn requests(&self) -> impl Iterator<Item = &Request> {
        self.events.iter().filter_map(|e| e.request.as_ref())
    }

    /// The recorded requests with this method whose path ends with `path_end` (e.g. `POST`,
    /// `/acl`), oldest first.
    pub fn requests_to(&self, method: &str, path_end: &str) -> Vec<&Request> {
        self.requests()
            .filter(|r| r.method == method && r.path.ends_with(path_end))
            .collect()
    }

    /// The one OAuth client, or the one with this id.
    pub fn oauth_client_mut(&mut self, id: Option<&str>) -> Result<&mut OAuthClient> {
        let count = self.oauth_clients.len();
        let mut matching = self
            .oauth_clients
            .iter_mut()
            .filter(|c| id.is_none_or(|id| c.id == id));
        match (matching.next(), matching.next(), id) {
            (Some(client), None, _) => Ok(client),
            (None, _, Some(id)) => bail!("no OAuth client with id {id:?} in the simulated tailnet"),
            _ => {
                bail!("the simulated tailnet has {count} OAuth clients: name one with --client ID")
            }
        }
    }

    pub fn device(&self, name_or_id: &str) -> Option<&Device> {
        self.devices
            .iter()
            .find(|d| d.name == name_or_id || d.node_id == name_or_id || d.id == name_or_id)
    }
}

/// A handle on the file; every access goes through [`SimFile::read`] or [`SimFile::update`].
#[derive(Clone, Debug)]
pub struct SimFile {
    path: PathBuf,
}

impl SimFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file named by a `file:///absolute/path` base URL.
    pub fn from_base_url(url: &str) -> Result<Self> {
        match url.strip_prefix("file://") {
            Some(path) if path.starts_with('/') && !path.contains('%') => Ok(Self::new(path)),
            Some(_) => bail!(
                "base URL {url:?} must be file:///absolute/path (no host, no %-escapes) to name a simulated tailnet"
            ),
            None => bail!(
                "base URL {url:?} is not a file:// URL: the stand-in provider only serves a simulated tailnet file and never contacts a network"
            ),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a new tailnet file; refuses to replace an existing one unless `force`.
    pub fn create(&self, tailnet: &Tailnet, force: bool) -> Result<()> {
        let _lock = self.lock()?;
        if !force && self.path.exists() {
            bail!(
                "{} already exists (pass --force to replace it)",
                self.path.display()
            );
        }
        self.write(tailnet)
    }

    /// Reads the file under the lock.
    pub fn read(&self) -> Result<Tailnet> {
        let _lock = self.lock()?;
        self.load()
    }

    /// Reads, changes and writes back the file under the lock. The file is rewritten only when
    /// `change` succeeds and changed something; its `Ok` value is returned.
    pub fn update<T>(&self, change: impl FnOnce(&mut Tailnet) -> Result<T>) -> Result<T> {
        let _lock = self.lock()?;
        let mut tailnet = self.load()?;
        let before = tailnet.clone();
        let value = change(&mut tailnet)?;
        if tailnet != before {
            self.write(&tailnet)?;
        }
        Ok(value)
    }

    fn lock(&self) -> Result<File> {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&name)
            .with_context(|| format!("cannot open lock file {}", Path::new(&name).display()))?;
        lock.lock()
            .with_context(|| format!("cannot lock {}", Path::new(&name).display()))?;
        Ok(lock)
    }

    fn load(&self) -> Result<Tailnet> {
        let mut text = String::new();
        File::open(&self.path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .with_context(|| {
                format!(
                    "cannot read simulated tailnet {} (create it with `standin-tailnet init`)",
                    self.path.display()
                )
            })?;
        let tailnet: Tailnet = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid simulated tailnet", self.path.display()))?;
        if tailnet.version != FORMAT_VERSION {
            bail!(
                "{} has format version {}, this stand-in reads version {FORMAT_VERSION}",
                self.path.display(),
                tailnet.version
            );
        }
        Ok(tailnet)
    }

    /// Atomic replace: temp file in the same directory, fsync, rename, fsync the directory.
    fn write(&self, tailnet: &Tailnet) -> Result<()> {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(format!(".tmp{}", std::process::id()));
        let tmp = PathBuf::from(tmp_name);
        let mut bytes = serde_json::to_vec_pretty(tailnet)?;
        bytes.push(b'\n');
        let result = (|| -> std::io::Result<()> {
            let mut file = OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            File::open(dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.with_context(|| format!("cannot write {}", self.path.display()))
    }
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// RFC 3339 in whole seconds, as the provider stores times (`time.Format(time.RFC3339)`).
pub fn format_time(t: OffsetDateTime) -> String {
    crate::gotext::rfc3339(t)
}

pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

pub fn in_seconds(t: OffsetDateTime, seconds: i64) -> OffsetDateTime {
    t + Duration::seconds(seconds)
}

/// A key or client id shaped like the real ones (`k…CNTRL`).
pub fn new_id() -> Result<String> {
    Ok(format!("k{}CNTRL", random_alnum(12)?))
}

/// A random UUID (version 4), as the real providers give resources without an API id.
pub fn new_uuid() -> Result<String> {
    let hex = random_hex(32)?;
    let variant = ["8", "9", "a", "b"][usize::from(hex.as_bytes()[16]) % 4];
    Ok(format!(
        "{}-{}-4{}-{variant}{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..]
    ))
}

/// `n` random characters from [A-Za-z0-9], from the kernel's random source.
pub fn random_alnum(n: usize) -> Result<String> {
    random_from(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        n,
    )
}

/// `n` random lower-case hex digits.
pub fn random_hex(n: usize) -> Result<String> {
    random_from(b"0123456789abcdef", n)
}

/// `n` random decimal digits.
pub fn random_digits(n: usize) -> Result<String> {
    random_from(b"0123456789", n)
}

fn random_from(alphabet: &[u8], n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n * 2];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("cannot read /dev/urandom")?;
    // Rejection sampling keeps the distribution uniform: only bytes below the largest multiple
    // of the alphabet's size count.
    let limit = 256 - 256 % alphabet.len();
    let out: String = bytes
        .iter()
        .filter(|&&b| usize::from(b) < limit)
        .map(|&b| char::from(alphabet[usize::from(b) % alphabet.len()]))
        .take(n)
        .collect();
    if out.len() < n {
        return random_from(alphabet, n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_secrets_look_real() -> Result<()> {
        let tailnet = Tailnet::new("example.com", vec!["tag:ci".into()])?;
        let client = &tailnet.oauth_clients[0];
        assert!(
            client.id.starts_with('k') && client.id.ends_with("CNTRL") && client.id.len() == 18,
            "client id {:?} is not shaped like k…CNTRL",
            client.id
        );
        let prefix = format!("tskey-client-{}-", client.id);
        assert!(
            client.secret.starts_with(&prefix) && client.secret.len() == prefix.len() + 32,
            "secret {:?} is not tskey-client-<id>-<32 random>",
            client.secret
        );
        Ok(())
    }

    #[test]
    fn update_is_atomic_and_round_trips() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("standin-sim-test-{}", std::process::id()));
        fs::create_dir_all(&dir)?;
        let file = SimFile::new(dir.join("sim.json"));
        file.create(&Tailnet::new("example.com", vec![])?, false)?;
        assert!(
            file.create(&Tailnet::new("x", vec![])?, false).is_err(),
            "create must refuse to replace an existing file"
        );
        file.update(|t| {
            t.record("expire", Some("k1"), None);
            Ok(())
        })?;
        let failed: Result<()> = file.update(|t| {
            t.record("never", None, None);
            bail!("change fails")
        });
        assert!(failed.is_err(), "a failing change reports its error");
        let tailnet = file.read()?;
        assert_eq!(
            tailnet.count("expire"),
            1,
            "the successful change was saved"
        );
        assert_eq!(tailnet.count("never"), 0, "a failing change is not saved");
        let leftovers: Vec<_> = fs::read_dir(&dir)?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "temp files left behind: {leftovers:?}"
        );
        fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn base_url_must_name_a_local_file() {
        assert!(
            SimFile::from_base_url("file:///tmp/sim.json").is_ok(),
            "absolute file URL"
        );
        for bad in [
            "https://api.tailscale.com",
            "file://host/x",
            "file://relative",
            "file:///a%20b",
        ] {
            assert!(
                SimFile::from_base_url(bad).is_err(),
                "{bad} must be refused"
            );
        }
    }

    #[test]
    fn invalid_means_expired_or_revoked() {
        let now = now();
        let mut key = Key {
            id: "k1".into(),
            key: "tskey-auth-k1-x".into(),
            description: String::new(),
            tags: vec![],
            reusable: true,
            ephemeral: false,
            preauthorized: false,
            created: format_time(now),
            expires: format_time(in_seconds(now, 60)),
            expiry_seconds: 60,
            revoked: false,
            user_id: String::new(),
        };
        assert!(!key.invalid(now), "a fresh key is valid");
        key.revoked = true;
        assert!(key.invalid(now), "a revoked key is invalid");
        key.revoked = false;
        key.expires = format_time(in_seconds(now, -1));
        assert!(key.invalid(now), "an expired key is invalid");
    }
}
