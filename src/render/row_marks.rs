//! What marks a tracked packet's row in the views that mark rows (the table's connection
//! blocks, the report's packet table and ladder): its step of the handshake or teardown, a
//! RST, or a flag of the analysis. One place decides the kind of row; each view only draws
//! it (a letter and a colour in a terminal, a class in HTML).

use crate::flow::{AnalysisFlags, PacketFlow, Step, TcpState};

/// A row's kind, in the order a view looks for it: a step first, then analysis flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// A step of the three-way handshake.
    Handshake,
    /// A step of the teardown.
    Teardown,
    /// A RST that aborted or refused the connection.
    Reset,
    /// No step, but the analysis flagged it (retransmission, zero window …).
    Flagged,
    /// Nothing to mark.
    Plain,
}

impl RowKind {
    /// The kind of a row with this step and these analysis flags.
    pub fn of(step: Option<Step>, analysis: AnalysisFlags) -> RowKind {
        match step {
            Some(Step::Handshake(_)) => RowKind::Handshake,
            Some(Step::Teardown(_)) => RowKind::Teardown,
            Some(Step::Abort | Step::Refused) => RowKind::Reset,
            None if !analysis.is_empty() => RowKind::Flagged,
            None => RowKind::Plain,
        }
    }
    /// The one-letter mark the table and the report put before the row ("" when plain).
    pub fn letter(self) -> &'static str {
        match self {
            RowKind::Handshake => "H",
            RowKind::Teardown => "T",
            RowKind::Reset => "R",
            RowKind::Flagged => "!",
            RowKind::Plain => "",
        }
    }
}

/// What a row keeps of its packet's flow facts to be marked and drawn.
#[derive(Clone, Copy, Debug, Default)]
pub struct RowMarks {
    pub step: Option<Step>,
    /// (client, server) endpoint states after the packet, when it changed them.
    pub state: Option<(TcpState, TcpState)>,
    pub analysis: AnalysisFlags,
}

impl RowMarks {
    /// The marks of a tracked packet.
    pub fn of(flow: &PacketFlow) -> RowMarks {
        RowMarks {
            step: flow.step,
            state: flow.state,
            analysis: flow.analysis,
        }
    }
    /// The row's kind.
    pub fn kind(&self) -> RowKind {
        RowKind::of(self.step, self.analysis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_marks_before_the_analysis() {
        let kind = |step, analysis| RowKind::of(step, analysis).letter();
        let mut flagged = AnalysisFlags::default();
        flagged.set(AnalysisFlags::DUPLICATE_ACK);
        assert_eq!(kind(Some(Step::Handshake(2)), flagged), "H");
        assert_eq!(kind(Some(Step::Teardown(1)), flagged), "T");
        assert_eq!(kind(Some(Step::Refused), AnalysisFlags::default()), "R");
        assert_eq!(kind(Some(Step::Abort), flagged), "R");
        assert_eq!(kind(None, flagged), "!");
        assert_eq!(kind(None, AnalysisFlags::default()), "");
    }
}
