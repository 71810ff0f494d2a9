//! Colours: one per OSI layer, used by every view; honours NO_COLOR and non-terminals.

use crate::decode::Osi;
use comfy_table::Color;

/// `--color auto|always|never`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour output going to a stream that is (or is not) a terminal.
    /// `auto`: only on a terminal, never when `NO_COLOR` is set (non-empty), always when
    /// `CLICOLOR_FORCE` is set (non-empty, not "0").
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0");
                if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                    false
                } else if set("CLICOLOR_FORCE") {
                    true
                } else {
                    is_terminal
                }
            }
        }
    }
}

/// The colour of an OSI layer (data link blue, network green, transport yellow,
/// presentation cyan, application magenta).
pub fn layer_color(osi: Osi) -> Color {
    match osi {
        Osi::Physical | Osi::DataLink => Color::Blue,
        Osi::Network => Color::Green,
        Osi::Transport => Color::Yellow,
        Osi::Session | Osi::Presentation => Color::Cyan,
        Osi::Application => Color::Magenta,
    }
}

/// ANSI SGR start sequence for a layer colour (for hand-drawn views).
pub fn layer_ansi(osi: Osi) -> &'static str {
    match osi {
        Osi::Physical | Osi::DataLink => "\x1b[34m",
        Osi::Network => "\x1b[32m",
        Osi::Transport => "\x1b[33m",
        Osi::Session | Osi::Presentation => "\x1b[36m",
        Osi::Application => "\x1b[35m",
    }
}

pub const RESET: &str = "\x1b[0m";
