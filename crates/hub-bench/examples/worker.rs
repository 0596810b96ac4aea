//! The hub side of `xtask/bench/engines.py` (hub, PyTorch eager and ONNX Runtime in one run):
//! loads a model from a checkpoint the driver wrote, through hub's real import path, then
//! answers one command a line on stdin, so that the driver can interleave rounds of the three
//! engines on one input and compare their outputs.
//!
//! ```text
//! cargo run --release -p hub-bench --example worker -- --threads 2
//! > vision resnet50 /tmp/resnet50.pth /tmp/x.f32 1,3,224,224   (load; input as raw little-endian f32)
//! > bert /tmp/bert/model.safetensors /tmp/ids.i64 1,128          (BERT-base, ids as raw i64)
//! > seg deeplabv3_resnet50 /tmp/seg.pth /tmp/x.f32 1,3,520,520   (segmentation; output `out`)
//! > run 3                                                         (three forwards; prints their ms)
//! > save /tmp/y.f32                                               (the last output, raw f32)
//! ```
//! Every answer is one line starting with `ok` or `error`.

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::tensor::{Int, Tensor, TensorData};
use hub_models::registry::{self, ClassifierConfig, ImageClassifier, Model};
use hub_models::segmentation::{self, Segmentation};
use hub_models::text::bert::{self, BertInput, BertModel};
use hub_models::text::HfModule;
use hub_models::{kernels, Cpu};

enum Loaded {
    Vision(Box<ImageClassifier<Cpu>>, Tensor<Cpu, 4>),
    Bert(Box<BertModel<Cpu>>, Tensor<Cpu, 2, Int>),
    Seg(Box<Segmentation<Cpu>>, Tensor<Cpu, 4>),
}

impl Loaded {
    fn forward(&self) -> Vec<f32> {
        let y = match self {
            Self::Vision(m, x) => m.forward(x.clone()).into_data(),
            Self::Bert(m, ids) => m.forward(BertInput::new(ids.clone())).last_hidden_state.into_data(),
            // The auxiliary head runs too, as in torchvision's eval mode; `out` is compared.
            Self::Seg(m, x) => m.forward(x.clone()).out.into_data(),
        };
        y.to_vec::<f32>().expect("float output")
    }
}

fn dims(s: &str) -> Result<Vec<usize>> {
    s.split(',').map(|d| d.parse::<usize>().with_context(|| format!("bad dimension {d:?} in {s:?}"))).collect()
}

/// The file's bytes, when it holds exactly `width`-byte values for `shape` (the size is checked
/// before anything is read).
fn read_raw(path: &str, width: usize, shape: &[usize]) -> Result<Vec<u8>> {
    let want = shape.iter().try_fold(width, |n, &d| n.checked_mul(d)).with_context(|| format!("shape {shape:?} overflows"))?;
    let len = std::fs::metadata(path).with_context(|| format!("reading {path}"))?.len();
    if len != want as u64 {
        bail!("{path} has {len} bytes, the shape {shape:?} needs {want}");
    }
    std::fs::read(path).with_context(|| format!("reading {path}"))
}

/// A raw little-endian f32 image batch of the given `n,c,h,w` shape.
fn image(input: &str, shape: &str) -> Result<Tensor<Cpu, 4>> {
    let shape: [usize; 4] = dims(shape)?.try_into().map_err(|_| anyhow::anyhow!("image input is 4-D"))?;
    let bytes = read_raw(input, 4, &shape)?;
    let x: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
    Ok(Tensor::from_data(TensorData::new(x, shape), &Default::default()))
}

fn load(words: &[&str]) -> Result<Loaded> {
    let device = Default::default();
    match words {
        ["vision", id, checkpoint, input, shape] => {
            let arch = registry::find(id).with_context(|| format!("unknown architecture {id}"))?;
            // torchvision builds GoogLeNet and Inception v3 without `transform_input` when no
            // weights are given, as the driver does,
            let mut config = ClassifierConfig::default();
            // With their auxiliary classifiers too (torchvision's default), which eval mode does not run.
            if matches!(*id, "googlenet" | "inception_v3") {
                config.transform_input = Some(false);
                config.aux_logits = Some(true);
            }
            let model = Model::Classifier(arch.build::<Cpu>(&config, &device)?);
            let Model::Classifier(model) = model.load_pytorch(&arch, Path::new(checkpoint), None)?.0 else { bail!("{id} is not a classifier") };
            Ok(Loaded::Vision(Box::new(model), image(input, shape)?))
        }
        ["seg", id, checkpoint, input, shape] => {
            let arch = registry::find(id).with_context(|| format!("unknown architecture {id}"))?;
            let model = segmentation::config(id).with_context(|| format!("{id} is not a segmentation model"))?.init::<Cpu>(&device);
            let Model::Segmenter(model) = Model::Segmenter(Box::new(model)).load_pytorch(&arch, Path::new(checkpoint), None)?.0 else {
                bail!("{id} did not load as a segmentation model")
            };
            Ok(Loaded::Seg(model, image(input, shape)?))
        }
        ["bert", checkpoint, input, shape] => {
            let config = bert::config("bert-base-uncased").context("bert-base in the table")?;
            let (model, _) = config.init::<Cpu>(&device).load_weights(checkpoint)?;
            let shape: [usize; 2] = dims(shape)?.try_into().map_err(|_| anyhow::anyhow!("token ids are 2-D"))?;
            let bytes = read_raw(input, 8, &shape)?;
            let ids: Vec<i64> = bytes.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes"))).collect();
            Ok(Loaded::Bert(Box::new(model), Tensor::from_data(TensorData::new(ids, shape), &device)))
        }
        _ => bail!("expected `vision|seg ID CHECKPOINT INPUT SHAPE` or `bert CHECKPOINT INPUT SHAPE`"),
    }
}

fn main() -> Result<()> {
    let mut threads = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = Some(args.next().context("--threads N")?.parse()?),
            other => bail!("unknown argument {other}"),
        }
    }
    let threads = kernels::init_threads(threads)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "ok threads {threads} simd {} kernels {}", kernels::simd_level(), kernels::enabled())?;
    out.flush()?;
    let (mut model, mut last) = (None::<Loaded>, Vec::new());
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = (|| -> Result<String> {
            match words.as_slice() {
                ["run", n] => {
                    let m = model.as_ref().context("nothing loaded")?;
                    let mut times = Vec::new();
                    for _ in 0..n.parse::<usize>()? {
                        let t = Instant::now();
                        last = m.forward();
                        times.push(format!("{:.3}", t.elapsed().as_secs_f64() * 1e3));
                    }
                    Ok(times.join(" "))
                }
                ["save", path] => {
                    let bytes: Vec<u8> = last.iter().flat_map(|v| v.to_le_bytes()).collect();
                    std::fs::write(path, bytes).with_context(|| format!("writing {path}"))?;
                    Ok(format!("{} values", last.len()))
                }
                [] => Ok(String::new()),
                _ => {
                    let t = Instant::now();
                    model = Some(load(&words)?);
                    Ok(format!("loaded in {:.1} ms", t.elapsed().as_secs_f64() * 1e3))
                }
            }
        })();
        match answer {
            Ok(a) => writeln!(out, "ok {a}")?,
            // One line per answer: a multi-line error (a key report) is joined.
            Err(e) => writeln!(out, "error {}", format!("{e:#}").replace('\n', "; "))?,
        }
        out.flush()?;
    }
    Ok(())
}
