//! The HTTP/2 or HTTP/3 frames the app stage read in one packet (its type and stream,
//! for the packet row: `HEADERS[1], WINDOW_UPDATE[1]`, as tshark's Info column names
//! them), held by [`crate::app::FrameLayers`] and copied into the packet by the pipeline.
//!
//! A fixed-size value: the first [`MAX_NAMED`] frames, and a count of the others.

/// Frames named per packet; the others are counted.
pub const MAX_NAMED: usize = 4;

/// Which protocol's frame types the names are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FrameProtocol {
    #[default]
    Http2,
    Http3,
}

/// One frame: its type (RFC 9113 §6 or RFC 9114 §7.2) and stream id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppFrame {
    pub kind: u64,
    pub stream: u64,
}

/// The frames completed in one packet's bytes (see the module's documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameNames {
    /// The frame (packet) whose bytes completed them.
    frame: u64,
    protocol: FrameProtocol,
    len: u8,
    named: [AppFrame; MAX_NAMED],
    /// Frames past the first [`MAX_NAMED`].
    more: u32,
}

impl FrameNames {
    /// No frame.
    pub const NONE: FrameNames = FrameNames {
        frame: 0,
        protocol: FrameProtocol::Http2,
        len: 0,
        named: [AppFrame { kind: 0, stream: 0 }; MAX_NAMED],
        more: 0,
    };

    /// No frame at all.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A frame of `kind` on `stream`, completed by packet `frame`'s bytes. Bytes of an
    /// older packet delivered late (held out of order) are not named: their row is
    /// written already; a newer packet's frames start the list again.
    #[inline]
    pub(crate) fn push(&mut self, frame: u64, protocol: FrameProtocol, kind: u64, stream: u64) {
        if self.is_empty() || frame > self.frame {
            *self = FrameNames {
                frame,
                protocol,
                ..FrameNames::NONE
            };
        } else if frame < self.frame {
            return;
        }
        match self.named.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = AppFrame { kind, stream };
                self.len += 1;
            }
            None => self.more = self.more.saturating_add(1),
        }
    }

    /// Adds the frames a later call for the same packet found (their order kept).
    #[inline]
    pub fn merge(&mut self, later: FrameNames) {
        if later.is_empty() {
            return;
        }
        if self.is_empty() || later.frame > self.frame {
            *self = later;
            return;
        }
        if later.frame < self.frame {
            return;
        }
        for f in later.frames() {
            self.push(later.frame, later.protocol, f.kind, f.stream);
        }
        self.more = self.more.saturating_add(later.more);
    }

    /// The frames packet `frame`'s bytes completed (none when they are another packet's).
    #[inline]
    pub fn of_frame(&self, frame: u64) -> FrameNames {
        if self.frame == frame {
            *self
        } else {
            FrameNames::NONE
        }
    }

    /// The first [`MAX_NAMED`] frames, in the order they ended.
    pub fn frames(&self) -> &[AppFrame] {
        &self.named[..usize::from(self.len).min(MAX_NAMED)]
    }

    /// How many frames past [`Self::frames`] the packet completed.
    pub fn more(&self) -> u32 {
        self.more
    }

    pub fn protocol(&self) -> FrameProtocol {
        self.protocol
    }

    /// The name of `f`'s type ("HEADERS"; "UNKNOWN" for a type neither RFC names).
    pub fn name(&self, f: &AppFrame) -> &'static str {
        match self.protocol {
            FrameProtocol::Http2 => {
                u8::try_from(f.kind).map_or("UNKNOWN", super::http2_frame::frame_name)
            }
            FrameProtocol::Http3 => match super::http3::frame_name(f.kind) {
                "unknown" => "UNKNOWN",
                "reserved (grease)" => "RESERVED",
                name => name,
            },
        }
    }

    /// Whether `f`'s type is one the RFCs name (else the number is worth showing).
    pub fn is_known(&self, f: &AppFrame) -> bool {
        !matches!(self.name(f), "UNKNOWN" | "RESERVED")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_four_named_the_rest_counted_and_old_frames_dropped() {
        let mut n = FrameNames::NONE;
        n.push(9, FrameProtocol::Http2, 4, 0);
        n.push(9, FrameProtocol::Http2, 8, 0);
        assert_eq!(n.frames().len(), 2);
        assert_eq!(n.name(&n.frames()[1]), "WINDOW_UPDATE");
        // A held frame of packet 7 delivered during packet 9: not named.
        n.push(7, FrameProtocol::Http2, 0, 1);
        let mut later = FrameNames::NONE;
        for s in [1, 3, 5] {
            later.push(9, FrameProtocol::Http2, 1, s);
        }
        n.merge(later);
        assert_eq!(
            n.frames()
                .iter()
                .map(|f| (f.kind, f.stream))
                .collect::<Vec<_>>(),
            [(4, 0), (8, 0), (1, 1), (1, 3)]
        );
        assert_eq!(n.more(), 1);
        assert_eq!(n.of_frame(8), FrameNames::NONE);
        assert_eq!(n.of_frame(9), n);
        // A newer packet's frames replace them.
        n.push(10, FrameProtocol::Http3, 0x21, 0);
        assert_eq!((n.frames().len(), n.more()), (1, 0));
        assert_eq!(n.name(&n.frames()[0]), "RESERVED");
        assert!(!n.is_known(&n.frames()[0]));
        n.push(10, FrameProtocol::Http3, 0xd, 2);
        assert_eq!(n.name(&n.frames()[1]), "MAX_PUSH_ID");
    }

    #[test]
    fn small_enough_to_copy_with_every_packet() {
        // Part of every `DecodedPacket`: four (type, stream) pairs and a few counters.
        assert_eq!(std::mem::size_of::<FrameNames>(), 80);
    }
}
