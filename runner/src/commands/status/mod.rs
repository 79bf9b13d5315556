//! `status`: reads files only (never takes the lock, never touches the network). `gather`
//! collects everything once; each format has its own renderer; `show` scrubs what any of them
//! renders.
//!
//! Exit code: `status` and `status --json` exit 0 when the last apply/destroy succeeded, 1 when
//! it failed or its result is missing or unreadable; `--waybar`, `--prometheus` and
//! `--oneline` exit 0 whenever they printed their payload (the state is in it). Every format
//! exits 1 when the payload cannot be written, and 141 (quietly) when its reader went away
//! (`util/outcome.rs`).
pub mod key_files;
pub mod gather;
pub mod human;
pub mod json;
pub mod waybar;
pub mod prometheus;
pub mod oneline;

use anyhow::Result;

use crate::config::options::{Options, StatusFormat};
use crate::util::outcome::Outcome;
use crate::util::{clock, console, scrub};

use gather::Report;

pub fn show(opts: &Options, format: StatusFormat) -> Result<Outcome> {
    let report = Report::gather(opts, clock::now(), format);
    let text = render(&report, format);
    // The display and collector formats carry the state in their payload (class `error`,
    // `tailscale_manager_last_apply_success 0`, `[error]`); they exit 0 whenever it is printed,
    // since waybar hides a module whose command fails and a collector job stops updating.
    let carries_the_state = matches!(
        format,
        StatusFormat::Waybar | StatusFormat::Prometheus | StatusFormat::Oneline
    );
    let done = if carries_the_state || report.succeeded() {
        Outcome::Success
    } else {
        Outcome::Failed
    };
    Outcome::after_payload("the status", console::payload(&text), done)
}

/// The report in `format`, scrubbed: one scrubbing path for every format, so whatever a state
/// or last-apply.json holds (ids, addresses, instance keys, error texts), no `tskey-` token is
/// printed. A redacted token stays valid JSON and a valid Prometheus label value.
pub fn render(report: &Report, format: StatusFormat) -> String {
    let text = match format {
        StatusFormat::Human => human::render(report),
        StatusFormat::Json => json::render(report),
        StatusFormat::Waybar => waybar::render(report),
        StatusFormat::Prometheus => prometheus::render(report),
        StatusFormat::Oneline => oneline::render(report),
    };
    scrub::redact_tokens_owned(text)
}
