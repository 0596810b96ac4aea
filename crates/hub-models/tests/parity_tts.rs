//! Parity with PyTorch for NVIDIA Tacotron2 + WaveGlow (`hub_models::tts`).
//!
//! Golden data: `python xtask/golden/tts.py --out target/golden/tts` (a faithful PyTorch
//! reference of DeepLearningExamples' models with NVIDIA's key names; the random draws — prenet
//! dropout masks, WaveGlow noise — are recorded there and replayed here). Checkpoints load
//! strictly through `hub_models::import` (`state_dict` top-level key, `module.` prefixes).
//! Every output must satisfy `max|burn - torch| <= 1e-4 * max|torch|`.
//!
//! Without golden data the test prints why it is skipped and passes, unless
//! `HUB_REQUIRE_GOLDEN=1`. `HUB_GOLDEN_TTS_DIR` overrides the directory.

mod common;

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::prelude::*;
use hub_models::import::{load_pytorch, ImportOptions};
use hub_models::tts::tacotron2::{self, DropoutMasks, Tacotron2Config};
use hub_models::tts::waveglow::{self, GaussianNoise, WaveGlowConfig, WnConfig};
use serde_json::Value;

type B = Flex;

const TOLERANCE: f32 = 1e-4;

/// The golden folder of `entry`, or `None` (after printing why) without the index the script
/// writes; once the index is there, the entry must be too.
fn golden_or_skip(entry: &str) -> Option<PathBuf> {
    let dir = common::TTS.require(&format!("parity {entry}"), common::TTS.dir(), &["index.json"])?;
    let dir = dir.join(entry);
    assert!(dir.join("meta.json").is_file(), "{} missing", dir.display());
    Some(dir)
}

fn read(dir: &Path, name: &str) -> Option<TensorData> {
    common::safetensor(&dir.join("io.safetensors"), name)
}

fn tensor<const D: usize>(dir: &Path, name: &str) -> Tensor<B, D> {
    let data = read(dir, name)
        .unwrap_or_else(|| panic!("no {name}"))
        .convert::<f32>();
    Tensor::from_data(data, &Default::default())
}

/// Checks the relative error and returns it.
fn check<const D: usize>(label: &str, ours: Tensor<B, D>, theirs: Tensor<B, D>) -> f32 {
    assert_eq!(ours.dims(), theirs.dims(), "{label}: shape");
    let scale = theirs.clone().abs().max().into_scalar();
    let err = (ours - theirs).abs().max().into_scalar();
    let relative = err / scale;
    println!("{label}: max|diff| = {err:.3e}, max|torch| = {scale:.3e}, relative {relative:.3e}");
    assert!(
        relative <= TOLERANCE,
        "{label}: relative error {relative} > {TOLERANCE}"
    );
    relative
}

/// Replays recorded prenet masks.
struct Replay(Vec<Vec<bool>>);

impl DropoutMasks for Replay {
    fn keep_mask(&mut self, len: usize) -> Vec<bool> {
        assert!(!self.0.is_empty(), "more masks drawn than recorded");
        let mask = self.0.remove(0);
        assert_eq!(mask.len(), len);
        mask
    }
}

fn masks(dir: &Path, name: &str) -> Replay {
    let data = read(dir, name).unwrap().convert::<f32>();
    let dim = *data.shape.last().unwrap();
    let values = data.to_vec::<f32>().unwrap();
    Replay(
        values
            .chunks(dim)
            .map(|c| c.iter().map(|&x| x > 0.5).collect())
            .collect(),
    )
}

fn usize_of(v: &Value, key: &str) -> usize {
    v[key].as_u64().unwrap_or_else(|| panic!("{key}")) as usize
}

#[test]
fn tacotron2_matches_pytorch() {
    let Some(dir) = golden_or_skip("tacotron2") else {
        return;
    };
    let meta = common::meta(&dir);
    let c = &meta["config"];
    let config = Tacotron2Config::new()
        .with_n_mel_channels(usize_of(c, "n_mel_channels"))
        .with_n_symbols(usize_of(c, "n_symbols"))
        .with_symbols_embedding_dim(usize_of(c, "symbols_embedding_dim"))
        .with_encoder_kernel_size(usize_of(c, "encoder_kernel_size"))
        .with_encoder_n_convolutions(usize_of(c, "encoder_n_convolutions"))
        .with_encoder_embedding_dim(usize_of(c, "encoder_embedding_dim"))
        .with_attention_rnn_dim(usize_of(c, "attention_rnn_dim"))
        .with_attention_dim(usize_of(c, "attention_dim"))
        .with_attention_location_n_filters(usize_of(c, "attention_location_n_filters"))
        .with_attention_location_kernel_size(usize_of(c, "attention_location_kernel_size"))
        .with_n_frames_per_step(usize_of(c, "n_frames_per_step"))
        .with_decoder_rnn_dim(usize_of(c, "decoder_rnn_dim"))
        .with_prenet_dim(usize_of(c, "prenet_dim"))
        .with_postnet_embedding_dim(usize_of(c, "postnet_embedding_dim"))
        .with_postnet_kernel_size(usize_of(c, "postnet_kernel_size"))
        .with_postnet_n_convolutions(usize_of(c, "postnet_n_convolutions"));
    // The published NVIDIA model's hyper-parameters are our defaults.
    assert_eq!(
        format!("{:?}", config),
        format!("{:?}", tacotron2::config("nvidia_tacotron2").unwrap())
    );
    let device = Default::default();
    let (model, report) =
        tacotron2::load::<B>(&config, dir.join("model.pth"), &device).expect("strict load");
    assert!(report.is_complete());

    let ids = read(&dir, "sequence").unwrap().convert::<i64>();
    let sequence = Tensor::<B, 2, Int>::from_data(ids, &device);
    let memory = model.encode(sequence.clone());
    check(
        "tacotron2 encoder_outputs",
        memory.clone(),
        tensor(&dir, "encoder_outputs"),
    );

    let steps = usize_of(&meta, "max_decoder_steps");
    for run in ["a", "b"] {
        let Some(threshold) = meta["thresholds"][run].as_f64() else {
            println!("run {run} absent from the golden data");
            continue;
        };
        let decoder = model.decoder.clone().with_stopping(threshold, steps);
        let mut replay = masks(&dir, &format!("{run}_prenet_masks"));
        let out = decoder.infer(memory.clone(), &mut replay);
        assert!(
            replay.0.is_empty(),
            "run {run}: not all recorded masks used"
        );
        let post = out.mel.clone() + model.postnet.forward(out.mel.clone());
        check(
            &format!("tacotron2 {run} mel"),
            out.mel,
            tensor(&dir, &format!("{run}_mel")),
        );
        check(
            &format!("tacotron2 {run} mel_postnet"),
            post,
            tensor(&dir, &format!("{run}_mel_postnet")),
        );
        check(
            &format!("tacotron2 {run} gate"),
            out.gate,
            tensor(&dir, &format!("{run}_gate")),
        );
        check(
            &format!("tacotron2 {run} alignments"),
            out.alignments,
            tensor(&dir, &format!("{run}_alignments")),
        );
        let lengths = read(&dir, &format!("{run}_mel_lengths"))
            .unwrap()
            .convert::<i64>();
        let lengths: Vec<usize> = lengths
            .to_vec::<i64>()
            .unwrap()
            .into_iter()
            .map(|x| x as usize)
            .collect();
        assert_eq!(out.lengths, lengths, "run {run}: mel_lengths");
    }

    // The whole pipeline with the same masks as run A.
    let model = Tacotron2 {
        decoder: model
            .decoder
            .clone()
            .with_stopping(meta["thresholds"]["a"].as_f64().unwrap(), steps),
        ..model
    };
    let out = model.infer(sequence, &mut masks(&dir, "a_prenet_masks"));
    check(
        "tacotron2 infer mel_postnet",
        out.mel_postnet,
        tensor(&dir, "a_mel_postnet"),
    );
}

use hub_models::tts::tacotron2::Tacotron2;

/// Replays recorded Gaussian draws.
struct Draws(Vec<Tensor<B, 3>>);

impl GaussianNoise<B> for Draws {
    fn sample(
        &mut self,
        shape: [usize; 3],
        _device: &burn::backend::flex::FlexDevice,
    ) -> Tensor<B, 3> {
        assert!(!self.0.is_empty(), "more noise drawn than recorded");
        let t = self.0.remove(0);
        assert_eq!(t.dims(), shape);
        t
    }
}

#[test]
fn waveglow_matches_pytorch() {
    let Some(dir) = golden_or_skip("waveglow_small") else {
        return;
    };
    let meta = common::meta(&dir);
    let c = &meta["config"];
    let wn = &c["WN_config"];
    let config = WaveGlowConfig::new()
        .with_n_mel_channels(usize_of(c, "n_mel_channels"))
        .with_n_flows(usize_of(c, "n_flows"))
        .with_n_group(usize_of(c, "n_group"))
        .with_n_early_every(usize_of(c, "n_early_every"))
        .with_n_early_size(usize_of(c, "n_early_size"))
        .with_wn_config(
            WnConfig::new()
                .with_n_layers(usize_of(wn, "n_layers"))
                .with_kernel_size(usize_of(wn, "kernel_size"))
                .with_n_channels(usize_of(wn, "n_channels")),
        );
    let sigma = meta["sigma"].as_f64().unwrap() as f32;
    let draws = usize_of(&meta, "noise_draws");
    let device = Default::default();
    for (file, weight_norm, expected) in [
        ("model.pth", true, "audio"),
        ("model_removed.pth", false, "audio"),
        // fp16 checkpoint: upcast to f32 on import.
        ("model_fp16.pth", false, "audio_fp16"),
    ] {
        let path = dir.join(file);
        assert_eq!(
            waveglow::has_weight_norm(&path, &waveglow::import_options()).unwrap(),
            weight_norm
        );
        let (model, report) = waveglow::load::<B>(&config, &path, &device).expect("strict load");
        assert!(report.is_complete());
        let mut noise = Draws(
            (0..draws)
                .map(|i| tensor(&dir, &format!("noise_{i}")))
                .collect(),
        );
        let audio = model.infer(tensor(&dir, "mel"), sigma, &mut noise);
        assert!(noise.0.is_empty(), "not all recorded noise used");
        check(
            &format!("waveglow_small audio ({file})"),
            audio,
            tensor(&dir, expected),
        );
    }
}

#[test]
fn waveglow_full_size_wn_matches_pytorch() {
    let Some(dir) = golden_or_skip("waveglow_wn_full") else {
        return;
    };
    let meta = common::meta(&dir);
    let c = &meta["config"];
    let config = WnConfig::new()
        .with_n_layers(usize_of(c, "n_layers"))
        .with_kernel_size(usize_of(c, "kernel_size"))
        .with_n_channels(usize_of(c, "n_channels"));
    // The published WaveGlow's WN: 8 layers, kernel 3, 512 channels, 80 mels × group 8.
    assert_eq!(format!("{config:?}"), format!("{:?}", WnConfig::new()));
    let device = Default::default();
    let wn = config.init::<B>(usize_of(c, "n_in"), usize_of(c, "n_mel"), true, &device);
    let (wn, report) =
        load_pytorch(wn, dir.join("model.pth"), &ImportOptions::new()).expect("strict load");
    assert!(report.is_complete());
    let out = wn.forward(tensor(&dir, "audio"), tensor(&dir, "spect"));
    check("waveglow full-size WN", out, tensor(&dir, "output"));
}
