//! The explain pane's data for one packet: its layers (OSI and TCP/IP layer, byte range),
//! every field `explain` lists (taken from [`crate::render::explain::frame_fields`], not
//! dissected again here) and its bytes, as the JSON the page's script reads.

use crate::capture::RawFrame;
use crate::decode::{DecodedPacket, Osi};
use crate::flow::PacketFlow;
use crate::render::explain::{frame_fields, layer_title, FieldRow};
use serde_json::{json, Value};

/// One layer of a packet as the pane shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExplainedLayer {
    pub title: &'static str,
    pub osi: Osi,
    /// Byte range in the frame; `None` for the layers of a reassembled IP datagram, whose
    /// offsets are in that datagram, not in this frame.
    pub range: Option<(u32, u32)>,
}

/// One packet's explain data.
#[derive(Clone, Debug)]
pub struct ExplainedFrame {
    pub frame: u64,
    pub orig_len: u32,
    pub captured_len: usize,
    /// The first bytes of the frame (at most the report's per-packet cap).
    pub bytes: Vec<u8>,
    pub layers: Vec<ExplainedLayer>,
    pub fields: Vec<FieldRow>,
}

impl ExplainedFrame {
    pub fn of(
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
        max_bytes: usize,
    ) -> ExplainedFrame {
        let layers = packet
            .layers
            .iter()
            .map(|l| ExplainedLayer {
                title: layer_title(l.name),
                osi: l.osi(),
                range: (!packet.reassembled || l.osi() <= Osi::Network)
                    .then(|| (l.offset, l.offset.saturating_add(l.len))),
            })
            .collect();
        ExplainedFrame {
            frame: frame.number,
            orig_len: frame.orig_len,
            captured_len: frame.data.len(),
            bytes: frame.data[..frame.data.len().min(max_bytes)].to_vec(),
            layers,
            fields: frame_fields(frame, packet, flow),
        }
    }

    /// `{"f":N,"o":orig,"c":captured,"b":"hex","L":[[title,osi,tcpip,start,end]],
    /// "F":[[layer,name,raw,meaning,start,end]]}` (a field's `start`, `end` are its bytes in
    /// the frame, null when not known) — the script's compact form, with the layer titles,
    /// field names and meanings as indices into `strings` (they repeat from packet to
    /// packet). Text is left as it is: the page embeds the whole object with
    /// [`super::escape::script_json`] and the script only ever sets it as text.
    ///
    /// `app`: what the connection's decoded messages say this packet carries (the packet
    /// table's application label: an HTTP request or status line, read from decrypted TLS
    /// records when a key log opened them), written as `"a"` when there is one.
    pub fn to_json(&self, strings: &mut StringTable, app: Option<&str>) -> Value {
        let mut hex = String::with_capacity(self.bytes.len() * 2);
        for b in &self.bytes {
            hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                let (s, e) = l
                    .range
                    .map_or((Value::Null, Value::Null), |(s, e)| (json!(s), json!(e)));
                json!([
                    strings.index(l.title),
                    l.osi.number(),
                    l.osi.tcpip_name(),
                    s,
                    e
                ])
            })
            .collect();
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|f| {
                let (s, e) = f
                    .bytes
                    .map_or((Value::Null, Value::Null), |(s, e)| (json!(s), json!(e)));
                json!([
                    f.layer,
                    strings.index(&f.name),
                    f.raw,
                    strings.index(&f.meaning),
                    s,
                    e
                ])
            })
            .collect();
        let mut v = json!({
            "f": self.frame,
            "o": self.orig_len,
            "c": self.captured_len,
            "b": hex,
            "L": layers,
            "F": fields,
        });
        if let Some(a) = app.filter(|a| !a.is_empty()) {
            v["a"] = Value::from(a);
        }
        v
    }
}

/// Strings stored once and referred to by index (the page's `S` array).
#[derive(Debug, Default)]
pub struct StringTable {
    pub strings: Vec<String>,
    index: std::collections::HashMap<String, usize>,
}

impl StringTable {
    /// The index of `s`, added when new.
    pub fn index(&mut self, s: &str) -> usize {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strings.len();
        self.strings.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}
