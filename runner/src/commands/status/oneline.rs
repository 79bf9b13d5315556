//! `status --oneline`: what the activation script prints on every switch.
use crate::commands::status::gather::{Last, Report};

pub fn render(r: &Report) -> String {
    let mut line = match (&r.last, r.error_first_line()) {
        (_, Some(why)) => format!("tailscale-manager: last apply [error] {why}"),
        (Last::Recorded(_), None) => "tailscale-manager: last apply [ok]".to_string(),
        (_, None) => "tailscale-manager: last apply [none]".to_string(),
    };
    if let Some(note) = r.snapshot_note() {
        line.push_str(&format!("; state: {note}"));
    }
    format!("{line}\n")
}
