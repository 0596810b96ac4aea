//! Numbers spelled out: keithito's `normalize_numbers` and our port of the `inflect` rules it uses
//! (see [`super`]).

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

/// End of `currency` followed by a greedy `[allowed]*[0-9]` at `start`.
fn amount_end(chars: &[char], start: usize, currency: char, allowed: &str) -> Option<usize> {
    (chars[start] == currency).then(|| run_to_last_digit(chars, start + 1, allowed)).flatten()
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
    let text = replace_matches(&text, |c, i| amount_end(c, i, '£', ","), |m| format!("{} pounds", &m['£'.len_utf8()..]));
    // `\$([0-9.,]*[0-9]+)` → dollars and cents.
    let text = replace_matches(&text, |c, i| amount_end(c, i, '$', ".,"), |m| expand_dollars(&m[1..]));
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
    fn numbers() {
        let cases = [
            ("12", "twelve"),
            ("345", "three hundred forty-five"),
            ("1,234,567", "one million, two hundred thirty-four thousand, five hundred sixty-seven"),
            ("1984", "nineteen eighty-four"),
            ("1905", "nineteen oh-five"),
            ("1900", "nineteen hundred"),
            ("2005", "two thousand five"),
            ("21st", "twenty-first"),
            ("3.14", "three point fourteen"),
            ("$3.50", "three dollars, fifty cents"),
            ("$1", "one dollar"),
            ("£20", "twenty pounds"),
            ("100th", "one hundredth"),
        ];
        for (text, spoken) in cases {
            assert_eq!(expand_numbers(text), spoken, "{text}");
        }
    }
}
