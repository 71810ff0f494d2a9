//! What `follow` is shown of one connection beyond its stream bytes: the HTTP/2 and
//! HTTP/3 frames the app stage read on it, in wire order, and the plaintext of its
//! decrypted TLS records. Only the watched connection is recorded; the follow tap takes
//! the items after each segment, so at most one segment's worth is ever held (and that is
//! capped too: [`MAX_ITEMS`] items, [`MAX_DATA`] payload bytes per item, the rest counted).

use crate::flow::{ConnId, Direction};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Items held until the follow tap takes them.
pub const MAX_ITEMS: usize = 4096;
/// DATA payload or plaintext bytes kept per item (the default SETTINGS_MAX_FRAME_SIZE and
/// the largest TLS record).
pub const MAX_DATA: usize = 16 << 10;

/// Which protocol a frame belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameProto {
    Http2,
    Http3,
}

/// One HTTP/2 or HTTP/3 frame as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameItem {
    pub proto: FrameProto,
    /// The capture frame that completed it.
    pub frame: u64,
    pub dir: Direction,
    /// Frame type and its name.
    pub kind: u64,
    pub name: &'static str,
    /// HTTP/2 flags (HTTP/3 frames have none).
    pub flags: u8,
    pub stream: u64,
    /// Payload length as sent.
    pub len: u64,
    /// Fields of the frame (SETTINGS parameters, increments, error codes …); values may
    /// hold wire bytes.
    pub fields: Vec<(&'static str, String)>,
    /// The decoded header list of a header block this frame ended, or why it did not decode.
    pub headers: Option<Result<Vec<(String, String)>, String>>,
    /// DATA payload (padding removed), the first [`MAX_DATA`] bytes.
    pub data: Vec<u8>,
    /// Payload bytes not kept in `data`.
    pub data_cut: u64,
}

/// What the follow tap is handed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FollowItem {
    Frame(FrameItem),
    /// Plaintext of decrypted TLS application data that is not HTTP/2 (HTTP/1.x, DNS, …).
    Plain {
        dir: Direction,
        frame: u64,
        bytes: Vec<u8>,
        cut: u64,
    },
}

/// The watched connection's items (see the module's documentation).
#[derive(Debug)]
pub struct FollowWatch {
    pub conn: ConnId,
    items: Mutex<Vec<FollowItem>>,
    /// Items not kept because [`MAX_ITEMS`] were waiting.
    pub dropped: AtomicU64,
    /// The connection is TLS read with a key log: its ciphertext says nothing, the items
    /// say what it carried.
    decrypting: AtomicBool,
}

impl FollowWatch {
    pub fn new(conn: ConnId) -> FollowWatch {
        FollowWatch {
            conn,
            items: Mutex::default(),
            dropped: AtomicU64::new(0),
            decrypting: AtomicBool::new(false),
        }
    }

    /// This watch if it watches `conn`.
    pub fn of(watch: Option<&std::sync::Arc<FollowWatch>>, conn: ConnId) -> Option<&FollowWatch> {
        watch.map(|w| &**w).filter(|w| w.conn == conn)
    }

    pub fn push(&self, item: FollowItem) {
        if let Ok(mut v) = self.items.lock() {
            if v.len() < MAX_ITEMS {
                v.push(item);
                return;
            }
        }
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Plaintext of `dir` decrypted in capture frame `frame`.
    pub fn plain(&self, dir: Direction, frame: u64, bytes: &[u8]) {
        let kept = &bytes[..bytes.len().min(MAX_DATA)];
        self.push(FollowItem::Plain {
            dir,
            frame,
            bytes: kept.to_vec(),
            cut: (bytes.len() - kept.len()) as u64,
        });
    }

    /// The header list (or the decoding error) of the block the last frame pushed ended.
    pub fn set_headers(&self, headers: Result<Vec<(String, String)>, String>) {
        if let Ok(mut v) = self.items.lock() {
            if let Some(FollowItem::Frame(f)) = v.last_mut() {
                f.headers = Some(headers);
            }
        }
    }

    /// The items recorded since the last call.
    pub fn take(&self) -> Vec<FollowItem> {
        self.items
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }

    pub fn set_decrypting(&self) {
        self.decrypting.store(true, Ordering::Relaxed);
    }

    pub fn decrypting(&self) -> bool {
        self.decrypting.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_capped_and_counted_and_headers_attach_to_the_last_frame() {
        let w = FollowWatch::new(3);
        assert!(FollowWatch::of(Some(&std::sync::Arc::new(FollowWatch::new(3))), 4).is_none());
        let frame = FrameItem {
            proto: FrameProto::Http2,
            frame: 9,
            dir: Direction::ToServer,
            kind: 1,
            name: "HEADERS",
            flags: 5,
            stream: 1,
            len: 3,
            fields: Vec::new(),
            headers: None,
            data: Vec::new(),
            data_cut: 0,
        };
        w.push(FollowItem::Frame(frame.clone()));
        w.set_headers(Ok(vec![(":method".into(), "GET".into())]));
        let got = w.take();
        let [FollowItem::Frame(f)] = &got[..] else {
            panic!("{got:?}")
        };
        assert_eq!(f.headers, Some(Ok(vec![(":method".into(), "GET".into())])));
        for _ in 0..MAX_ITEMS + 2 {
            w.push(FollowItem::Frame(frame.clone()));
        }
        assert_eq!(w.take().len(), MAX_ITEMS);
        assert_eq!(w.dropped.load(Ordering::Relaxed), 2);
        w.plain(Direction::ToClient, 1, &vec![b'x'; MAX_DATA + 5]);
        let [FollowItem::Plain { bytes, cut, .. }] = &w.take()[..] else {
            panic!()
        };
        assert_eq!((bytes.len(), *cut), (MAX_DATA, 5));
    }
}
