//! The decoder. SKELETON: the decode helper implements it.

use super::DecodedPacket;
use crate::capture::RawFrame;

/// Limits of the decoder's IP fragment reassembly pool.
#[derive(Clone, Debug)]
pub struct DecoderLimits {
    /// Most datagrams being reassembled at once.
    pub max_fragment_datagrams: usize,
    /// Most bytes buffered over all datagrams being reassembled.
    pub max_fragment_bytes: usize,
    /// A datagram whose fragments have not all arrived after this much capture time is
    /// dropped (ns).
    pub fragment_timeout_ns: u64,
}

impl Default for DecoderLimits {
    fn default() -> Self {
        DecoderLimits {
            max_fragment_datagrams: 1024,
            max_fragment_bytes: 16 << 20,
            fragment_timeout_ns: 30_000_000_000,
        }
    }
}

/// What the decoder counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecoderStats {
    pub decode_issues: u64,
    pub fragments: u64,
    pub reassembled: u64,
    /// Datagrams dropped unfinished (timeout or pool cap).
    pub fragments_evicted: u64,
}

pub struct Decoder {
    limits: DecoderLimits,
    stats: DecoderStats,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::with_limits(DecoderLimits::default())
    }
    pub fn with_limits(limits: DecoderLimits) -> Decoder {
        Decoder {
            limits,
            stats: DecoderStats::default(),
        }
    }
    pub fn limits(&self) -> &DecoderLimits {
        &self.limits
    }
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }
    /// Decodes one frame. The result borrows the frame and the decoder's reassembly buffer.
    pub fn decode<'a>(&'a mut self, frame: &RawFrame<'a>) -> DecodedPacket<'a> {
        let _ = frame;
        DecodedPacket {
            layers: Default::default(),
            link: Default::default(),
            arp: None,
            net: None,
            transport: None,
            payload: &[],
            payload_offset: 0,
            reassembled: false,
            fragment_pending: false,
            issue: None,
        }
    }
}
