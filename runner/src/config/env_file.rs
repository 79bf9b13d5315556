//! The credentials file's syntax: systemd's `EnvironmentFile=`, as its parser reads it
//! (`src/basic/env-file.c`, `parse_env_file_internal`, systemd v254 and later).
//!
//! Whatever this parser accepts means the same to systemd; where systemd would silently drop
//! or misread a line, this parser refuses the file, naming the line (never its content, which
//! may hold a secret):
//!
//! - `KEY=VALUE`; whitespace around `KEY` and before `VALUE` is dropped; blank lines and lines
//!   whose first non-blank character is `#` or `;` are comments; lines end at LF, CR or CRLF.
//! - An unquoted value ends at the line's end, without trailing whitespace; `\` keeps the next
//!   character as it is (an escaped space is kept), and `\` at the end of a line joins the next.
//! - `'…'` keeps everything up to the next `'` (line ends included); `"…"` likewise up to the
//!   next unescaped `"`, where `\"`, `\\`, `` \` `` and `\$` stand for the character, `\` at
//!   the end of a line joins the next, and any other `\x` stays as written.
//! - The last assignment of a name counts, an empty one included.
//!
//! Refused (systemd would drop the line, or read something else than meant): a line without
//! `=`, a name that is not a variable name, text after a closing quote (systemd would glue it
//! to the value), an unclosed quote, a NUL byte (no environment variable can hold one; systemd
//! stops reading there), and a UTF-8 byte order mark (systemd reads it as part of the first
//! name). One addition: an `export ` before the name is allowed (systemd would drop the line),
//! so a file written for a shell's `source` works.

/// One `KEY=VALUE` assignment and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// What a line that is neither an assignment nor a comment is, and the fix.
const NOT_AN_ASSIGNMENT: &str =
    "is not KEY=VALUE; write it as NAME=value, or begin it with # to make it a comment";

/// The characters `"…"` unescapes (systemd's `SHELL_NEED_ESCAPE`).
const DOUBLE_QUOTE_ESCAPES: [char; 4] = ['"', '\\', '`', '$'];

/// Parses the file's text into its assignments, in file order. Errors name the line.
pub fn parse(text: &str) -> Result<Vec<Assignment>, String> {
    if let Some(at) = text.find('\0') {
        return Err(format!(
            "line {} contains a NUL byte, which no environment variable can hold; remove it",
            line_of(text, at)
        ));
    }
    if text.starts_with('\u{feff}') {
        return Err(
            "line 1 starts with a UTF-8 byte order mark, which systemd's \
                    EnvironmentFile= reads as part of the name; save the file without it"
                .into(),
        );
    }
    let mut parser = Parser {
        chars: text.chars().collect(),
        at: 0,
        line: 1,
    };
    let mut assignments = Vec::new();
    while let Some(assignment) = parser.next_assignment()? {
        assignments.push(assignment);
    }
    Ok(assignments)
}

/// The 1-based line of byte `at`.
fn line_of(text: &str, at: usize) -> usize {
    let mut parser = Parser {
        chars: text[..at].chars().collect(),
        at: 0,
        line: 1,
    };
    while parser.peek().is_some() {
        parser.bump();
    }
    parser.line
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    /// The line of the next character: LF, CR and CRLF each end one.
    line: usize,
}

fn is_newline(c: char) -> bool {
    c == '\n' || c == '\r'
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    /// Takes the next character, counting lines (a CR followed by LF is one line end).
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' || (c == '\r' && self.peek() != Some('\n')) {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_blanks(&mut self) {
        while self.peek().is_some_and(is_blank) {
            self.bump();
        }
    }

    /// Takes the rest of the line and its end.
    fn skip_line(&mut self) {
        while let Some(c) = self.bump() {
            if c == '\n' || (c == '\r' && self.peek() != Some('\n')) {
                break;
            }
        }
    }

    /// The next assignment, skipping blank lines and comments; None at the end.
    fn next_assignment(&mut self) -> Result<Option<Assignment>, String> {
        loop {
            match self.peek() {
                None => return Ok(None),
                Some(c) if is_blank(c) || is_newline(c) => {
                    self.bump();
                }
                Some('#' | ';') => self.skip_line(),
                Some(_) => break,
            }
        }
        let line = self.line;
        let mut key = String::new();
        loop {
            match self.peek() {
                None | Some('\n' | '\r') => return Err(format!("line {line} {NOT_AN_ASSIGNMENT}")),
                Some('=') => {
                    self.bump();
                    break;
                }
                Some(c) => {
                    key.push(c);
                    self.bump();
                }
            }
        }
        let key = key.trim_end();
        let key = match key.strip_prefix("export") {
            Some(rest) if rest.starts_with(is_blank) => rest.trim_start(),
            _ => key,
        };
        let valid_key = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_key {
            return Err(format!(
                "line {line}: the name before '=' is not a valid variable name; use letters, digits \
                 and _, not starting with a digit"
            ));
        }
        self.skip_blanks();
        let value = match self.peek() {
            Some(quote @ ('\'' | '"')) => {
                self.bump();
                let value = self.quoted(quote, line)?;
                self.skip_blanks();
                match self.peek() {
                    None => {}
                    Some(c) if is_newline(c) => self.skip_line(),
                    Some(_) => {
                        return Err(format!(
                            "line {}: unexpected text after the closing quote; put a comment \
                             on a line of its own",
                            self.line
                        ));
                    }
                }
                value
            }
            _ => self.unquoted(),
        };
        Ok(Some(Assignment {
            key: key.to_string(),
            value,
            line,
        }))
    }

    /// A value in `quote`s, after the opening one, up to and with the closing one.
    fn quoted(&mut self, quote: char, line: usize) -> Result<String, String> {
        let mut value = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(format!(
                        "line {line}: the quoted value has no closing quote; close it"
                    ));
                }
                Some(c) if c == quote => return Ok(value),
                Some('\\') if quote == '"' => match self.bump() {
                    None => {
                        return Err(format!(
                            "line {line}: the quoted value has no closing quote; close it"
                        ));
                    }
                    Some(c) if DOUBLE_QUOTE_ESCAPES.contains(&c) => value.push(c),
                    Some('\n') => {} // a continued line
                    Some(c) => {
                        value.push('\\');
                        value.push(c);
                    }
                },
                Some(c) => value.push(c),
            }
        }
    }

    /// A value without quotes, up to the end of its line (which it takes), without trailing
    /// whitespace unless escaped.
    fn unquoted(&mut self) -> String {
        let mut value = String::new();
        // Where the value's trailing blanks start; escaped characters end them.
        let mut kept = 0;
        while let Some(c) = self.bump() {
            match c {
                '\n' => break,
                '\r' => {
                    if self.peek() == Some('\n') {
                        self.bump();
                    }
                    break;
                }
                '\\' => {
                    match self.bump() {
                        // Escaped line end: the line goes on (as in systemd, one character:
                        // after an escaped CR, an LF still ends the value).
                        Some(c) if is_newline(c) => {}
                        Some(c) => value.push(c),
                        None => {}
                    }
                    kept = value.len();
                }
                c => {
                    value.push(c);
                    if !is_blank(c) {
                        kept = value.len();
                    }
                }
            }
        }
        value.truncate(kept);
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<(String, String)> {
        parse(text)
            .unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
            .into_iter()
            .map(|a| (a.key, a.value))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn plain_comments_blank_lines_and_export() {
        let text = "# OAuth client\n\nTAILSCALE_OAUTH_CLIENT_ID=kid\n; other comment\n  export TAILSCALE_OAUTH_CLIENT_SECRET=tskey-client-kid-s\n";
        assert_eq!(
            parsed(text),
            pairs(&[
                ("TAILSCALE_OAUTH_CLIENT_ID", "kid"),
                ("TAILSCALE_OAUTH_CLIENT_SECRET", "tskey-client-kid-s")
            ])
        );
    }

    #[test]
    fn quotes_crlf_and_whitespace_as_systemd_reads_them() {
        let text = "A=\"double quoted # not a comment\"\r\nB='single \\n literal'\r\nC = spaced value  \r\nD=\"esc \\\" \\\\ \\$ \\` \\n\"\nE=\"\"\nF=a=b\nG=x # not a comment\nH=\nI=a\"b\"\n";
        assert_eq!(
            parsed(text),
            pairs(&[
                ("A", "double quoted # not a comment"),
                ("B", "single \\n literal"),
                ("C", "spaced value"),
                ("D", "esc \" \\ $ ` \\n"),
                ("E", ""),
                ("F", "a=b"),
                ("G", "x # not a comment"),
                ("H", ""),
                ("I", "a\"b\""),
            ])
        );
    }

    #[test]
    fn escapes_continuations_and_multi_line_quotes() {
        let text = "A=one\\ \\\ntwo\\\\ \nB=\"multi\nline\"\nC='also\r\nmulti'\nD=\"joined \\\nline\"\nE=a\\\r\nF=1\rG=2\n";
        assert_eq!(
            parsed(text),
            pairs(&[
                ("A", "one two\\"),
                ("B", "multi\nline"),
                ("C", "also\r\nmulti"),
                ("D", "joined line"),
                ("E", "a"),
                ("F", "1"),
                ("G", "2"),
            ])
        );
    }

    #[test]
    fn lines_are_numbered_where_an_assignment_starts() {
        let lines: Vec<usize> = parse("A='x\ny'\r\nB=1\rC=\"2\\\n3\"\n\n\nD=4")
            .expect("valid")
            .iter()
            .map(|a| a.line)
            .collect();
        assert_eq!(lines, [1, 3, 4, 8], "LF, CRLF and CR each end one line");
    }

    #[test]
    fn exported_name_is_not_confused_with_prefix() {
        assert_eq!(parsed("exported=1"), pairs(&[("exported", "1")]));
    }

    #[test]
    fn broken_lines_name_the_line_and_never_the_content() {
        let cases = [
            (
                "A=1\ntskey-client-secret-on-its-own\n",
                "line 2 is not KEY=VALUE; write it as NAME=value, or begin it with # to make it \
                 a comment",
            ),
            (
                "A=\"unterminated\n",
                "line 1: the quoted value has no closing quote; close it",
            ),
            (
                "A='x' trailing\n",
                "line 1: unexpected text after the closing quote; put a comment on a line of \
                 its own",
            ),
            (
                "A=\"x\" # a comment systemd would keep\n",
                "line 1: unexpected text after the closing quote; put a comment on a line of \
                 its own",
            ),
            (
                "1A=x\n",
                "line 1: the name before '=' is not a valid variable name; use letters, digits \
                 and _, not starting with a digit",
            ),
            (
                "my key=x\n",
                "line 1: the name before '=' is not a valid variable name; use letters, digits \
                 and _, not starting with a digit",
            ),
            (
                "A=1\r\nB=secret\0x\n",
                "line 2 contains a NUL byte, which no environment variable can hold; remove it",
            ),
            (
                "\u{feff}A=secret\n",
                "line 1 starts with a UTF-8 byte order mark, which systemd's EnvironmentFile= reads as part of the name; save the file without it",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(text).expect_err(text);
            assert_eq!(err, expected, "for {text:?}");
            assert!(
                !err.contains("secret"),
                "error must not quote the line: {err}"
            );
        }
    }
}
