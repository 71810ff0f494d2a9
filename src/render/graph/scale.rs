//! Axis ticks and their labels with units, shared by the terminal and SVG drawings.

/// About `n` round tick values covering `lo..=hi` (steps of 1, 2 or 5 × 10^k).
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut v = Vec::new();
    let mut t = (lo / step).ceil() * step;
    while t <= hi + step * 1e-9 && v.len() < 50 {
        v.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    v
}

/// A tick label: seconds and milliseconds with enough decimals, bytes and bit rates with
/// k/M/G prefixes ("1.5 MB", "12 Mbit/s").
pub fn format_value(v: f64, unit: &str) -> String {
    match unit {
        "s" | "ms" => {
            let a = v.abs();
            let digits = if a == 0.0 || a >= 10.0 {
                0
            } else if a >= 1.0 {
                1
            } else if a >= 0.1 {
                2
            } else {
                3
            };
            let digits = if a != 0.0 && a < 0.01 { 4 } else { digits };
            format!("{v:.digits$}{unit}")
        }
        _ => {
            let (scaled, prefix) = if v.abs() >= 1e9 {
                (v / 1e9, "G")
            } else if v.abs() >= 1e6 {
                (v / 1e6, "M")
            } else if v.abs() >= 1e3 {
                (v / 1e3, "k")
            } else {
                (v, "")
            };
            let text = format!("{scaled:.1}");
            let text = text.strip_suffix(".0").unwrap_or(&text);
            format!("{text}{prefix}{unit}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ticks_and_labels() {
        assert_eq!(ticks(0.0, 10.0, 5), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(0.0, 0.35, 3), [0.0, 0.2]);
        assert_eq!(format_value(1_500_000.0, "B"), "1.5MB");
        assert_eq!(format_value(2000.0, "B"), "2kB");
        assert_eq!(format_value(0.25, "s"), "0.25s");
        assert_eq!(format_value(12.0, "ms"), "12ms");
        assert_eq!(format_value(0.005, "s"), "0.0050s");
    }
}
