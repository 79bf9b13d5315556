//! terraform's machine-readable UI (`apply -json`), line by line: progress lines for the
//! journal, the change counts and the error diagnostics (with the fix `hints.rs` knows); and
//! terraform's words for "run init first", in JSON or plain text.
use serde::Deserialize;

use crate::stores::last_apply::Changes;
use crate::terraform::hints;

/// True when terraform's text says the working directory needs `init`.
pub fn mentions_init(text: &str) -> bool {
    [
        "terraform init",
        "tofu init",
        "Inconsistent dependency lock file",
        "Required plugins are not installed",
        "Backend initialization required",
        "Module not installed",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// The state of a `-json` run, built line by line.
#[derive(Debug, Default)]
pub struct JsonLog {
    /// The final `change_summary` of an apply or destroy.
    pub summary: Option<Changes>,
    /// Changes counted from `apply_complete` messages (what really happened so far).
    pub completed: Changes,
    /// Whether terraform started changing anything.
    pub started_applying: bool,
    /// Error diagnostics, one readable text each.
    pub errors: Vec<String>,
    pub needs_init: bool,
}

pub enum Feed {
    /// A progress line for the journal.
    Show(String),
    /// A JSON message we understood and do not print.
    Quiet,
}

/// One line of terraform's `-json` output.
#[derive(Deserialize)]
struct Line {
    #[serde(rename = "@message", default)]
    text: String,
    #[serde(flatten)]
    message: Message,
}

/// The message types the runner reads (terraform 1.11's `type` field); every other type is
/// `Other`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Message {
    ChangeSummary {
        changes: Option<SummaryChanges>,
    },
    ApplyStart,
    ApplyComplete {
        hook: Option<Hook>,
    },
    ApplyErrored,
    PlannedChange,
    ResourceDrift,
    Diagnostic {
        diagnostic: Option<Diagnostic>,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct SummaryChanges {
    add: u64,
    change: u64,
    remove: u64,
    operation: String,
}

#[derive(Deserialize)]
struct Diagnostic {
    severity: String,
    summary: String,
    #[serde(default)]
    detail: String,
    address: Option<String>,
}

#[derive(Deserialize)]
struct Hook {
    action: Option<String>,
}

impl JsonLog {
    /// Takes one stdout line. Returns None for lines that are not terraform JSON messages.
    pub fn feed(&mut self, line: &str) -> Option<Feed> {
        let Line { text, message } = serde_json::from_str(line).ok()?;
        let show = Some(Feed::Show(text));
        match message {
            Message::ChangeSummary { changes } => {
                if let Some(c) = changes
                    && (c.operation == "apply" || c.operation == "destroy")
                {
                    self.summary = Some(Changes {
                        add: c.add,
                        change: c.change,
                        remove: c.remove,
                    });
                }
                show
            }
            Message::ApplyStart => {
                self.started_applying = true;
                show
            }
            Message::ApplyComplete { hook } => {
                match hook.and_then(|h| h.action).as_deref() {
                    Some("create") => self.completed.add += 1,
                    Some("update") => self.completed.change += 1,
                    Some("delete") => self.completed.remove += 1,
                    _ => {}
                }
                show
            }
            Message::ApplyErrored | Message::PlannedChange | Message::ResourceDrift => show,
            Message::Diagnostic { diagnostic: None } => show,
            Message::Diagnostic {
                diagnostic: Some(d),
            } => Some(Feed::Show(self.diagnostic(d))),
            Message::Other => Some(Feed::Quiet),
        }
    }

    /// `address: summary: detail`, and for an error `; fix` when there is one; errors are
    /// collected.
    fn diagnostic(&mut self, d: Diagnostic) -> String {
        let mut text = match &d.address {
            Some(address) => format!("{address}: {}", d.summary),
            None => d.summary.clone(),
        };
        if !d.detail.trim().is_empty() {
            text.push_str(": ");
            text.push_str(d.detail.trim());
        }
        if d.severity == "error" {
            if let Some(fix) = hints::fix(d.address.as_deref(), &d.summary, &d.detail) {
                text.truncate(text.trim_end_matches('.').len());
                text.push_str("; ");
                text.push_str(&fix);
            }
            self.needs_init |= mentions_init(&d.summary) || mentions_init(&d.detail);
            self.errors.push(text.clone());
            format!("Error: {text}")
        } else {
            format!("Warning: {text}")
        }
    }

    /// What changed: the final summary, or what completed before a failure.
    pub fn changes(&self) -> Option<Changes> {
        self.summary
            .or(self.started_applying.then_some(self.completed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE_CREATED: Option<Changes> = Some(Changes {
        add: 1,
        change: 0,
        remove: 0,
    });

    // Lines as terraform 1.11.4 writes them for the real provider (one create).
    const SUCCESS: &[&str] = &[
        r#"{"@level":"info","@message":"Terraform 1.11.4","@module":"terraform.ui","terraform":"1.11.4","type":"version","ui":"1.2"}"#,
        r#"{"@level":"info","@message":"tailscale_tailnet_key.ci: Plan to create","@module":"terraform.ui","change":{"resource":{"addr":"tailscale_tailnet_key.ci"},"action":"create"},"type":"planned_change"}"#,
        r#"{"@level":"info","@message":"Plan: 1 to add, 0 to change, 0 to destroy.","@module":"terraform.ui","changes":{"add":1,"change":0,"import":0,"remove":0,"operation":"plan"},"type":"change_summary"}"#,
        r#"{"@level":"info","@message":"tailscale_tailnet_key.ci: Creating...","@module":"terraform.ui","hook":{"resource":{"addr":"tailscale_tailnet_key.ci"},"action":"create"},"type":"apply_start"}"#,
        r#"{"@level":"info","@message":"tailscale_tailnet_key.ci: Creation complete after 0s [id=k1CNTRL]","@module":"terraform.ui","hook":{"resource":{"addr":"tailscale_tailnet_key.ci"},"action":"create","id_key":"id","id_value":"k1CNTRL","elapsed_seconds":0},"type":"apply_complete"}"#,
        r#"{"@level":"info","@message":"Apply complete! Resources: 1 added, 0 changed, 0 destroyed.","@module":"terraform.ui","changes":{"add":1,"change":0,"import":0,"remove":0,"operation":"apply"},"type":"change_summary"}"#,
        r#"{"@level":"info","@message":"Outputs: 0","@module":"terraform.ui","outputs":{},"type":"outputs"}"#,
    ];

    #[test]
    fn a_successful_apply_is_summarised() {
        let mut log = JsonLog::default();
        let shown: Vec<String> = SUCCESS
            .iter()
            .filter_map(|l| match log.feed(l) {
                Some(Feed::Show(t)) => Some(t),
                _ => None,
            })
            .collect();
        assert_eq!(
            shown,
            [
                "tailscale_tailnet_key.ci: Plan to create",
                "Plan: 1 to add, 0 to change, 0 to destroy.",
                "tailscale_tailnet_key.ci: Creating...",
                "tailscale_tailnet_key.ci: Creation complete after 0s [id=k1CNTRL]",
                "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
            ]
        );
        assert_eq!(log.changes(), ONE_CREATED);
        assert!(log.errors.is_empty());
    }

    #[test]
    fn a_failed_apply_keeps_the_diagnostic_and_counts_what_completed() {
        let mut log = JsonLog::default();
        for line in &SUCCESS[..5] {
            log.feed(line);
        }
        log.feed(r#"{"@level":"error","@message":"tailscale_tailnet_key.b: Creation errored after 0s","hook":{"resource":{"addr":"tailscale_tailnet_key.b"},"action":"create"},"type":"apply_errored"}"#);
        log.feed(r#"{"@level":"error","@message":"Error: Failed to create key","diagnostic":{"severity":"error","summary":"Failed to create key","detail":"Error creating tailnet key: requested tags [tag:x] are invalid or not permitted (400)","address":"tailscale_tailnet_key.b"},"type":"diagnostic"}"#);
        assert_eq!(
            log.errors,
            [
                "tailscale_tailnet_key.b: Failed to create key: Error creating tailnet key: requested tags [tag:x] are invalid or not permitted (400)"
            ]
        );
        assert_eq!(
            log.changes(),
            ONE_CREATED,
            "no apply summary on failure: count completed operations"
        );
        assert!(!log.needs_init);
    }

    #[test]
    fn errors_the_tailnet_meets_carry_their_fix_on_the_same_line() {
        let mut log = JsonLog::default();
        // As terraform 1.11.4 prints the stand-in of the real provider v0.29.2's errors.
        let shown = log.feed(r#"{"@level":"error","@message":"Error: Overwrite Protected","@module":"terraform.ui","diagnostic":{"severity":"error","summary":"Overwrite Protected","detail":"You are trying to overwrite a non-default policy. Please import the ACL first or set overwrite_existing_content = true.","address":"tailscale_acl.policy","range":{"filename":"main.tf.json","start":{"line":1,"column":1,"byte":0},"end":{"line":1,"column":1,"byte":0}}},"type":"diagnostic"}"#);
        log.feed(r#"{"@level":"error","@message":"Error: Failed to fetch devices","@module":"terraform.ui","diagnostic":{"severity":"error","summary":"Failed to fetch devices","detail":"calling actor does not have enough permissions to perform this function (403)","address":"data.tailscale_devices.all"},"type":"diagnostic"}"#);
        let overwrite = "tailscale_acl.policy: Overwrite Protected: You are trying to overwrite a non-default policy. Please import the ACL first or set overwrite_existing_content = true; the tailnet's policy is not Tailscale's default: compare the live policy (admin console → Access controls) with the declared one (tailscale_acl.policy in main.tf.json), keep what you need in your configuration, then set services.tailscale-manager.acl.overwriteExisting = true";
        assert_eq!(
            log.errors,
            [
                overwrite.to_string(),
                "data.tailscale_devices.all: Failed to fetch devices: calling actor does not have enough permissions to perform this function (403); data.tailscale_devices.all needs the OAuth scope 'devices:core:read': add it to the OAuth client (admin console → Settings → OAuth clients)".to_string(),
            ],
            "terraform's words, then the fix, one line each"
        );
        assert!(
            matches!(shown, Some(Feed::Show(ref t)) if *t == format!("Error: {overwrite}")),
            "the journal gets the same line"
        );
        let warning = log.feed(r#"{"@message":"Warning","diagnostic":{"severity":"warning","summary":"Failed","detail":"calling actor does not have enough permissions to perform this function (403)"},"type":"diagnostic"}"#);
        assert!(
            matches!(warning, Some(Feed::Show(ref t)) if !t.contains("OAuth scope")),
            "warnings get no fix"
        );
    }

    #[test]
    fn init_required_is_recognised() {
        let mut log = JsonLog::default();
        log.feed(r#"{"@level":"error","@message":"Error: Inconsistent dependency lock file","diagnostic":{"severity":"error","summary":"Inconsistent dependency lock file","detail":"…run:\n  terraform init"},"type":"diagnostic"}"#);
        assert!(log.needs_init);
        assert_eq!(log.changes(), None, "nothing was applied");
        assert!(mentions_init("Error: Required plugins are not installed"));
        assert!(!mentions_init("Error: Failed to create key"));
    }

    #[test]
    fn non_json_lines_are_not_swallowed() {
        let mut log = JsonLog::default();
        assert!(log.feed("panic: runtime error").is_none());
        assert!(log.feed("{\"not\":\"terraform\"}").is_none());
    }

    #[test]
    fn warnings_and_unknown_message_types() {
        let mut log = JsonLog::default();
        let warning = log.feed(r#"{"@level":"warn","@message":"Warning: x","diagnostic":{"severity":"warning","summary":"Deprecated","detail":""},"type":"diagnostic"}"#);
        assert!(
            matches!(warning, Some(Feed::Show(ref t)) if t == "Warning: Deprecated"),
            "warnings are shown, not collected"
        );
        assert!(log.errors.is_empty());
        assert!(
            matches!(
                log.feed(r#"{"@message":"Outputs: 0","type":"outputs"}"#),
                Some(Feed::Quiet)
            ),
            "other message types are understood and not printed"
        );
        assert!(
            matches!(log.feed(r#"{"@message":"x","type":"change_summary","changes":{"add":1,"change":0,"remove":0,"operation":"plan"}}"#), Some(Feed::Show(_))),
            "a plan summary is shown"
        );
        assert_eq!(log.summary, None, "but it is not what the apply did");
    }
}
