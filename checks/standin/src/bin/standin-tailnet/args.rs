//! The command line's pieces: usage errors (exit 2), a command's remaining arguments, numbers,
//! lists and times.

use anyhow::Result;
use tailscale_standin::sim;
use time::Duration;

/// A usage error: exit 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Usage(message.into()).into()
}

/// The remaining arguments of one command.
pub struct Args(pub Vec<String>);

impl Args {
    pub fn flag(&mut self, name: &str) -> bool {
        let found = self.0.iter().position(|a| a == name);
        found.map(|i| self.0.remove(i)).is_some()
    }

    pub fn value(&mut self, name: &str) -> Result<Option<String>> {
        let Some(i) = self.0.iter().position(|a| a == name) else {
            return Ok(None);
        };
        self.0.remove(i);
        // A value may start with "-" (a relative time like -1d) but not with "--".
        if i >= self.0.len() || self.0[i].starts_with("--") {
            return Err(usage(format!("{name} needs a value")));
        }
        Ok(Some(self.0.remove(i)))
    }

    pub fn positional(&mut self, what: &str) -> Result<String> {
        match self.0.iter().position(|a| !a.starts_with("--")) {
            Some(i) => Ok(self.0.remove(i)),
            None => Err(usage(format!("missing {what}"))),
        }
    }

    /// Every remaining positional argument (at least one).
    pub fn positionals(&mut self, what: &str) -> Result<Vec<String>> {
        let (positional, rest) = self.0.drain(..).partition(|a| !a.starts_with("--"));
        self.0 = rest;
        let positional: Vec<String> = positional;
        if positional.is_empty() {
            return Err(usage(format!("missing {what}")));
        }
        Ok(positional)
    }

    pub fn done(&self) -> Result<()> {
        match self.0.first() {
            None => Ok(()),
            Some(extra) => Err(usage(format!("unexpected argument {extra:?}"))),
        }
    }
}

pub fn parse_number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T> {
    text.parse().map_err(|_| {
        usage(format!(
            "{what} must be a non-negative whole number, not {text:?}"
        ))
    })
}

/// A comma-separated list, blanks dropped.
pub fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Tags must look like tags.
pub fn tags(text: &str) -> Result<Vec<String>> {
    let tags = list(text);
    if let Some(bad) = tags.iter().find(|t| !t.starts_with("tag:")) {
        return Err(usage(format!("tag {bad:?} must start with \"tag:\"")));
    }
    Ok(tags)
}

/// A time for `option`: RFC 3339 (kept as written), or relative to now, `+3d`, `-2h`, `+90m`,
/// `-30s` (stored in whole seconds, UTC).
pub fn time(text: &str, option: &str) -> Result<String> {
    if sim::parse_time(text).is_some() {
        return Ok(text.to_owned());
    }
    let relative = (|| {
        let sign = match text.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let unit = match text.as_bytes().last()? {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            _ => return None,
        };
        let amount: i64 = text.get(1..text.len() - 1)?.parse().ok()?;
        Some(Duration::seconds(sign * amount * unit))
    })();
    match relative {
        Some(offset) => Ok(sim::format_time(sim::now() + offset)),
        None => Err(usage(format!(
            "{option} must be an RFC 3339 time (2026-05-01T00:00:00Z) or relative to now (+3d, -2h, +90m, -30s), not {text:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_absolute_or_relative() -> Result<()> {
        assert_eq!(
            time("2026-05-01T00:00:00.5Z", "--t")?,
            "2026-05-01T00:00:00.5Z",
            "an RFC 3339 time is kept as written"
        );
        let in_three_days = sim::parse_time(&time("+3d", "--t")?);
        let expected = sim::now() + Duration::days(3);
        assert!(
            in_three_days.is_some_and(|t| (t - expected).abs() < Duration::seconds(5)),
            "+3d is three days from now: {in_three_days:?}"
        );
        for bad in ["3d", "+3w", "+d", "tomorrow"] {
            assert!(time(bad, "--t").is_err(), "{bad:?} is refused");
        }
        Ok(())
    }
}
