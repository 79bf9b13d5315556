//! `status`: reads files only (never takes the lock, never touches the network). `gather`
//! collects everything once; each format has its own renderer; `show` scrubs what any of them
//! renders.
//!
//! Exit code, every format: 0 when the last apply/destroy succeeded, 1 when it failed or
//! its result is missing or unreadable; 1 too when the payload cannot be written, and 141
//! (quietly) when its reader went away (`util/outcome.rs`).
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
    let text = match format {
        StatusFormat::Human => human::render(&report),
        StatusFormat::Json => json::render(&report),
        StatusFormat::Waybar => waybar::render(&report),
        StatusFormat::Prometheus => prometheus::render(&report),
        StatusFormat::Oneline => oneline::render(&report),
    };
    // One scrubbing path for every format: whatever a state or last-apply.json holds (ids,
    // addresses, instance keys, error texts), no `tskey-` token is printed. A redacted token
    // stays valid JSON and a valid Prometheus label value.
    let text = scrub::redact_tokens_owned(text);
    let done = if report.succeeded() {
        Outcome::Success
    } else {
        Outcome::Failed
    };
    Outcome::after_payload("the status", console::payload(&text), done)
}
