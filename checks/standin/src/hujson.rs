//! HuJSON (JSON with comments and trailing commas) as `github.com/tailscale/hujson` reads it:
//! the parser behind the real provider's `acl` validator (parse.go, with its error texts) and a
//! normal form standing in for `hujson.Format`, which the provider compares to suppress diffs
//! (terraform-provider-tailscale v0.29.2 plan_modifiers.go `aclHuJSONModifier`).
//!
//! `hujson.Format` is "go fmt for HuJSON": it rewrites layout, never content. The stand-in's
//! normal form is the token stream without whitespace: two texts are "formatted alike" when they
//! differ only in whitespace. So comments, key order, values and trailing commas all count,
//! as they do for the real one. Limits (where the real `Format` differs):
//! - it keeps at most one blank line between members, and whether an object or array sits on
//!   one line or several; here every whitespace difference is equal (a reflow from one line to
//!   many, or an added blank line, is a diff for the real provider and none here);
//! - on a one-line object or array it drops a trailing comma (`[1,]` formats like `[1]`), and
//!   on a multi-line one in a non-standard document it adds one; here a trailing comma always
//!   counts;
//! - it re-indents multi-line block comments by their common prefix; here each comment line
//!   is compared without its surrounding whitespace;
//! - it rewrites string escapes (`"\u0061"` and `"a"` format alike); here strings are compared
//!   by their decoded value, which agrees.

use std::fmt;

use crate::gotext::quote_byte;

/// One significant piece of a HuJSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// `{ } [ ] , :`
    Punct(u8),
    /// A string, decoded.
    String(String),
    /// A number, `true`, `false` or `null`, as written.
    Literal(String),
    /// A comment, with the whitespace `Format` would rewrite removed.
    Comment(String),
}

/// A parse error as hujson prints it: `hujson: line 1, column 1: <reason>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hujson: line {}, column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses a HuJSON document into its tokens, or says where and why it is not HuJSON.
pub fn parse(text: &str) -> Result<Vec<Token>, ParseError> {
    let mut parser = Parser {
        b: text.as_bytes(),
        n: 0,
        tokens: Vec::new(),
    };
    let result = parser.value().and_then(|()| match parser.peek() {
        Some(b) => Err((
            parser.n,
            format!("invalid character {} after top-level value", quote_byte(b)),
        )),
        None => Ok(()),
    });
    match result {
        Ok(()) => Ok(parser.tokens),
        Err((at, reason)) => {
            let before = &parser.b[..at];
            let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            Err(ParseError {
                line,
                column: 1 + at - line_start,
                reason,
            })
        }
    }
}

/// Whether `hujson.Format` would turn both texts into the same bytes, as far as the stand-in
/// models it (see the module's limits). A text that does not parse formats like nothing.
pub fn formats_alike(a: &str, b: &str) -> bool {
    matches!((parse(a), parse(b)), (Ok(a), Ok(b)) if a == b)
}

type Failure = (usize, String);

struct Parser<'a> {
    b: &'a [u8],
    n: usize,
    tokens: Vec<Token>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.n).copied()
    }

    fn eof(&self, what: &str) -> Failure {
        (self.n, format!("{what}: unexpected EOF"))
    }

    /// A value with the whitespace and comments around it (parse.go parseNext).
    fn value(&mut self) -> Result<(), Failure> {
        self.extra()?;
        self.trimmed()?;
        self.extra()
    }

    /// Whitespace and comments (parse.go consumeExtra). A line comment needs its newline.
    fn extra(&mut self) -> Result<(), Failure> {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.n += 1,
                b'/' => {
                    let rest = &self.b[self.n..];
                    let (end, line) = if rest.starts_with(b"//") {
                        (&b"\n"[..], true)
                    } else if rest.starts_with(b"/*") {
                        (&b"*/"[..], false)
                    } else {
                        return Ok(());
                    };
                    let Some(at) = find(&rest[2..], end) else {
                        return Err(self.eof("parsing comment"));
                    };
                    let len = 2 + at + end.len();
                    let comment = String::from_utf8_lossy(&rest[..len]);
                    self.tokens
                        .push(Token::Comment(normal_comment(&comment, line)));
                    self.n += len;
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// A value without the whitespace around it (parse.go parseNextTrimmed).
    fn trimmed(&mut self) -> Result<(), Failure> {
        match self.peek() {
            None => Err(self.eof("parsing value")),
            Some(b'{') => self.composite(b'{', b'}', "object"),
            Some(b'[') => self.composite(b'[', b']', "array"),
            Some(b'"') => self.string(),
            Some(_) => self.literal(),
        }
    }

    /// An object or an array; a closing bracket right after `{`/`[` or a comma ends it (so a
    /// trailing comma is allowed).
    fn composite(&mut self, open: u8, close: u8, kind: &str) -> Result<(), Failure> {
        self.tokens.push(Token::Punct(open));
        self.n += 1;
        loop {
            self.extra()?;
            if self.peek() == Some(close) {
                self.tokens.push(Token::Punct(close));
                self.n += 1;
                return Ok(());
            }
            if open == b'{' {
                self.member_name()?;
            } else {
                self.trimmed()?;
                self.extra()?;
            }
            match self.peek() {
                None => return Err(self.eof(&format!("parsing {kind} after value"))),
                Some(b',') => {
                    self.tokens.push(Token::Punct(b','));
                    self.n += 1;
                }
                Some(b) if b == close => {
                    self.tokens.push(Token::Punct(close));
                    self.n += 1;
                    return Ok(());
                }
                Some(b) => {
                    return Err((
                        self.n,
                        format!(
                            "invalid character {} after {kind} value (expecting ',' or '{}')",
                            quote_byte(b),
                            char::from(close)
                        ),
                    ));
                }
            }
        }
    }

    /// `"name": value` inside an object, up to the comma or closing brace.
    fn member_name(&mut self) -> Result<(), Failure> {
        let start = self.n;
        let is_string = self.peek() == Some(b'"');
        self.trimmed()?;
        if !is_string {
            return Err((
                start,
                format!(
                    "invalid character {} at start of object name",
                    quote_byte(self.b[start])
                ),
            ));
        }
        self.extra()?;
        match self.peek() {
            None => return Err(self.eof("parsing object after name")),
            Some(b':') => {
                self.tokens.push(Token::Punct(b':'));
                self.n += 1;
            }
            Some(b) => {
                return Err((
                    self.n,
                    format!("invalid character {} after object name", quote_byte(b)),
                ));
            }
        }
        self.extra()?;
        self.trimmed()?;
        self.extra()
    }

    fn string(&mut self) -> Result<(), Failure> {
        let start = self.n;
        let mut n = start + 1;
        let mut escaped = false;
        loop {
            let Some(&b) = self.b.get(n) else {
                self.n = n;
                return Err(self.eof("parsing string"));
            };
            n += 1;
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => break,
                _ => {}
            }
        }
        let literal = String::from_utf8_lossy(&self.b[start..n]).into_owned();
        match decode_string(&literal) {
            Some(decoded) => {
                self.tokens.push(Token::String(decoded));
                self.n = n;
                Ok(())
            }
            None => Err((start, format!("invalid literal: {literal}"))),
        }
    }

    /// `null`, `true`, `false` or a number: hujson first takes every `[-+.a-zA-Z0-9]`, then
    /// checks that the run is valid JSON.
    fn literal(&mut self) -> Result<(), Failure> {
        let start = self.n;
        let len = self.b[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
            .count();
        if len == 0 {
            return Err((
                start,
                format!(
                    "invalid character {} at start of value",
                    quote_byte(self.b[start])
                ),
            ));
        }
        let literal = String::from_utf8_lossy(&self.b[start..start + len]).into_owned();
        if !matches!(literal.as_str(), "null" | "true" | "false") && !is_json_number(&literal) {
            return Err((start, format!("invalid literal: {literal}")));
        }
        self.tokens.push(Token::Literal(literal));
        self.n = start + len;
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What `Format` leaves of a comment's whitespace: trailing whitespace never counts; the lines
/// of a multi-line block comment are re-indented, so their indentation does not count either.
fn normal_comment(comment: &str, line: bool) -> String {
    if line || !comment.contains('\n') {
        return comment.trim_end().to_owned();
    }
    comment
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n")
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// Decodes a JSON string literal (quotes included); `None` if it is not valid JSON. A lone
/// surrogate decodes to U+FFFD, as Go's decoder does.
fn decode_string(literal: &str) -> Option<String> {
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '/' => out.push('/'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let unit = hex4(&mut chars)?;
                    if (0xd800..0xdc00).contains(&unit) {
                        let mut ahead = chars.clone();
                        if ahead.next() == Some('\\') && ahead.next() == Some('u') {
                            let low = hex4(&mut ahead)?;
                            if (0xdc00..0xe000).contains(&low) {
                                let code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                                out.push(char::from_u32(code)?);
                                chars = ahead;
                                continue;
                            }
                        }
                    }
                    out.push(char::from_u32(unit).unwrap_or('\u{fffd}'));
                }
                _ => return None,
            },
            c if u32::from(c) < 0x20 => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut unit = 0;
    for _ in 0..4 {
        unit = unit * 16 + chars.next()?.to_digit(16)?;
    }
    Some(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> String {
        match parse(text) {
            Ok(tokens) => format!("parsed: {tokens:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn accepts_comments_and_trailing_commas() {
        let text = "// policy\n{\n  /* groups */ \"groups\": {\"group:a\": [\"x\",],},\n  \"n\": -1.5e3,\n}\n";
        assert!(parse(text).is_ok(), "JWCC document: {}", reason(text));
        assert!(parse("{}").is_ok(), "empty object");
        assert!(parse(" [ ] ").is_ok(), "empty array with whitespace");
    }

    #[test]
    fn errors_use_hujson_positions_and_texts() {
        let cases = [
            (
                "",
                "hujson: line 1, column 1: parsing value: unexpected EOF",
            ),
            ("not json", "hujson: line 1, column 1: invalid literal: not"),
            (
                "{\n  \"a\": 1\n  \"b\": 2\n}",
                "hujson: line 3, column 3: invalid character '\"' after object value (expecting ',' or '}')",
            ),
            (
                "{1: 2}",
                "hujson: line 1, column 2: invalid character '1' at start of object name",
            ),
            (
                "[1,,]",
                "hujson: line 1, column 4: invalid character ',' at start of value",
            ),
            (
                "{\"a\" 1}",
                "hujson: line 1, column 6: invalid character '1' after object name",
            ),
            (
                "{} {}",
                "hujson: line 1, column 4: invalid character '{' after top-level value",
            ),
            (
                "{} // no newline",
                "hujson: line 1, column 4: parsing comment: unexpected EOF",
            ),
            (
                "[\"a\\x\"]",
                "hujson: line 1, column 2: invalid literal: \"a\\x\"",
            ),
            ("[01]", "hujson: line 1, column 2: invalid literal: 01"),
            (
                "{\"a\":",
                "hujson: line 1, column 6: parsing value: unexpected EOF",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(reason(text), expected, "error for {text:?}");
        }
    }

    #[test]
    fn whitespace_only_differences_format_alike() {
        let compact = r#"{"acls":[{"action":"accept","src":["*"],"dst":["*:*"]}]}"#;
        let spread = "{\n\t\"acls\": [\n\t\t{ \"action\": \"accept\",\r\n \"src\": [\"*\"], \"dst\": [\"*:*\"] }\n\t]\n}\n";
        assert!(
            formats_alike(compact, spread),
            "indentation, CRLF and spacing are layout only"
        );
        assert!(
            formats_alike("{\"a\": 1} // note   \n", "{\"a\":1}// note\n"),
            "trailing whitespace in a comment and space before it do not count"
        );
        assert!(
            formats_alike(r#"{"k": "\u0061"}"#, r#"{"k": "a"}"#),
            "string escapes are normalised"
        );
    }

    #[test]
    fn content_differences_do_not_format_alike() {
        let base = r#"{"a": 1, "b": 2}"#;
        let cases = [
            ("{\n// a comment\n\"a\": 1, \"b\": 2}", "an added comment"),
            (r#"{"b": 2, "a": 1}"#, "another key order"),
            (r#"{"a": 1, "b": 2,}"#, "a trailing comma"),
            (r#"{"a": 1, "b": 3}"#, "another value"),
            (r#"{"a": 1.0, "b": 2}"#, "another spelling of a number"),
        ];
        for (other, what) in cases {
            assert!(!formats_alike(base, other), "{what} is a difference");
        }
        assert!(
            !formats_alike(base, "{"),
            "a text that does not parse never formats like one that does"
        );
    }
}
