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

/// Replaces, left to right, every non-overlapping match found by `find_at(chars, start)`
/// (returning the match's end) with `replace(matched)`.
fn replace_matches(
    text: &str,
    find_at: impl Fn(&[char], usize) -> Option<usize>,
    replace: impl Fn(&str) -> String,
) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if let Some(end) = find_at(&chars, i) {
            let matched: String = chars[i..end].iter().collect();
            out.push_str(&replace(&matched));
            i = end;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// End of the longest run of chars from `allowed` starting at `start`, backed off to its last
/// digit (a greedy `[allowed]*[0-9]`).
fn run_to_last_digit(chars: &[char], start: usize, allowed: &str) -> Option<usize> {
    let mut end = start;
    while end < chars.len() && (chars[end].is_ascii_digit() || allowed.contains(chars[end])) {
        end += 1;
    }
    while end > start && !chars[end - 1].is_ascii_digit() {
        end -= 1;
    }
    (end > start).then_some(end)
}

fn digits_end(chars: &[char], start: usize) -> usize {
    let mut end = start;
    while end < chars.len() && chars[end].is_ascii_digit() {
        end += 1;
    }
    end
}

/// keithito's `normalize_numbers`.
pub fn expand_numbers(text: &str) -> String {
    // `[0-9][0-9,]+[0-9]`: drop the thousands separators.
    let text = replace_matches(
        text,
        |c, i| {
            if !c[i].is_ascii_digit() {
                return None;
            }
            run_to_last_digit(c, i, ",").filter(|&end| end - i >= 3)
        },
        |m| m.replace(',', ""),
    );
    // `£([0-9,]*[0-9]+)` → "N pounds".
    let text = replace_matches(
        &text,
        |c, i| {
            (c[i] == '£')
                .then(|| run_to_last_digit(c, i + 1, ","))
                .flatten()
        },
        |m| format!("{} pounds", &m['£'.len_utf8()..]),
    );
    // `\$([0-9.,]*[0-9]+)` → dollars and cents.
    let text = replace_matches(
        &text,
        |c, i| {
            (c[i] == '$')
                .then(|| run_to_last_digit(c, i + 1, ".,"))
                .flatten()
        },
        |m| expand_dollars(&m[1..]),
    );
    // `[0-9]+\.[0-9]+` → "N point M".
    let text = replace_matches(
        &text,
        |c, i| {
            let int_end = digits_end(c, i);
            if int_end == i || c.get(int_end) != Some(&'.') {
                return None;
            }
            let frac_end = digits_end(c, int_end + 1);
            (frac_end > int_end + 1).then_some(frac_end)
        },
        |m| m.replace('.', " point "),
    );
    // `[0-9]+(st|nd|rd|th)` → ordinal words.
    let text = replace_matches(
        &text,
        |c, i| {
            let end = digits_end(c, i);
            if end == i || end + 2 > c.len() {
                return None;
            }
            let suffix: String = c[end..end + 2].iter().collect();
            ["st", "nd", "rd", "th"]
                .contains(&suffix.as_str())
                .then_some(end + 2)
        },
        |m| {
            let digits = &m[..m.len() - 2];
            digits
                .parse::<u64>()
                .map(|n| ordinal(&cardinal(n)))
                .unwrap_or_else(|_| m.to_string())
        },
    );
    // `[0-9]+` → words.
    replace_matches(
        &text,
        |c, i| {
            let end = digits_end(c, i);
            (end > i).then_some(end)
        },
        |m| {
            m.parse::<u64>()
                .map(expand_number)
                .unwrap_or_else(|_| m.to_string())
        },
    )
}

fn expand_dollars(amount: &str) -> String {
    let parts: Vec<&str> = amount.split('.').collect();
    if parts.len() > 2 {
        return format!("{amount} dollars");
    }
    let number = |s: &str| s.replace(',', "").parse::<u64>().unwrap_or(0);
    let dollars = number(parts[0]);
    let cents = parts.get(1).map_or(0, |s| number(s));
    let unit = |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    match (dollars, cents) {
        (0, 0) => "zero dollars".to_string(),
        (d, 0) => format!("{d} {}", unit(d, "dollar", "dollars")),
        (0, c) => format!("{c} {}", unit(c, "cent", "cents")),
        (d, c) => format!(
            "{d} {}, {c} {}",
            unit(d, "dollar", "dollars"),
            unit(c, "cent", "cents")
        ),
    }
}

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [&str; 6] = [
    "",
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
];

fn below_hundred(n: u64) -> String {
    if n < 20 {
        ONES[n as usize].to_string()
    } else if n.is_multiple_of(10) {
        TENS[(n / 10) as usize].to_string()
    } else {
        format!("{}-{}", TENS[(n / 10) as usize], ONES[(n % 10) as usize])
    }
}

fn below_thousand(n: u64) -> String {
    match (n / 100, n % 100) {
        (0, r) => below_hundred(r),
        (h, 0) => format!("{} hundred", ONES[h as usize]),
        (h, r) => format!("{} hundred {}", ONES[h as usize], below_hundred(r)),
    }
}

/// `inflect.number_to_words(n, andword='')`: groups of thousands joined by ", ".
pub fn cardinal(n: u64) -> String {
    if n == 0 {
        return "zero".to_string();
    }
    let mut groups = Vec::new();
    let mut rest = n;
    let mut scale = 0;
    while rest > 0 {
        let group = rest % 1000;
        if group > 0 {
            let words = below_thousand(group);
            groups.push(match SCALES.get(scale) {
                Some(&"") => words,
                Some(s) => format!("{words} {s}"),
                None => words,
            });
        }
        rest /= 1000;
        scale += 1;
    }
    groups.reverse();
    groups.join(", ")
}

/// The ordinal of a cardinal's words ("twenty-one" → "twenty-first").
fn ordinal(words: &str) -> String {
    let split = words.rfind([' ', '-']).map_or(0, |i| i + 1);
    let (head, last) = words.split_at(split);
    let last = match last {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    format!("{head}{last}")
}

/// keithito's `_expand_number`: years between 1000 and 3000 read in pairs.
fn expand_number(n: u64) -> String {
    if n > 1000 && n < 3000 {
        if n == 2000 {
            "two thousand".to_string()
        } else if n > 2000 && n < 2010 {
            format!("two thousand {}", cardinal(n % 100))
        } else if n.is_multiple_of(100) {
            format!("{} hundred", cardinal(n / 100))
        } else {
            // inflect group=2, zero='oh': "19 05" → "nineteen oh-five".
            let (high, low) = (n / 100, n % 100);
            let low = if low < 10 {
                format!("oh-{}", ONES[low as usize])
            } else {
                below_hundred(low)
            };
            format!("{} {low}", below_hundred(high))
        }
    } else {
        cardinal(n)
    }
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
    fn numbers() {
        assert_eq!(expand_numbers("12"), "twelve");
        assert_eq!(expand_numbers("345"), "three hundred forty-five");
        assert_eq!(
            expand_numbers("1,234,567"),
            "one million, two hundred thirty-four thousand, five hundred sixty-seven"
        );
        assert_eq!(expand_numbers("1984"), "nineteen eighty-four");
        assert_eq!(expand_numbers("1905"), "nineteen oh-five");
        assert_eq!(expand_numbers("1900"), "nineteen hundred");
        assert_eq!(expand_numbers("2005"), "two thousand five");
        assert_eq!(expand_numbers("21st"), "twenty-first");
        assert_eq!(expand_numbers("3.14"), "three point fourteen");
        assert_eq!(expand_numbers("$3.50"), "three dollars, fifty cents");
        assert_eq!(expand_numbers("$1"), "one dollar");
        assert_eq!(expand_numbers("£20"), "twenty pounds");
        assert_eq!(expand_numbers("100th"), "one hundredth");
    }

    #[test]
    fn sequences_and_arpabet() {
        let ids = text_to_sequence("Hi {HH AH0 L OW1} 2.");
        assert_eq!(sequence_to_text(&ids), "hi {HH AH0 L OW1} two.");
        assert!(text_to_sequence("{}").is_empty());
        assert!(!text_to_sequence("_").contains(&0));
    }
}
