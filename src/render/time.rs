//! `--time-format`: how every view shows a packet's time (tshark's `-t`), written once.

use crate::capture::Timestamp;
use crate::render::text::{put_u64, put_u64_padded};
use std::io::Write as _;

/// How times are shown (tshark's `-t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// Seconds since the first packet.
    #[default]
    Relative,
    /// Wall-clock time of day (UTC).
    Absolute,
    /// Seconds since the previous packet shown.
    Delta,
    /// Seconds since the Unix epoch.
    Epoch,
}

impl TimeFormat {
    /// Widest text this format writes for captures of up to a day (column layout).
    pub fn typical_width(self) -> usize {
        match self {
            TimeFormat::Relative | TimeFormat::Delta => 10,
            TimeFormat::Absolute => 15,
            TimeFormat::Epoch => 17,
        }
    }
}

/// Writes `ts` in `format`, `first` being the first packet's time and `prev` the previous
/// shown packet's (each `ts` itself when there is none), without `core::fmt` in the common
/// cases.
pub fn push_time(
    format: TimeFormat,
    ts: &Timestamp,
    first: &Timestamp,
    prev: &Timestamp,
    out: &mut Vec<u8>,
) {
    match format {
        TimeFormat::Relative => push_seconds6(out, ts.nanos_since(first)),
        TimeFormat::Delta => push_seconds6(out, ts.nanos_since(prev)),
        TimeFormat::Epoch => push_epoch(out, ts),
        TimeFormat::Absolute => push_time_of_day(out, ts),
    }
}

/// Seconds since the Unix epoch, to the microsecond.
pub(crate) fn push_epoch(out: &mut Vec<u8>, ts: &Timestamp) {
    if ts.secs < 0 {
        out.push(b'-');
    }
    put_u64(out, ts.secs.unsigned_abs());
    out.push(b'.');
    push_zero_padded(out, u64::from(ts.nanos / 1000), 6);
}

/// UTC time of day, `HH:MM:SS.ffffff`.
pub(crate) fn push_time_of_day(out: &mut Vec<u8>, ts: &Timestamp) {
    let day = ts.secs.rem_euclid(86_400).unsigned_abs();
    push_zero_padded(out, day / 3600, 2);
    out.push(b':');
    push_zero_padded(out, day / 60 % 60, 2);
    out.push(b':');
    push_zero_padded(out, day % 60, 2);
    out.push(b'.');
    push_zero_padded(out, u64::from(ts.nanos / 1000), 6);
}

/// A view's clock: remembers the first and the previous time it showed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Clock {
    pub format: TimeFormat,
    first: Option<Timestamp>,
    prev: Option<Timestamp>,
}

impl Clock {
    pub fn new(format: TimeFormat) -> Clock {
        Clock {
            format,
            first: None,
            prev: None,
        }
    }

    /// Sets the time that relative times count from (e.g. the connection's first packet).
    pub fn start_at(&mut self, ts: Timestamp) {
        self.first = Some(ts);
    }

    /// Appends `ts` shown in this clock's format, and makes it the previous time.
    pub fn push(&mut self, ts: &Timestamp, out: &mut Vec<u8>) {
        let first = *self.first.get_or_insert(*ts);
        let prev = self.prev.unwrap_or(*ts);
        push_time(self.format, ts, &first, &prev, out);
        self.prev = Some(*ts);
    }

    /// `ts` as text (for the hand-drawn views, which are not on the per-packet path).
    pub fn text(&mut self, ts: &Timestamp) -> String {
        let mut out = Vec::with_capacity(20);
        self.push(ts, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// `{:.6}` of `nanos` / 1e9 seconds. Integer digits where that is provably the same text
/// (not negative, under 10^6 s, not a tie at the 7th digit, where the float's rounding decides).
pub(crate) fn push_seconds6(out: &mut Vec<u8>, nanos: i128) {
    match u64::try_from(nanos) {
        Ok(n) if n < 1_000_000_000_000_000 && n % 1000 != 500 => {
            let micros = (n + 500) / 1000;
            put_u64(out, micros / 1_000_000);
            out.push(b'.');
            push_zero_padded(out, micros % 1_000_000, 6);
        }
        _ => {
            let _ = write!(out, "{:.6}", nanos as f64 / 1e9);
        }
    }
}

/// `v` in decimal, left-padded with zeros to `width` digits (`{:0width$}`).
pub(crate) fn push_zero_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    put_u64_padded(out, v, width, b'0');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64, nanos: u32) -> Timestamp {
        Timestamp {
            secs,
            nanos,
            precision: 6,
        }
    }

    #[test]
    fn each_format_as_tshark_writes_it() {
        // 2009-02-13 23:31:30.123456 UTC, then 0.5 s and 2.25 s later.
        let t0 = ts(1_234_567_890, 123_456_000);
        let t1 = ts(1_234_567_890, 623_456_000);
        let t2 = ts(1_234_567_892, 873_456_000);
        let run = |format| {
            let mut clock = Clock::new(format);
            [t0, t1, t2]
                .iter()
                .map(|t| clock.text(t))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            run(TimeFormat::Relative),
            ["0.000000", "0.500000", "2.750000"]
        );
        assert_eq!(run(TimeFormat::Delta), ["0.000000", "0.500000", "2.250000"]);
        assert_eq!(
            run(TimeFormat::Absolute),
            ["23:31:30.123456", "23:31:30.623456", "23:31:32.873456"]
        );
        assert_eq!(
            run(TimeFormat::Epoch),
            [
                "1234567890.123456",
                "1234567890.623456",
                "1234567892.873456"
            ]
        );
        for format in [
            TimeFormat::Relative,
            TimeFormat::Delta,
            TimeFormat::Absolute,
            TimeFormat::Epoch,
        ] {
            assert!(run(format)
                .iter()
                .all(|t| t.len() <= format.typical_width()));
        }
    }

    #[test]
    fn a_clock_started_earlier_counts_from_there() {
        let mut clock = Clock::new(TimeFormat::Relative);
        clock.start_at(ts(100, 0));
        assert_eq!(clock.text(&ts(101, 250_000_000)), "1.250000");
    }
}
