//! The one renderer: a command's result is a report (`Serialize` for scripts, `Display` for
//! people), printed here and nowhere else, as text or as one JSON document.

use std::fmt::{self, Display};

use serde::Serialize;

/// How a report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Its `Display` text.
    Text,
    /// One pretty-printed JSON document (`--json`), keys in sorted order.
    Json,
}

impl Format {
    /// `--json` or not.
    pub fn json_if(json: bool) -> Format {
        if json {
            Format::Json
        } else {
            Format::Text
        }
    }
}

/// The report as it is printed.
pub fn render<R: Serialize + Display>(report: &R, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Text => report.to_string(),
        // Through a `Value`, whose maps are sorted: the same key order whatever the structs' order.
        Format::Json => serde_json::to_string_pretty(&serde_json::to_value(report)?)? + "\n",
    })
}

/// Prints the report on stdout.
pub fn print<R: Serialize + Display>(report: &R, format: Format) -> anyhow::Result<()> {
    print!("{}", render(report, format)?);
    Ok(())
}

/// Which model `hub run` ran, and where: the head of every run's JSON document.
#[derive(Serialize, Debug, Clone)]
pub struct Ran {
    /// The repo spec as given.
    pub repo: String,
    /// The entrypoint (its canonical name, not an alias).
    pub entry: String,
    /// The weights loaded: their name, the `--checkpoint` path, or `None` (random init).
    pub weights: Option<String>,
    /// `cpu`, `wgpu` or `cuda`.
    pub device: &'static str,
}

impl Ran {
    /// The envelope of a task's report.
    pub fn with<R>(self, report: R) -> Envelope<R> {
        Envelope { ran: self, report }
    }
}

/// `hub run`'s document: [`Ran`] and the task's own fields side by side in one JSON object;
/// the text is the task's alone.
#[derive(Serialize, Debug)]
pub struct Envelope<R> {
    #[serde(flatten)]
    ran: Ran,
    #[serde(flatten)]
    report: R,
}

impl<R: Display> Display for Envelope<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.report.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Answer {
        zeta: u32,
        answer: &'static str,
        #[serde(skip)]
        seconds: f64,
    }

    impl Display for Answer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            writeln!(f, "{} in {:.1} s", self.answer, self.seconds)
        }
    }

    fn ran() -> Ran {
        Ran { repo: "owner/repo".into(), entry: "m".into(), weights: None, device: "cpu" }
    }

    #[test]
    fn text_is_the_reports_own() {
        let out = render(&ran().with(Answer { zeta: 1, answer: "yes", seconds: 1.5 }), Format::Text).unwrap();
        assert_eq!(out, "yes in 1.5 s\n");
    }

    #[test]
    fn json_is_one_sorted_object_with_the_envelope_beside_the_report() {
        let out = render(&ran().with(Answer { zeta: 1, answer: "yes", seconds: 1.5 }), Format::Json).unwrap();
        assert_eq!(
            out,
            "{\n  \"answer\": \"yes\",\n  \"device\": \"cpu\",\n  \"entry\": \"m\",\n  \"repo\": \"owner/repo\",\n  \"weights\": null,\n  \"zeta\": 1\n}\n"
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v.get("seconds").is_none(), "text-only fields stay out of the JSON");
    }

    #[test]
    fn json_flag() {
        assert_eq!(Format::json_if(true), Format::Json);
        assert_eq!(Format::json_if(false), Format::Text);
    }
}
