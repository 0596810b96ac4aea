//! Plain-text tables and number formatting for the CLI.

/// Renders rows as left-aligned columns separated by two spaces.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  ", w = *w));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// Writes [`table`] with every line indented by `indent`.
pub fn write_table(f: &mut std::fmt::Formatter<'_>, indent: &str, header: &[&str], rows: &[Vec<String>]) -> std::fmt::Result {
    for line in table(header, rows).lines() {
        writeln!(f, "{indent}{line}")?;
    }
    Ok(())
}

/// A probability as a percentage with two decimals: `0.1234` → `12.34%` (multiplied in the
/// probability's own precision, f32 or f64).
pub fn percent<T: std::ops::Mul<Output = T> + From<u8> + std::fmt::Display>(p: T) -> String {
    format!("{:.2}%", p * T::from(100))
}

/// `25557032` → `25.6M`.
pub fn count(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{:.1}K", n as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.2}G", n as f64 / 1e9),
    }
}

/// Bytes as MiB/GiB.
pub fn bytes(n: u64) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.1} KiB", n as f64 / 1024.0),
        1_048_576..=1_073_741_823 => format!("{:.1} MiB", n as f64 / 1_048_576.0),
        _ => format!("{:.2} GiB", n as f64 / 1_073_741_824.0),
    }
}

/// Shell-style glob with `*` and `?`.
pub fn glob(pattern: &str, s: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = s.chars().collect();
    go(&p, &s)
}

/// Natural order: runs of digits compare as numbers (`resnet18` before `resnet101`,
/// `regnet_x_8gf` before `regnet_x_16gf`), everything else byte by byte.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                // Without leading zeros, the longer run is the larger number.
                let trim = |d: &[u8]| d.iter().position(|&c| c != b'0').map_or(&d[d.len()..], |i| &d[i..]).to_vec();
                let (na, nb) = (trim(&a[..da]), trim(&b[..db]));
                let order = na.len().cmp(&nb.len()).then_with(|| na.cmp(&nb)).then_with(|| da.cmp(&db));
                if order != Ordering::Equal {
                    return order;
                }
                (a, b) = (&a[da..], &b[db..]);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn natural_order_compares_numbers_as_numbers() {
        let mut names = vec!["resnet152", "resnet101", "resnet18", "resnet50", "resnet34", "regnet_x_16gf", "regnet_x_8gf", "regnet_x_1_6gf", "vgg11_bn", "vgg11", "a007", "a7", "a10"];
        names.sort_by(|a, b| super::natural_cmp(a, b));
        assert_eq!(names, ["a7", "a007", "a10", "regnet_x_1_6gf", "regnet_x_8gf", "regnet_x_16gf", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg11", "vgg11_bn"]);
    }

    use super::*;

    #[test]
    fn globs() {
        assert!(glob("resnet*", "resnet50"));
        assert!(glob("*net?0", "resnet50"));
        assert!(!glob("vgg*", "resnet50"));
        assert!(glob("*", ""));
    }

    #[test]
    fn formats() {
        assert_eq!(count(25_557_032), "25.6M");
        assert_eq!(bytes(102_530_333), "97.8 MiB");
        let t = table(&["A", "BB"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "A    BB\nxxx  y\n");
        assert_eq!(percent(0.123_456_f64), "12.35%");
        assert_eq!(percent(0.5_f32), "50.00%");
        struct Indented;
        impl std::fmt::Display for Indented {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write_table(f, "  ", &["A", "BB"], &[vec!["xxx".into(), "y".into()]])
            }
        }
        assert_eq!(Indented.to_string(), "  A    BB\n  xxx  y\n");
    }
}
