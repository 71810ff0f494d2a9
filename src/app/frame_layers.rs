//! What the app stage recognised in one call's stream data: the application layer(s) of
//! the packet that carried it, returned by [`crate::app::AppTracker::feed_segment`] and
//! [`crate::app::AppTracker::feed_datagram`] and added to the packet by the pipeline.

use super::FrameNames;
use crate::decode::LayerName;

/// The application layers the app stage found, each with the frame whose payload carried
/// it (stream bytes buffered out of order are delivered with an older frame than the
/// packet being processed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameLayers {
    /// The application protocol, and the frame that carried it.
    app: Option<(LayerName, u64)>,
    /// The protocol read inside decrypted TLS records, and the frame that completed them.
    inner: Option<(LayerName, u64)>,
    /// The HTTP/2 or HTTP/3 frames read, and the frame that completed them.
    frames: FrameNames,
}

impl FrameLayers {
    /// Nothing recognised.
    pub const NONE: FrameLayers = FrameLayers {
        app: None,
        inner: None,
        frames: FrameNames::NONE,
    };

    /// What one call found in frame `frame`'s bytes.
    #[inline]
    pub(crate) fn found(frame: u64, app: Option<LayerName>, inner: Option<LayerName>) -> Self {
        FrameLayers {
            app: app.map(|name| (name, frame)),
            inner: inner.map(|name| (name, frame)),
            frames: FrameNames::NONE,
        }
    }

    /// The same, with the HTTP/2 or HTTP/3 frames the call read.
    #[inline]
    pub(crate) fn with_frames(mut self, frames: FrameNames) -> Self {
        self.frames = frames;
        self
    }

    /// Adds what a later call found for the same packet: the newest frame's application
    /// protocol wins (a later call may deliver older, buffered bytes), the latest inner
    /// protocol wins.
    #[inline]
    pub fn merge(&mut self, later: FrameLayers) {
        if let Some((name, frame)) = later.app {
            match self.app {
                Some((_, f)) if f > frame => {}
                _ => self.app = Some((name, frame)),
            }
        }
        if later.inner.is_some() {
            self.inner = later.inner;
        }
        self.frames.merge(later.frames);
    }

    /// The application protocol recognised in frame `frame`'s payload, if any.
    #[inline]
    pub fn app_of(&self, frame: u64) -> Option<LayerName> {
        self.app.filter(|&(_, f)| f == frame).map(|(name, _)| name)
    }

    /// The protocol read from decrypted TLS records that frame `frame` completed (shown
    /// after the frame's `tls` layer).
    #[inline]
    pub fn inner_of(&self, frame: u64) -> Option<LayerName> {
        self.inner
            .filter(|&(_, f)| f == frame)
            .map(|(name, _)| name)
    }

    /// The HTTP/2 or HTTP/3 frames frame `frame`'s bytes completed.
    #[inline]
    pub fn frames_of(&self, frame: u64) -> FrameNames {
        self.frames.of_frame(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_frame_wins_and_only_its_own_frame_sees_it() {
        let mut l = FrameLayers::NONE;
        l.merge(FrameLayers::found(7, Some(LayerName::Http), None));
        // Buffered bytes of frame 5 delivered after frame 7's: frame 7 keeps its layer.
        l.merge(FrameLayers::found(5, Some(LayerName::Dns), None));
        assert_eq!(l.app_of(7), Some(LayerName::Http));
        assert_eq!(l.app_of(5), None);
        // A later call for the same frame replaces it.
        l.merge(FrameLayers::found(
            7,
            Some(LayerName::Tls),
            Some(LayerName::Http2),
        ));
        assert_eq!(
            (l.app_of(7), l.inner_of(7)),
            (Some(LayerName::Tls), Some(LayerName::Http2))
        );
        // The inner protocol: the latest wins, whatever its frame.
        l.merge(FrameLayers::found(6, None, Some(LayerName::Http)));
        assert_eq!(
            (l.inner_of(7), l.inner_of(6)),
            (None, Some(LayerName::Http))
        );
        // A call that found nothing changes nothing.
        l.merge(FrameLayers::found(8, None, None));
        assert_eq!(l.app_of(8), None);
        assert_eq!(l.app_of(7), Some(LayerName::Tls));
    }
}
