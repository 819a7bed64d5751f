use std::fmt;

use serde::{Serialize, Serializer};
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

/// An instant, kept in UTC with millisecond precision; shown in Asia/Shanghai (UTC+8, no
/// daylight saving time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+8 is a valid offset"),
};

impl Timestamp {
    pub fn from_unix_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    pub fn unix_millis(self) -> i64 {
        self.0
    }

    pub fn plus_seconds(self, seconds: i64) -> Self {
        Timestamp(self.0 + seconds * 1000)
    }

    /// The calendar date in China Standard Time.
    pub fn shanghai_date(self) -> time::Date {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(SHANGHAI)
            .date()
    }

    /// An instant written in RFC 3339 with its offset (`2026-12-05T09:00:00+08:00`), to the
    /// millisecond; `None` for anything else, or a year outside 1970..=9999.
    pub fn parse_rfc3339(value: &str) -> Option<Timestamp> {
        let parsed = OffsetDateTime::parse(value, &Rfc3339).ok()?;
        if !(1970..=9999).contains(&parsed.year()) {
            return None;
        }
        i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000)
            .ok()
            .map(Timestamp)
    }

    /// RFC 3339 in UTC to the millisecond, e.g. `2026-11-29T02:12:00.000Z`: how signed
    /// records write time, whoever reads them.
    pub fn to_utc_rfc3339(self) -> String {
        let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            utc.year(),
            u8::from(utc.month()),
            utc.day(),
            utc.hour(),
            utc.minute(),
            utc.second(),
            utc.millisecond()
        )
    }

    /// RFC 3339 in China Standard Time, e.g. `2026-11-29T10:12:00.000+08:00`.
    pub fn to_shanghai_rfc3339(self) -> String {
        let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        utc.to_offset(SHANGHAI)
            .format(&Rfc3339)
            .unwrap_or_else(|_| utc.unix_timestamp().to_string())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_shanghai_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_shanghai_rfc3339())
    }
}

/// Where "now" comes from. Everything that decides by time takes a clock, so tests control it;
/// the node binary is the one place that reads the system clock.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// A clock that says what it is told, for tests and for replaying.
#[derive(Debug)]
pub struct FixedClock(std::sync::atomic::AtomicI64);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        FixedClock(std::sync::atomic::AtomicI64::new(at.0))
    }

    pub fn advance_seconds(&self, seconds: i64) {
        self.0
            .fetch_add(seconds * 1000, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_time_in_shanghai() {
        // 2018-09-05T00:00:00Z, the day the Suizhou notice was issued.
        let at = Timestamp::from_unix_millis(1_536_105_600_000);
        assert_eq!(at.to_shanghai_rfc3339(), "2018-09-05T08:00:00+08:00");
    }
}
