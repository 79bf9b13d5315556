//! `status --waybar`: one JSON line for a waybar custom module (`"return-type": "json"`).
use std::fmt::Write as _;

use crate::commands::status::gather::{Last, Report};
use crate::stores::last_apply::ResultKind;

pub fn render(r: &Report) -> String {
    let bad = r.bad_keys();
    let (class, text) = match &r.last {
        Last::None => ("unknown", "? never applied".to_string()),
        Last::Recorded(l) if l.result == ResultKind::Ok => {
            if bad > 0 {
                ("error", format!("✗ {bad} bad key{}", plural(bad)))
            } else if !r.errors.is_empty() {
                ("error", "✗ unreadable state".into())
            } else {
                let n = r.keys.len();
                ("ok", format!("✓ {n} key{}", plural(n)))
            }
        }
        Last::Recorded(_) | Last::Unreadable => ("error", "✗ apply failed".to_string()),
    };
    let mut tooltip = String::new();
    match r.last_apply() {
        Some(l) => {
            let _ = writeln!(
                tooltip,
                "Last apply: {} ({})",
                l.timestamp,
                l.result.as_str()
            );
        }
        None => tooltip.push_str("Last apply: none\n"),
    }
    if let Some(line) = r.error_first_line() {
        let _ = writeln!(tooltip, "Error: {line}");
    }
    for k in &r.keys {
        let _ = writeln!(tooltip, "{} {} {}", k.mark(), k.key.id, k.key.address);
    }
    for e in &r.errors {
        let _ = writeln!(tooltip, "{e}");
    }
    let line = serde_json::json!({
        "text": text,
        "alt": class,
        "tooltip": tooltip.trim_end(),
        "class": class,
    });
    format!("{line}\n")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
