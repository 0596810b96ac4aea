//! Text processing of `nvidia_tts_utils` (DeepLearningExamples `tacotron2/text/`, itself from
//! keithito/tacotron): the `english_cleaners` pipeline and the symbol table.
//!
//! `english_cleaners` = ASCII transliteration → lowercase → number expansion → abbreviation
//! expansion → whitespace collapsing. Differences from the Python reference, all in rare
//! inputs:
//!
//! - transliteration (`unidecode` upstream) covers the Latin-1 and Latin Extended-A letters and
//!   common typographic punctuation only; any other non-ASCII character is dropped;
//! - numbers are spelled out by our own port of the `inflect` rules keithito uses (cardinals
//!   with `, ` between thousands groups, `1000 < n < 3000` read as years, ordinals, `$`/`£`
//!   amounts, decimals with "point"); `inflect`'s corner cases beyond that (e.g. numbers of
//!   more than 15 digits) are not reproduced.
//!
//! `{HH AH0 L OW1}` spans are ARPAbet, looked up as `@`-prefixed symbols, as upstream.

mod numbers;

pub use numbers::{cardinal, expand_numbers};

/// Padding symbol (id 0); never produced by [`text_to_sequence`].
pub const PAD: char = '_';
const SPECIAL: &str = "-";
const PUNCTUATION: &str = "!'(),.:;? ";
const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CMUdict's ARPAbet symbols (`cmudict.valid_symbols`), in order.
pub const ARPABET: [&str; 84] = [
    "AA", "AA0", "AA1", "AA2", "AE", "AE0", "AE1", "AE2", "AH", "AH0", "AH1", "AH2", "AO", "AO0",
    "AO1", "AO2", "AW", "AW0", "AW1", "AW2", "AY", "AY0", "AY1", "AY2", "B", "CH", "D", "DH", "EH",
    "EH0", "EH1", "EH2", "ER", "ER0", "ER1", "ER2", "EY", "EY0", "EY1", "EY2", "F", "G", "HH",
    "IH", "IH0", "IH1", "IH2", "IY", "IY0", "IY1", "IY2", "JH", "K", "L", "M", "N", "NG", "OW",
    "OW0", "OW1", "OW2", "OY", "OY0", "OY1", "OY2", "P", "R", "S", "SH", "T", "TH", "UH", "UH0",
    "UH1", "UH2", "UW", "UW0", "UW1", "UW2", "V", "W", "Y", "Z", "ZH",
];

/// Number of symbols: pad, `-`, 10 punctuation marks (space included), 52 letters, 84
/// ARPAbet symbols.
pub const N_SYMBOLS: usize = 1 + 1 + 10 + 52 + 84;

/// The symbol table in id order (ARPAbet symbols carry an `@` prefix).
pub fn symbols() -> Vec<String> {
    std::iter::once(PAD.to_string())
        .chain(SPECIAL.chars().map(String::from))
        .chain(PUNCTUATION.chars().map(String::from))
        .chain(LETTERS.chars().map(String::from))
        .chain(ARPABET.iter().map(|s| format!("@{s}")))
        .collect()
}

/// The id of a character symbol (pad excluded, as upstream's `_should_keep_symbol`).
fn char_id(c: char) -> Option<u32> {
    let offset = |set: &str, base: u32| set.find(c).map(|i| base + i as u32);
    if c == PAD {
        return None;
    }
    offset(SPECIAL, 1)
        .or_else(|| offset(PUNCTUATION, 2))
        .or_else(|| {
            if c.is_ascii_alphabetic() {
                offset(LETTERS, 12)
            } else {
                None
            }
        })
}

fn arpabet_id(symbol: &str) -> Option<u32> {
    ARPABET
        .iter()
        .position(|s| *s == symbol)
        .map(|i| 64 + i as u32)
}

/// Text → symbol ids with `english_cleaners` (`text_to_sequence(text, ['english_cleaners'])`).
/// Characters outside the table are dropped; `{...}` spans are read as ARPAbet.
pub fn text_to_sequence(text: &str) -> Vec<u32> {
    let mut ids = Vec::new();
    let mut rest = text;
    loop {
        // Upstream's `(.*?)\{(.+?)\}(.*)`: the first `{` followed, later, by a `}` with at least
        // one character between.
        let span = rest.find('{').and_then(|open| {
            let after = &rest[open + 1..];
            let mut chars = after.char_indices();
            let first = chars.next()?;
            after[first.0 + first.1.len_utf8()..]
                .find('}')
                .map(|close| (open, open + 1 + first.0 + first.1.len_utf8() + close))
        });
        let Some((open, close)) = span else {
            ids.extend(english_cleaners(rest).chars().filter_map(char_id));
            return ids;
        };
        ids.extend(english_cleaners(&rest[..open]).chars().filter_map(char_id));
        ids.extend(
            rest[open + 1..close]
                .split_whitespace()
                .filter_map(arpabet_id),
        );
        rest = &rest[close + 1..];
    }
}

/// Ids back to text (`sequence_to_text`), ARPAbet in braces.
pub fn sequence_to_text(ids: &[u32]) -> String {
    let table = symbols();
    let mut out = String::new();
    for &id in ids {
        if let Some(s) = table.get(id as usize) {
            match s.strip_prefix('@') {
                Some(arpabet) => out.push_str(&format!("{{{arpabet}}}")),
                None => out.push_str(s),
            }
        }
    }
    out.replace("}{", " ")
}

/// `english_cleaners`: transliterate, lowercase, expand numbers and abbreviations, collapse
/// whitespace.
pub fn english_cleaners(text: &str) -> String {
    let text = convert_to_ascii(text).to_lowercase();
    let text = expand_numbers(&text);
    let text = expand_abbreviations(&text);
    collapse_whitespace(&text)
}

/// Runs of whitespace → one space (leading/trailing kept as one space, like `re.sub`).
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// A small `unidecode`: Latin letters with diacritics and typographic punctuation to ASCII;
/// other non-ASCII characters dropped.
pub fn convert_to_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        let s = match c {
            'À'..='Å' | 'Ā' | 'Ă' | 'Ą' => "A",
            'à'..='å' | 'ā' | 'ă' | 'ą' => "a",
            'Æ' => "AE",
            'æ' => "ae",
            'Ç' | 'Ć' | 'Č' => "C",
            'ç' | 'ć' | 'č' => "c",
            'Ď' | 'Đ' | 'Ð' => "D",
            'ď' | 'đ' | 'ð' => "d",
            'È'..='Ë' | 'Ē' | 'Ė' | 'Ę' | 'Ě' => "E",
            'è'..='ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
            'Ğ' => "G",
            'ğ' => "g",
            'Ì'..='Ï' | 'Ī' | 'Į' | 'İ' => "I",
            'ì'..='ï' | 'ī' | 'į' | 'ı' => "i",
            'Ł' => "L",
            'ł' => "l",
            'Ñ' | 'Ń' | 'Ň' => "N",
            'ñ' | 'ń' | 'ň' => "n",
            'Ò'..='Ö' | 'Ø' | 'Ō' | 'Ő' => "O",
            'ò'..='ö' | 'ø' | 'ō' | 'ő' => "o",
            'Œ' => "OE",
            'œ' => "oe",
            'Ř' => "R",
            'ř' => "r",
            'Ś' | 'Š' | 'Ş' => "S",
            'ś' | 'š' | 'ş' => "s",
            'ß' => "ss",
            'Ť' | 'Ţ' => "T",
            'ť' | 'ţ' => "t",
            'Ù'..='Ü' | 'Ū' | 'Ů' | 'Ű' => "U",
            'ù'..='ü' | 'ū' | 'ů' | 'ű' => "u",
            'Ý' | 'Ÿ' => "Y",
            'ý' | 'ÿ' => "y",
            'Ź' | 'Ż' | 'Ž' => "Z",
            'ź' | 'ż' | 'ž' => "z",
            'Þ' => "Th",
            'þ' => "th",
            '‘' | '’' | '‚' | '′' => "'",
            '“' | '”' | '„' | '″' => "\"",
            '–' | '—' | '‐' | '‑' => "-",
            '…' => "...",
            '\u{a0}' => " ",
            // As unidecode: so upstream's `£` number rule never fires after transliteration.
            '£' => "PS",
            _ => "",
        };
        out.push_str(s);
    }
    out
}

const ABBREVIATIONS: [(&str, &str); 18] = [
    ("mrs", "misess"),
    ("mr", "mister"),
    ("dr", "doctor"),
    ("st", "saint"),
    ("co", "company"),
    ("jr", "junior"),
    ("maj", "major"),
    ("gen", "general"),
    ("drs", "doctors"),
    ("rev", "reverend"),
    ("lt", "lieutenant"),
    ("hon", "honorable"),
    ("sgt", "sergeant"),
    ("capt", "captain"),
    ("esq", "esquire"),
    ("ltd", "limited"),
    ("col", "colonel"),
    ("ft", "fort"),
];

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `\bABBR\.` → expansion, case-insensitively, for each abbreviation in upstream's order.
pub fn expand_abbreviations(text: &str) -> String {
    let mut text = text.to_string();
    for (abbreviation, expansion) in ABBREVIATIONS {
        let pattern = format!("{abbreviation}.");
        let mut out = String::with_capacity(text.len());
        let mut prev: Option<char> = None;
        let mut i = 0;
        while i < text.len() {
            let rest = &text[i..];
            let boundary = !prev.is_some_and(is_word);
            if boundary
                && rest.len() >= pattern.len()
                && rest.is_char_boundary(pattern.len())
                && rest[..pattern.len()].eq_ignore_ascii_case(&pattern)
            {
                out.push_str(expansion);
                prev = Some('.');
                i += pattern.len();
                continue;
            }
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            prev = Some(c);
            i += c.len_utf8();
        }
        text = out;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_table_matches_upstream_layout() {
        let table = symbols();
        assert_eq!(table.len(), N_SYMBOLS);
        assert_eq!(N_SYMBOLS, 148);
        assert_eq!(table[0], "_");
        assert_eq!(table[1], "-");
        assert_eq!(table[2], "!");
        assert_eq!(table[11], " ");
        assert_eq!(table[12], "A");
        assert_eq!(table[38], "a");
        assert_eq!(table[64], "@AA");
        assert_eq!(table[147], "@ZH");
        for (id, s) in table.iter().enumerate().skip(1).take(63) {
            let c = s.chars().next().unwrap();
            assert_eq!(char_id(c), Some(id as u32), "{s}");
        }
    }

    #[test]
    fn cleaners() {
        assert_eq!(english_cleaners("Hello   World!"), "hello world!");
        assert_eq!(
            english_cleaners("Dr. Smith met Mrs. Jones."),
            "doctor smith met misess jones."
        );
        assert_eq!(english_cleaners("Café  naïve"), "cafe naive");
        assert_eq!(english_cleaners("mister."), "mister.");
    }

    #[test]
    fn sequences_and_arpabet() {
        let ids = text_to_sequence("Hi {HH AH0 L OW1} 2.");
        assert_eq!(sequence_to_text(&ids), "hi {HH AH0 L OW1} two.");
        assert!(text_to_sequence("{}").is_empty());
        assert!(!text_to_sequence("_").contains(&0));
    }
}
