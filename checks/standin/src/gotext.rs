//! Texts the way Go programs print them, so that the stand-ins' messages read like the real
//! providers' (both are Go programs): `%q` quoting, `os` errors, RFC 3339 times.

use std::io;
use std::path::Path;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Go's `%q` of a string. Rust's `{:?}` agrees for the printable ASCII these texts carry.
pub fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// Go's `%q` of a value whose `String()` is already quoted (a framework `types.String`):
/// `"\"k123\""` (terraform-provider-tailscale v0.29.2 resource_tailnet_key.go prints ids so).
pub fn double_quoted(s: &str) -> String {
    quote(&quote(s))
}

/// Go's `%q` of a byte (a rune literal), as hujson's parse errors print the offending byte.
pub fn quote_byte(b: u8) -> String {
    match b {
        b'\'' => r"'\''".to_owned(),
        b'\\' => r"'\\'".to_owned(),
        b'\n' => r"'\n'".to_owned(),
        b'\r' => r"'\r'".to_owned(),
        b'\t' => r"'\t'".to_owned(),
        0x20..=0x7e | 0xa1..=0xff => format!("'{}'", char::from(b)),
        0x80..=0xa0 => format!("'\\u{b:04x}'"),
        _ => format!("'\\x{b:02x}'"),
    }
}

/// The text of Go's `*os.PathError`: `<op> <path>: <errno text>`, e.g.
/// `open /x: no such file or directory` (Go's errno texts are the C library's, lower-cased).
pub fn os_error(op: &str, path: &Path, err: &io::Error) -> String {
    let text = err.to_string();
    // Rust appends " (os error N)" to the C library's text.
    let text = match text.find(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    let text: String = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    format!("{op} {}: {text}", path.display())
}

/// Go's `t.Format(time.RFC3339)`: whole seconds, `Z` for UTC, else the offset.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// Go's `url.PathEscape` of one path element.
pub fn path_escape(s: &str) -> String {
    escape(s, |b| b"-_.~$&+:=@".contains(&b), false)
}

/// Go's `url.QueryEscape`: a space becomes `+`.
pub fn query_escape(s: &str) -> String {
    escape(s, |b| b"-_.~".contains(&b), true)
}

fn escape(s: &str, also_unreserved: impl Fn(u8) -> bool, space_as_plus: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || also_unreserved(b) {
            out.push(char::from(b));
        } else if b == b' ' && space_as_plus {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_read_like_go() {
        let err = io::Error::from_raw_os_error(2);
        assert_eq!(
            os_error("open", Path::new("/nope"), &err),
            "open /nope: no such file or directory",
            "Go lower-cases errno texts and has no (os error N) suffix"
        );
    }

    #[test]
    fn quoting_matches_go() {
        assert_eq!(
            double_quoted("k1CNTRL"),
            r#""\"k1CNTRL\"""#,
            "%q of a quoted string"
        );
        assert_eq!(quote_byte(b'}'), "'}'", "a printable byte");
        assert_eq!(quote_byte(b'\n'), r"'\n'", "a newline");
        assert_eq!(quote_byte(0x01), r"'\x01'", "a control byte");
    }

    #[test]
    fn escapes_match_net_url() {
        assert_eq!(query_escape("tag:web x"), "tag%3Aweb+x", "QueryEscape");
        assert_eq!(path_escape("example.com"), "example.com", "dots stay");
        assert_eq!(path_escape("a/b c"), "a%2Fb%20c", "PathEscape");
    }
}
