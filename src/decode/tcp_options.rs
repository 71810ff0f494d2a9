//! TCP option parsing (RFC 9293 §3.1, RFC 7323, RFC 2018, RFC 7413).
//!
//! Parsed by hand rather than with etherparse's option iterator so that TCP Fast Open (kind
//! 34, and the experimental kind 254 with magic 0xF989) is recognised and a malformed option
//! only ends the walk instead of losing the options before it.

use super::TcpOptions;

/// Walks the option bytes of a TCP header (after the fixed 20 bytes). Stops at End of Option
/// List, or at the first option whose length is impossible (keeping what was read before).
pub(super) fn parse_tcp_options(opts: &[u8]) -> TcpOptions {
    let mut out = TcpOptions::default();
    parse_tcp_options_into(opts, &mut out);
    out
}

/// [`parse_tcp_options`] into `out`, which must be [`TcpOptions::default`] (written in
/// place: the decoder's fast path parses straight into its packet).
pub(super) fn parse_tcp_options_into(opts: &[u8], out: &mut TcpOptions) {
    // The options of nearly every segment after the handshake (Linux, BSD): NOP, NOP,
    // Timestamps. Same result as the walk below.
    if let [1, 1, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3] = *opts {
        out.timestamps = Some((
            u32::from_be_bytes([v0, v1, v2, v3]),
            u32::from_be_bytes([e0, e1, e2, e3]),
        ));
        return;
    }
    // A Linux SYN or SYN-ACK: MSS, SACK permitted, Timestamps, NOP, Window scale.
    if let [2, 4, m0, m1, 4, 2, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3, 1, 3, 3, ws] = *opts {
        out.mss = Some(u16::from_be_bytes([m0, m1]));
        out.sack_permitted = true;
        out.timestamps = Some((
            u32::from_be_bytes([v0, v1, v2, v3]),
            u32::from_be_bytes([e0, e1, e2, e3]),
        ));
        out.window_scale = Some(ws);
        return;
    }
    walk(opts, out);
}

/// The general walk of [`parse_tcp_options_into`] (its shortcuts must agree with it).
fn walk(opts: &[u8], out: &mut TcpOptions) {
    let mut rest = opts;
    while let Some((&kind, after_kind)) = rest.split_first() {
        match kind {
            0 => break,
            1 => {
                rest = after_kind;
                continue;
            }
            _ => {}
        }
        let Some(&len) = after_kind.first() else {
            break;
        };
        let len = usize::from(len);
        if len < 2 || len > rest.len() {
            break;
        }
        let body = &rest[2..len];
        match (kind, body.len()) {
            (2, 2) => out.mss = Some(u16::from_be_bytes([body[0], body[1]])),
            (3, 1) => out.window_scale = Some(body[0]),
            (4, 0) => out.sack_permitted = true,
            (5, n) if n % 8 == 0 => {
                for block in body.chunks_exact(8) {
                    let left = u32::from_be_bytes([block[0], block[1], block[2], block[3]]);
                    let right = u32::from_be_bytes([block[4], block[5], block[6], block[7]]);
                    if out.sack.try_push((left, right)).is_err() {
                        break;
                    }
                }
            }
            (8, 8) => {
                let val = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let ecr = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                out.timestamps = Some((val, ecr));
            }
            (34, _) => out.fast_open = true,
            (254, n) if n >= 2 && body[0] == 0xF9 && body[1] == 0x89 => out.fast_open = true,
            _ => {}
        }
        rest = &rest[len..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syn_options_of_a_linux_client() {
        // MSS 1460, SACK permitted, TS 0x01020304/0, NOP, WS 7.
        let opts = [
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let o = parse_tcp_options(&opts);
        assert_eq!(o.mss, Some(1460));
        assert!(o.sack_permitted);
        assert_eq!(o.timestamps, Some((0x0102_0304, 0)));
        assert_eq!(o.window_scale, Some(7));
        assert!(!o.fast_open);
        assert!(o.sack.is_empty());
    }

    #[test]
    fn sack_blocks_and_fast_open() {
        let opts = [
            1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40, 34, 2,
        ];
        let o = parse_tcp_options(&opts);
        assert_eq!(o.sack.as_slice(), &[(10, 20), (30, 40)]);
        assert!(o.fast_open);
    }

    #[test]
    fn experimental_fast_open_cookie() {
        let o = parse_tcp_options(&[254, 12, 0xF9, 0x89, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(o.fast_open);
    }

    #[test]
    fn bad_length_keeps_what_came_before() {
        // MSS, then an option claiming 40 bytes in a 4-byte remainder, then WS never read.
        let o = parse_tcp_options(&[2, 4, 0x02, 0x18, 8, 40, 0, 0, 3, 3, 2]);
        assert_eq!(o.mss, Some(536));
        assert_eq!(o.timestamps, None);
        assert_eq!(o.window_scale, None);
        // Length below 2 and a truncated kind byte do not loop or panic.
        assert_eq!(parse_tcp_options(&[3, 0, 3, 3, 1]), TcpOptions::default());
        assert_eq!(parse_tcp_options(&[3]), TcpOptions::default());
    }

    #[test]
    fn nop_nop_timestamps() {
        let opts = [1, 1, 8, 10, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe];
        let o = parse_tcp_options(&opts);
        assert_eq!(o.timestamps, Some((256, 0xffff_fffe)));
        assert_eq!(
            o,
            TcpOptions {
                timestamps: Some((256, 0xffff_fffe)),
                ..TcpOptions::default()
            }
        );
        // A bad length in the same place still ends the walk with nothing read.
        assert_eq!(
            parse_tcp_options(&[1, 1, 8, 11, 0, 0, 1, 0, 0, 0, 0, 1]),
            TcpOptions::default()
        );
    }

    #[test]
    fn end_of_list_stops() {
        let o = parse_tcp_options(&[0, 2, 4, 5, 0xb4]);
        assert_eq!(o.mss, None);
    }

    /// The walk alone, without the shortcuts for common layouts.
    fn walked(opts: &[u8]) -> TcpOptions {
        let mut out = TcpOptions::default();
        walk(opts, &mut out);
        out
    }

    #[test]
    fn linux_syn_layout() {
        let opts = [
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 1, 1, 3, 3, 10,
        ];
        let o = parse_tcp_options(&opts);
        assert_eq!(
            o,
            TcpOptions {
                mss: Some(1460),
                window_scale: Some(10),
                sack_permitted: true,
                timestamps: Some((9, 1)),
                ..TcpOptions::default()
            }
        );
    }

    #[test]
    fn shortcuts_agree_with_the_walk() {
        let layouts: [&[u8]; 2] = [
            &[
                2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7,
            ],
            &[1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8],
        ];
        let mut tried = 0;
        for layout in layouts {
            for cut in 0..=layout.len() {
                let o = &layout[..cut];
                assert_eq!(parse_tcp_options(o), walked(o), "{o:?}");
                tried += 1;
            }
            for at in 0..layout.len() {
                for v in [0, 1, 2, 3, 4, 5, 8, 10, 12, 34, 0xff, layout[at] ^ 0x80] {
                    let mut o = layout.to_vec();
                    o[at] = v;
                    assert_eq!(parse_tcp_options(&o), walked(&o), "{o:?}");
                    o.push(1);
                    assert_eq!(parse_tcp_options(&o), walked(&o), "{o:?}");
                    tried += 2;
                }
            }
        }
        assert_eq!(tried, 21 + 13 + (20 + 12) * 12 * 2);
    }
}
