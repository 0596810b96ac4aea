//! `/metrics` in the Prometheus text format (version 0.0.4): requests by model, endpoint and
//! status, request latency, batch sizes, queue depth and model load time.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Latency buckets, in seconds.
const LATENCY: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Batch size buckets, in rows.
const ROWS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// `(model, endpoint, status)` → count.
    requests: BTreeMap<(String, &'static str, u16), u64>,
    /// By endpoint.
    latency: BTreeMap<&'static str, Histogram>,
    /// By model.
    batches: BTreeMap<String, Histogram>,
    /// By model: seconds the load took.
    loads: BTreeMap<String, f64>,
}

struct Histogram {
    bounds: &'static [f64],
    /// Per bucket (not cumulative).
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram { bounds, counts: vec![0; bounds.len()], sum: 0.0, count: 0 }
    }

    fn observe(&mut self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            self.counts[i] += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One answered request.
    pub fn request(&self, model: &str, endpoint: &'static str, status: u16, seconds: f64) {
        let mut m = self.lock();
        *m.requests.entry((model.to_owned(), endpoint, status)).or_default() += 1;
        m.latency.entry(endpoint).or_insert_with(|| Histogram::new(LATENCY)).observe(seconds);
    }

    /// One classifier batch of `rows` rows.
    pub fn batch(&self, model: &str, rows: usize) {
        self.lock().batches.entry(model.to_owned()).or_insert_with(|| Histogram::new(ROWS)).observe(rows as f64);
    }

    /// A model finished loading.
    pub fn model_loaded(&self, model: &str, seconds: f64) {
        self.lock().loads.insert(model.to_owned(), seconds);
    }

    /// The Prometheus text of the counters, with `queues`: `(model, version, jobs waiting)` of
    /// each loaded model.
    pub fn render(&self, queues: &[(String, String, usize)]) -> String {
        let mut out = String::new();
        {
            let m = self.lock();
            out.push_str("# HELP hub_requests_total HTTP requests answered, by model, endpoint and status.\n# TYPE hub_requests_total counter\n");
            for ((model, endpoint, status), count) in &m.requests {
                let _ = writeln!(out, "hub_requests_total{{model=\"{}\",endpoint=\"{endpoint}\",status=\"{status}\"}} {count}", escape(model));
            }
            out.push_str("# HELP hub_request_duration_seconds Time from request to response, by endpoint.\n# TYPE hub_request_duration_seconds histogram\n");
            for (endpoint, h) in &m.latency {
                h.write(&mut out, "hub_request_duration_seconds", &format!("endpoint=\"{endpoint}\""));
            }
            out.push_str("# HELP hub_batch_size Rows per classifier forward, by model.\n# TYPE hub_batch_size histogram\n");
            for (model, h) in &m.batches {
                h.write(&mut out, "hub_batch_size", &format!("model=\"{}\"", escape(model)));
            }
            out.push_str("# HELP hub_model_load_seconds How long loading the model took (download included).\n# TYPE hub_model_load_seconds gauge\n");
            for (model, seconds) in &m.loads {
                let _ = writeln!(out, "hub_model_load_seconds{{model=\"{}\"}} {seconds}", escape(model));
            }
        }
        out.push_str("# HELP hub_queue_depth Requests waiting for the model, by model.\n# TYPE hub_queue_depth gauge\n");
        for (model, version, depth) in queues {
            let _ = writeln!(out, "hub_queue_depth{{model=\"{}\",version=\"{}\"}} {depth}", escape(model), escape(version));
        }
        out.push_str("# HELP hub_models_loaded Models loaded and serving.\n# TYPE hub_models_loaded gauge\n");
        let _ = writeln!(out, "hub_models_loaded {}", queues.len());
        out
    }
}

/// Label values in the exposition format's escaping.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_with_sum_and_count() {
        let mut h = Histogram::new(ROWS);
        for rows in [1.0, 3.0, 3.0, 300.0] {
            h.observe(rows);
        }
        let mut out = String::new();
        h.write(&mut out, "b", "model=\"m\"");
        assert!(out.contains("b_bucket{model=\"m\",le=\"1\"} 1\n"), "{out}");
        assert!(out.contains("b_bucket{model=\"m\",le=\"2\"} 1\n"), "{out}");
        assert!(out.contains("b_bucket{model=\"m\",le=\"4\"} 3\n"), "{out}");
        assert!(out.contains("b_bucket{model=\"m\",le=\"256\"} 3\n"), "{out}");
        assert!(out.contains("b_bucket{model=\"m\",le=\"+Inf\"} 4\n"), "{out}");
        assert!(out.contains("b_sum{model=\"m\"} 307\n") && out.contains("b_count{model=\"m\"} 4\n"), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn render_counts_requests_and_lists_each_loaded_model_queue() {
        let m = Metrics::default();
        m.request("m", "infer", 200, 0.01);
        m.request("m", "infer", 200, 0.02);
        let out = m.render(&[("m".into(), "W".into(), 3), ("a\"b".into(), "default".into(), 0)]);
        assert!(out.contains("hub_requests_total{model=\"m\",endpoint=\"infer\",status=\"200\"} 2\n"), "{out}");
        assert!(out.contains("hub_queue_depth{model=\"m\",version=\"W\"} 3\n"), "{out}");
        assert!(out.contains("hub_queue_depth{model=\"a\\\"b\",version=\"default\"} 0\n"), "{out}");
        assert!(out.contains("hub_models_loaded 2\n"), "{out}");
    }
}
