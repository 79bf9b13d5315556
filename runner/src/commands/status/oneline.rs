//! `status --oneline`: what the activation script prints on every switch.
use crate::commands::status::gather::{Last, Report};

pub fn render(r: &Report) -> String {
    let line = match (&r.last, r.error_first_line()) {
        (_, Some(why)) => format!("tailscale-manager: last apply [error] {why}"),
        (Last::Recorded(_), None) => "tailscale-manager: last apply [ok]".to_string(),
        (_, None) => "tailscale-manager: last apply [none]".to_string(),
    };
    format!("{line}\n")
}
