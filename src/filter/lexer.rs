//! Tokens of a filter expression, each with its byte span in the source.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A run of `[A-Za-z0-9_.:\-\\]` (no `:` inside brackets): keywords, names, numbers,
    /// addresses, `1-100` port ranges.
    Word,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Colon,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Amp,
    Pipe,
    Caret,
    Shl,
    Shr,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
    /// `!`
    Bang,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// A character no filter uses.
    Bad,
    /// End of input (zero-length, at the end).
    End,
}

/// A token and its byte span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_word_char(c: char, in_brackets: bool) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '\\') || (c == ':' && !in_brackets)
}

fn is_word_start(c: char, in_brackets: bool) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '\\') || (c == ':' && !in_brackets)
}

/// Splits `src` into tokens; always ends with one [`Tok::End`]. Never fails: characters
/// no filter uses become [`Tok::Bad`] tokens, which the parser reports.
pub(crate) fn lex(src: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut brackets: usize = 0;
    let mut it = src.char_indices().peekable();
    while let Some((start, c)) = it.next() {
        if c.is_whitespace() {
            continue;
        }
        let in_br = brackets > 0;
        if is_word_start(c, in_br) {
            let mut end = start + c.len_utf8();
            while let Some(&(i, d)) = it.peek() {
                if !is_word_char(d, in_br) {
                    break;
                }
                end = i + d.len_utf8();
                it.next();
            }
            out.push(Token {
                tok: Tok::Word,
                start,
                end,
            });
            continue;
        }
        let next = it.peek().map(|&(_, d)| d);
        let (tok, two) = match (c, next) {
            ('&', Some('&')) => (Tok::AndAnd, true),
            ('|', Some('|')) => (Tok::OrOr, true),
            ('=', Some('=')) => (Tok::Eq, true),
            ('!', Some('=')) => (Tok::Ne, true),
            ('<', Some('=')) => (Tok::Le, true),
            ('>', Some('=')) => (Tok::Ge, true),
            ('<', Some('<')) => (Tok::Shl, true),
            ('>', Some('>')) => (Tok::Shr, true),
            ('(', _) => (Tok::LParen, false),
            (')', _) => (Tok::RParen, false),
            ('[', _) => {
                brackets += 1;
                (Tok::LBracket, false)
            }
            (']', _) => {
                brackets = brackets.saturating_sub(1);
                (Tok::RBracket, false)
            }
            (':', _) => (Tok::Colon, false),
            ('+', _) => (Tok::Plus, false),
            ('-', _) => (Tok::Minus, false),
            ('*', _) => (Tok::Star, false),
            ('/', _) => (Tok::Slash, false),
            ('%', _) => (Tok::Percent, false),
            ('&', _) => (Tok::Amp, false),
            ('|', _) => (Tok::Pipe, false),
            ('^', _) => (Tok::Caret, false),
            ('!', _) => (Tok::Bang, false),
            ('=', _) => (Tok::Eq, false),
            ('<', _) => (Tok::Lt, false),
            ('>', _) => (Tok::Gt, false),
            _ => (Tok::Bad, false),
        };
        let mut end = start + c.len_utf8();
        if two {
            end += 1;
            it.next();
        }
        out.push(Token { tok, start, end });
    }
    out.push(Token {
        tok: Tok::End,
        start: src.len(),
        end: src.len(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Tok, &str)> {
        lex(s)
            .into_iter()
            .map(|t| (t.tok, &s[t.start..t.end]))
            .collect()
    }

    #[test]
    fn words_keep_addresses_and_dashes_together() {
        assert_eq!(
            kinds("host fe80::1 or tcp-syn&1-100"),
            vec![
                (Tok::Word, "host"),
                (Tok::Word, "fe80::1"),
                (Tok::Word, "or"),
                (Tok::Word, "tcp-syn"),
                (Tok::Amp, "&"),
                (Tok::Word, "1-100"),
                (Tok::End, ""),
            ]
        );
    }

    #[test]
    fn colon_splits_inside_brackets_and_operators_are_greedy() {
        assert_eq!(
            kinds("tcp[2:2]>=0x10&&!(a<<1!=b)"),
            vec![
                (Tok::Word, "tcp"),
                (Tok::LBracket, "["),
                (Tok::Word, "2"),
                (Tok::Colon, ":"),
                (Tok::Word, "2"),
                (Tok::RBracket, "]"),
                (Tok::Ge, ">="),
                (Tok::Word, "0x10"),
                (Tok::AndAnd, "&&"),
                (Tok::Bang, "!"),
                (Tok::LParen, "("),
                (Tok::Word, "a"),
                (Tok::Shl, "<<"),
                (Tok::Word, "1"),
                (Tok::Ne, "!="),
                (Tok::Word, "b"),
                (Tok::RParen, ")"),
                (Tok::End, ""),
            ]
        );
    }

    #[test]
    fn odd_characters_become_bad_tokens_with_their_span() {
        let toks = lex("port é");
        assert_eq!(toks[1].tok, Tok::Bad);
        assert_eq!((toks[1].start, toks[1].end), (5, 7));
        assert_eq!(toks[2].start, 7);
    }
}
