//! Timestamps in the formats the contracts fix (all UTC).
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// `2026-05-31T00:00:00.000000+00:00`: last-apply.json's `timestamp`.
pub fn iso_micros(t: OffsetDateTime) -> String {
    let [y, mo, d, h, mi, s, us] = fields(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}+00:00")
}

/// `20260531T000000123456Z`: backup file names, which sort by time.
pub fn compact_micros(t: OffsetDateTime) -> String {
    let [y, mo, d, h, mi, s, us] = fields(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}{us:06}Z")
}

/// Parses [`compact_micros`]'s format back; None for anything else (a month 13 included).
pub fn parse_compact_micros(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    let digits_ok = b.len() == 22
        && b[8] == b'T'
        && b[21] == b'Z'
        && b[..8].iter().chain(&b[9..21]).all(u8::is_ascii_digit);
    if !digits_ok {
        return None;
    }
    let n = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
    let month = time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(n(0..4)?).ok()?, month, n(6..8)? as u8)
        .ok()?;
    let time = time::Time::from_hms_micro(
        n(9..11)? as u8,
        n(11..13)? as u8,
        n(13..15)? as u8,
        n(15..21)?,
    )
    .ok()?;
    Some(time::PrimitiveDateTime::new(date, time).assume_utc())
}

/// Year, month, day, hour, minute, second, microsecond, in UTC.
fn fields(t: OffsetDateTime) -> [i64; 7] {
    let t = t.to_offset(time::UtcOffset::UTC);
    [
        i64::from(t.year()),
        i64::from(u8::from(t.month())),
        i64::from(t.day()),
        i64::from(t.hour()),
        i64::from(t.minute()),
        i64::from(t.second()),
        i64::from(t.microsecond()),
    ]
}

/// Parses an RFC 3339 timestamp (terraform state's `expires_at`, last-apply's `timestamp`).
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_contract() {
        let t = parse_rfc3339("2026-05-31T01:02:03.004005Z").expect("valid timestamp");
        assert_eq!(iso_micros(t), "2026-05-31T01:02:03.004005+00:00");
        assert_eq!(compact_micros(t), "20260531T010203004005Z");
        assert_eq!(parse_compact_micros("20260531T010203004005Z"), Some(t));
        for bad in [
            "20261331T010203004005Z",
            "20260532T010203004005Z",
            "20260531T250203004005Z",
            "20260531X010203004005Z",
            "2026053aT010203004005Z",
            "20260531T010203004005",
        ] {
            assert_eq!(parse_compact_micros(bad), None, "{bad} is no backup time");
        }
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let t = parse_rfc3339("2026-05-31T02:00:00+02:00").expect("valid timestamp");
        assert_eq!(iso_micros(t), "2026-05-31T00:00:00.000000+00:00");
    }

    #[test]
    fn the_contract_format_parses_back() {
        let t = parse_rfc3339("2026-05-31T00:00:00.000000+00:00").expect("our own format parses");
        assert_eq!(t.unix_timestamp(), 1_780_185_600);
        assert!(parse_rfc3339("yesterday").is_none());
    }
}
