//! `local_sensitive_file` as terraform-provider-local v2.9.0
//! internal/provider/resource_local_sensitive_file.go implements it, including what makes it
//! fragile:
//! - Create writes in place (Go's `os.WriteFile`: truncate, then write; not atomic), and the
//!   permissions apply only when the file is created (an existing file keeps its mode), both
//!   subject to the umask; missing parent directories get `directory_permission`;
//! - Read drops the resource from the state when the file is gone or its SHA-1 is not `id`, so
//!   the next apply writes it again; a changed mode or owner goes unnoticed;
//! - every input forces a replacement, and Delete removes the file ignoring any error. With
//!   `create_before_destroy` and an unchanged `filename`, the old instance's Delete therefore
//!   removes the file the new one has just written (hashicorp/terraform-provider-local#146).

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::Path;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use tf_provider::schema::{AttributeConstraint, AttributeType, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::framework::{error, error_at, import_not_implemented, schema};
use crate::gotext::os_error;

pub struct SensitiveFile;

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct FileState {
    pub filename: Value<String>,
    pub content: Value<String>,
    pub content_base64: Value<String>,
    pub source: Value<String>,
    pub file_permission: Value<String>,
    pub directory_permission: Value<String>,
    pub id: Value<String>,
    pub content_md5: Value<String>,
    pub content_sha1: Value<String>,
    pub content_sha256: Value<String>,
    pub content_base64sha256: Value<String>,
    pub content_sha512: Value<String>,
    pub content_base64sha512: Value<String>,
}

/// The state as terraform holds it: `Null` is how Read removes the resource.
type State = Value<FileState>;

/// The attributes whose change forces a replacement: every input.
const INPUTS: [&str; 6] = [
    "filename",
    "content",
    "content_base64",
    "source",
    "file_permission",
    "directory_permission",
];

/// The content attributes of which exactly one must be set, each validator naming itself first
/// (terraform-plugin-framework-validators v0.19.0 stringvalidator.ExactlyOneOf).
const CONTENT_SOURCES: [&str; 3] = ["content", "content_base64", "source"];

const DEFAULT_PERMISSION: &str = "0700";

impl FileState {
    fn input(&self, name: &str) -> &Value<String> {
        match name {
            "filename" => &self.filename,
            "content" => &self.content,
            "content_base64" => &self.content_base64,
            "source" => &self.source,
            "file_permission" => &self.file_permission,
            _ => &self.directory_permission,
        }
    }

    fn text(value: &Value<String>) -> String {
        value.as_ref_option().cloned().unwrap_or_default()
    }

    /// The computed attributes, all unknown until the file is written.
    fn forget_computed(&mut self) {
        for computed in [
            &mut self.id,
            &mut self.content_md5,
            &mut self.content_sha1,
            &mut self.content_sha256,
            &mut self.content_base64sha256,
            &mut self.content_sha512,
            &mut self.content_base64sha512,
        ] {
            *computed = Value::Unknown;
        }
    }

    /// genFileChecksums; `id` is the SHA-1.
    fn set_checksums(&mut self, content: &[u8]) {
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let sha1 = hex(&Sha1::digest(content));
        let sha256 = Sha256::digest(content);
        let sha512 = Sha512::digest(content);
        self.content_md5 = Value::Value(hex(&Md5::digest(content)));
        self.content_sha1 = Value::Value(sha1.clone());
        self.content_sha256 = Value::Value(hex(&sha256));
        self.content_base64sha256 = Value::Value(STANDARD.encode(sha256));
        self.content_sha512 = Value::Value(hex(&sha512));
        self.content_base64sha512 = Value::Value(STANDARD.encode(sha512));
        self.id = Value::Value(sha1);
    }
}

/// localtypes FilePermissionValue.ValidateAttribute.
fn permission_problem(permission: &str) -> Option<String> {
    if !(3..=4).contains(&permission.len()) {
        return Some(format!(
            "bad mode permission: string length should be 3 or 4 digits: {permission}"
        ));
    }
    match i64::from_str_radix(permission, 8) {
        Ok(mode) if (0..=0o777).contains(&mode) => None,
        _ => Some(format!(
            "bad mode permission: string must be expressed in octal numeric notation: {permission}"
        )),
    }
}

fn mode(permission: &Value<String>) -> u32 {
    u32::from_str_radix(&FileState::text(permission), 8).unwrap_or(0o700)
}

/// Go's `base64.StdEncoding.DecodeString` error text.
fn base64_error(e: base64::DecodeError) -> String {
    let at = match e {
        base64::DecodeError::InvalidByte(at, _) | base64::DecodeError::InvalidLastSymbol(at, _) => {
            at
        }
        base64::DecodeError::InvalidLength(at) => at,
        base64::DecodeError::InvalidPadding => 0,
    };
    format!("illegal base64 data at input byte {at}")
}

/// parseLocalSensitiveFileContent: `content_base64`, else `source`, else `content`.
fn content(plan: &FileState) -> Result<Vec<u8>, String> {
    if let Value::Value(encoded) = &plan.content_base64 {
        // Go's decoder skips newlines.
        let encoded: String = encoded
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n'))
            .collect();
        return STANDARD.decode(encoded).map_err(base64_error);
    }
    if let Value::Value(source) = &plan.source {
        return fs::read(source).map_err(|e| os_error("open", Path::new(source), &e));
    }
    Ok(FileState::text(&plan.content).into_bytes())
}

/// The provider's error detail: its text, a blank line, then a literal `+` before the cause.
fn create_error(diags: &mut Diagnostics, what: &str, cause: &str) {
    error(
        diags,
        "Create local sensitive file error",
        format!("An unexpected error occurred while {what}\n\n+Original Error: {cause}"),
    );
}

/// `os.MkdirAll(dir, mode)`: every missing directory gets `mode` (before the umask).
fn make_dirs(dir: &Path, mode: u32) -> Result<(), String> {
    DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(|e| os_error("mkdir", dir, &e))
}

/// `os.WriteFile(path, content, mode)`: open with O_CREATE|O_TRUNC (the mode counts only if the
/// file is new), then write. Not atomic: a reader can see it empty or half-written.
fn write_file(path: &Path, content: &[u8], mode: u32) -> Result<(), String> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| os_error("open", path, &e))?;
    file.write_all(content)
        .map_err(|e| os_error("write", path, &e))
}

/// The framework's defaults where the config leaves the permissions null.
fn apply_defaults(plan: &mut FileState, config: &FileState) {
    for (planned, configured) in [
        (&mut plan.file_permission, &config.file_permission),
        (&mut plan.directory_permission, &config.directory_permission),
    ] {
        if configured.is_null() {
            *planned = Value::Value(DEFAULT_PERMISSION.to_owned());
        }
    }
}

#[async_trait]
impl Resource for SensitiveFile {
    type State<'a> = State;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
        use AttributeType::String as Str;
        Some(schema(
            [
                ("filename", Str, Required, false),
                ("content", Str, Optional, true),
                ("content_base64", Str, Optional, true),
                ("source", Str, Optional, false),
                ("file_permission", Str, OptionalComputed, false),
                ("directory_permission", Str, OptionalComputed, false),
                ("id", Str, Computed, false),
                ("content_md5", Str, Computed, false),
                ("content_sha1", Str, Computed, false),
                ("content_sha256", Str, Computed, false),
                ("content_base64sha256", Str, Computed, false),
                ("content_sha512", Str, Computed, false),
                ("content_base64sha512", Str, Computed, false),
            ],
            vec![],
        ))
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: State) -> Option<()> {
        let Value::Value(config) = config else {
            return Some(());
        };
        let inputs = CONTENT_SOURCES.map(|name| config.input(name));
        // ExactlyOneOf waits until every involved value is known.
        if !inputs.iter().any(|v| v.is_unknown()) {
            let set = inputs.iter().filter(|v| !v.is_null()).count();
            if set != 1 {
                for (index, name) in CONTENT_SOURCES.iter().enumerate() {
                    let mut names = vec![*name];
                    names.extend(
                        CONTENT_SOURCES
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| *i != index)
                            .map(|(_, n)| *n),
                    );
                    let expressions = format!("[{}]", names.join(","));
                    let detail = match set {
                        0 => format!(
                            "No attribute specified when one (and only one) of {expressions} is required"
                        ),
                        n => format!(
                            "{n} attributes specified when one (and only one) of {expressions} is required"
                        ),
                    };
                    error_at(
                        diags,
                        "Invalid Attribute Combination",
                        detail,
                        AttributePath::new(*name),
                    );
                }
            }
        }
        for name in ["file_permission", "directory_permission"] {
            let value = if name == "file_permission" {
                &config.file_permission
            } else {
                &config.directory_permission
            };
            if let Some(problem) = value.as_ref_option().and_then(|p| permission_problem(p)) {
                error_at(
                    diags,
                    "Invalid File Permission String Value",
                    problem,
                    AttributePath::new(name),
                );
            }
        }
        diags.errors.is_empty().then_some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: State,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(State, ValueEmpty)> {
        let Value::Value(file) = &state else {
            return Some((state, private));
        };
        let path = FileState::text(&file.filename);
        let path = Path::new(&path);
        // A missing file: drop the resource, so the plan creates it again.
        if fs::metadata(path).is_err_and(|e| e.kind() == io::ErrorKind::NotFound) {
            return Some((Value::Null, private));
        }
        let content = match fs::read(path) {
            Ok(content) => content,
            Err(e) => {
                error(
                    diags,
                    "Read local sensitive file error",
                    format!(
                        "An unexpected error occurred while reading the file\n\n+Original Error: {}",
                        os_error("open", path, &e)
                    ),
                );
                return None;
            }
        };
        let mut checked = FileState::default();
        checked.set_checksums(&content);
        // Changed behind terraform's back: drop it too.
        if checked.id != file.id {
            return Some((Value::Null, private));
        }
        Some((state, private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: State,
        config: State,
        _meta: ValueEmpty,
    ) -> Option<(State, ValueEmpty)> {
        let (Value::Value(mut plan), Value::Value(config)) = (proposed, config) else {
            return Some((Value::Unknown, ValueEmpty::default()));
        };
        apply_defaults(&mut plan, &config);
        plan.forget_computed();
        Some((Value::Value(plan), ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: State,
        proposed: State,
        config: State,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(State, ValueEmpty, Vec<AttributePath>)> {
        let (Value::Value(prior), Value::Value(mut plan), Value::Value(config)) =
            (prior, proposed, config)
        else {
            return Some((Value::Unknown, ValueEmpty::default(), vec![]));
        };
        apply_defaults(&mut plan, &config);
        // RequiresReplace on every input whose planned value differs from the state's.
        let replace: Vec<AttributePath> = INPUTS
            .iter()
            .filter(|name| plan.input(name) != prior.input(name))
            .map(|name| AttributePath::new(*name))
            .collect();
        if !replace.is_empty() {
            plan.forget_computed();
        }
        Some((Value::Value(plan), ValueEmpty::default(), replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: State,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(ValueEmpty::default())
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: State,
        _config: State,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(State, ValueEmpty)> {
        let Value::Value(mut plan) = planned else {
            error(
                diags,
                "Create local sensitive file error",
                "the plan is not known",
            );
            return None;
        };
        let content = match content(&plan) {
            Ok(content) => content,
            Err(e) => {
                create_error(diags, "parsing local file content", &e);
                return None;
            }
        };
        let path = FileState::text(&plan.filename);
        let path = Path::new(&path);
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if fs::metadata(dir).is_err()
            && let Err(e) = make_dirs(dir, mode(&plan.directory_permission))
        {
            create_error(diags, "creating file directory", &e);
            return None;
        }
        if let Err(e) = write_file(path, &content, mode(&plan.file_permission)) {
            create_error(diags, "writing the file", &e);
            return None;
        }
        plan.set_checksums(&content);
        Some((Value::Value(plan), private))
    }

    /// Every input forces a replacement, so an update only keeps the plan.
    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: State,
        planned: State,
        _config: State,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(State, ValueEmpty)> {
        Some((planned, private))
    }

    /// Go's `os.Remove` (a file, or an empty directory), every error ignored.
    async fn destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: State,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        if let Value::Value(file) = prior {
            let path = FileState::text(&file.filename);
            if fs::remove_file(&path).is_err() {
                let _ = fs::remove_dir(&path);
            }
        }
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        _id: String,
    ) -> Option<(State, ValueEmpty)> {
        import_not_implemented(diags);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_validated_like_localtypes() {
        assert_eq!(permission_problem("0600"), None, "four digits");
        assert_eq!(permission_problem("644"), None, "three digits");
        assert_eq!(
            permission_problem("06000").as_deref(),
            Some("bad mode permission: string length should be 3 or 4 digits: 06000"),
            "too long"
        );
        assert_eq!(
            permission_problem("0800").as_deref(),
            Some("bad mode permission: string must be expressed in octal numeric notation: 0800"),
            "not octal"
        );
        assert!(permission_problem("1777").is_some(), "above 0777");
    }

    #[test]
    fn checksums_match_the_known_values() {
        let mut state = FileState::default();
        state.set_checksums(b"abc");
        assert_eq!(
            state.id,
            Value::Value("a9993e364706816aba3e25717850c26c9cd0d89d".to_owned()),
            "id is the SHA-1 of the content"
        );
        assert_eq!(
            state.content_md5,
            Value::Value("900150983cd24fb0d6963f7d28e17f72".to_owned()),
            "MD5"
        );
        assert_eq!(
            state.content_base64sha256,
            Value::Value("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=".to_owned()),
            "base64 of the SHA-256"
        );
    }

    #[test]
    fn content_comes_from_base64_then_source_then_content() {
        let plan = FileState {
            content_base64: Value::Value("aGk=".into()),
            content: Value::Value("ignored".into()),
            ..FileState::default()
        };
        assert_eq!(content(&plan), Ok(b"hi".to_vec()), "base64 wins");
        let bad = FileState {
            content_base64: Value::Value("a$".into()),
            ..FileState::default()
        };
        assert_eq!(
            content(&bad),
            Err("illegal base64 data at input byte 1".to_owned()),
            "Go's decoder error"
        );
    }
}
