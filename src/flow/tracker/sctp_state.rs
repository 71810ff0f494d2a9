//! An SCTP association's setup and end (RFC 9260 §5, §9): INIT → INIT ACK → COOKIE ECHO →
//! COOKIE ACK, then SHUTDOWN → SHUTDOWN ACK → SHUTDOWN COMPLETE (graceful) or an ABORT.
//! An association that completed its shutdown or was aborted is closed: it leaves the
//! table after the closed linger, as a TCP connection after FIN/RST.
//!
//! Zeek has no SCTP transport, so there is no Zeek `conn_state` to copy; layerscope gives
//! one by analogy with Zeek's TCP states (the INIT as the SYN, INIT ACK as the SYN-ACK,
//! SHUTDOWN as a FIN, ABORT as a RST): `S0` an INIT never answered, `REJ` an INIT answered
//! by ABORT, `S1` set up and not closed, `SF` set up and shut down, `S2`/`S3` a SHUTDOWN
//! from the originator/responder not completed, `RSTO`/`RSTR` aborted by the
//! originator/responder after the INIT ACK, `OTH` no INIT seen (a capture started
//! mid-association) and not ended.

use super::*;

/// SCTP chunk types (RFC 9260 §3.2).
pub(super) mod chunk {
    pub const INIT: u8 = 1;
    pub const INIT_ACK: u8 = 2;
    pub const ABORT: u8 = 6;
    pub const SHUTDOWN: u8 = 7;
    pub const SHUTDOWN_ACK: u8 = 8;
    pub const COOKIE_ACK: u8 = 11;
    pub const SHUTDOWN_COMPLETE: u8 = 14;
}

/// What was seen of one association's setup and end.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SctpAssoc {
    init: bool,
    init_ack: bool,
    cookie_ack: bool,
    /// First SHUTDOWN: its sender and frame.
    shutdown: Option<(Direction, u64)>,
    shutdown_ack: Option<u64>,
    complete: Option<u64>,
    /// First ABORT: its sender and frame.
    abort: Option<(Direction, u64)>,
}

impl SctpAssoc {
    /// One chunk of a packet sent in `dir`, frame `frame`.
    pub fn chunk(&mut self, kind: u8, dir: Direction, frame: u64) {
        match kind {
            chunk::INIT => self.init = true,
            chunk::INIT_ACK => self.init_ack = true,
            chunk::COOKIE_ACK => self.cookie_ack = true,
            chunk::SHUTDOWN => {
                self.shutdown.get_or_insert((dir, frame));
            }
            chunk::SHUTDOWN_ACK => {
                self.shutdown_ack.get_or_insert(frame);
            }
            chunk::SHUTDOWN_COMPLETE => {
                self.complete.get_or_insert(frame);
            }
            chunk::ABORT => {
                self.abort.get_or_insert((dir, frame));
            }
            _ => {}
        }
    }

    /// The association ended (shutdown complete or aborted).
    pub fn closed(&self) -> bool {
        self.complete.is_some() || self.abort.is_some()
    }

    /// The conn_state by analogy with Zeek's TCP states (module docs).
    pub fn conn_state(&self) -> &'static str {
        if let Some((dir, _)) = self.abort {
            return match (self.init, self.init_ack, dir) {
                (true, false, Direction::ToClient) => "REJ",
                (_, _, Direction::ToServer) => "RSTO",
                _ => "RSTR",
            };
        }
        if !self.init {
            return if self.complete.is_some() && self.init_ack {
                "SF"
            } else {
                "OTH"
            };
        }
        if !self.init_ack && !self.cookie_ack {
            return "S0";
        }
        match (self.complete, self.shutdown) {
            (Some(_), _) => "SF",
            (None, Some((Direction::ToServer, _))) => "S2",
            (None, Some((Direction::ToClient, _))) => "S3",
            (None, None) => "S1",
        }
    }

    /// Writes the end into a summary: conn_state, teardown, and the reason of an
    /// association that ended by ABORT (`Reset`) or shutdown (`Closed`).
    pub fn apply(&self, s: &mut ConnSummary) {
        s.conn_state = self.conn_state();
        let mut frames = ArrayVec::new();
        if let Some((dir, frame)) = self.abort {
            frames.push(frame);
            s.teardown = TeardownSummary {
                kind: TeardownKind::Rst,
                initiator: Some(dir),
                frames,
                description: Cow::Borrowed(match dir {
                    Direction::ToServer => "SCTP ABORT from the client",
                    Direction::ToClient => "SCTP ABORT from the server",
                }),
            };
            if matches!(s.end_reason, EndReason::Closed | EndReason::EndOfInput) {
                s.end_reason = EndReason::Reset;
            }
            return;
        }
        let Some((dir, frame)) = self.shutdown else {
            return;
        };
        frames.push(frame);
        frames.extend(self.shutdown_ack);
        frames.extend(self.complete);
        let complete = self.complete.is_some();
        if complete && s.end_reason == EndReason::EndOfInput {
            s.end_reason = EndReason::Closed;
        }
        s.teardown = TeardownSummary {
            kind: if complete {
                TeardownKind::Fin
            } else {
                TeardownKind::HalfClose
            },
            initiator: Some(dir),
            frames,
            description: Cow::Borrowed(if complete {
                "SCTP shutdown: SHUTDOWN, SHUTDOWN ACK, SHUTDOWN COMPLETE"
            } else {
                "SCTP shutdown not completed"
            }),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{ToClient as S, ToServer as C};

    fn assoc(chunks: &[(u8, Direction)]) -> SctpAssoc {
        let mut a = SctpAssoc::default();
        for (i, &(k, d)) in chunks.iter().enumerate() {
            a.chunk(k, d, i as u64 + 1);
        }
        a
    }

    #[test]
    fn states_by_analogy_with_zeeks_tcp_states() {
        use chunk::*;
        let setup = [(INIT, C), (INIT_ACK, S), (10, C), (COOKIE_ACK, S)];
        assert_eq!(assoc(&[(INIT, C)]).conn_state(), "S0");
        assert_eq!(assoc(&[(INIT, C), (ABORT, S)]).conn_state(), "REJ");
        assert_eq!(assoc(&setup).conn_state(), "S1");
        let mut graceful = setup.to_vec();
        graceful.extend([(SHUTDOWN, C), (SHUTDOWN_ACK, S), (SHUTDOWN_COMPLETE, C)]);
        let a = assoc(&graceful);
        assert_eq!((a.conn_state(), a.closed()), ("SF", true));
        let mut half = setup.to_vec();
        half.push((SHUTDOWN, S));
        let a = assoc(&half);
        assert_eq!((a.conn_state(), a.closed()), ("S3", false));
        let mut aborted = setup.to_vec();
        aborted.push((ABORT, C));
        assert_eq!(assoc(&aborted).conn_state(), "RSTO");
        aborted.pop();
        aborted.push((ABORT, S));
        assert_eq!(assoc(&aborted).conn_state(), "RSTR");
        assert_eq!(assoc(&[(0, C), (3, S)]).conn_state(), "OTH");
    }
}
