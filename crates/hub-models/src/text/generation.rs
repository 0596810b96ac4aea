//! Autoregressive decoding for causal language models (GPT-2): greedy search and sampling with
//! temperature, top-k and top-p (nucleus) filtering, a seeded random generator, stop on
//! end-of-text, and a callback that receives each token as soon as it is chosen (streaming).
//!
//! The logits processing follows `transformers`' `generate` for one sequence: temperature, then
//! top-k (ties with the k-th score are kept), then top-p (the smallest set of most probable
//! tokens whose probability reaches `top_p`, at least one token), then a draw from the
//! softmax. Greedy search is the first arg-max. Sampling cannot reproduce PyTorch's random
//! stream; it is reproducible here: the same seed gives the same tokens.
//!
//! [`generate_batch`] continues several prompts at once, left-padded to one length with an
//! attention mask and `transformers`' position ids, as `model.generate(input_ids,
//! attention_mask=...)` does for a left-padded batch.

use burn::prelude::*;
use burn::tensor::{DataError, TensorData};

/// A model that predicts the next token from the previous ones, keeping per-sequence state
/// (a key/value cache) between steps.
pub trait CausalLm<B: Backend> {
    /// The state carried from one step to the next.
    type Cache;

    /// A fresh state for a new sequence.
    fn new_cache(&self) -> Self::Cache;

    /// The longest sequence the model can process (prompt and generated tokens).
    fn max_positions(&self) -> usize;

    /// The tokens that end a text, from the model's configuration.
    fn eos_token_ids(&self) -> &[u32];

    /// The device the model's parameters live on.
    fn device(&self) -> B::Device;

    /// Feeds `input_ids` (the tokens not seen yet; the cache holds the others) and returns the
    /// logits of the token that follows the last one.
    ///
    /// # Shapes
    /// - input_ids: `[batch, seq]`
    /// - output: `[batch, vocab_size]`
    fn next_token_logits(
        &self,
        input_ids: Tensor<B, 2, Int>,
        cache: &mut Self::Cache,
    ) -> Tensor<B, 2>;

    /// [`Self::next_token_logits`] for a padded batch: `attention_mask` (1 for tokens, 0 for
    /// padding) covers the cached positions and the new ones, `position_ids` gives the
    /// position of each new token.
    ///
    /// # Shapes
    /// - input_ids: `[batch, seq]`; attention_mask: `[batch, past + seq]`;
    ///   position_ids: `[batch, seq]`
    /// - output: `[batch, vocab_size]`
    fn next_token_logits_masked(
        &self,
        input_ids: Tensor<B, 2, Int>,
        attention_mask: Tensor<B, 2, Int>,
        position_ids: Tensor<B, 2, Int>,
        cache: &mut Self::Cache,
    ) -> Tensor<B, 2>;
}

/// How tokens are chosen.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GenerationConfig {
    /// The most tokens to generate (fewer if an end-of-text token comes first or the model's
    /// context is full).
    pub max_new_tokens: usize,
    /// Sample from the distribution (`true`) or take the arg-max (`false`).
    pub do_sample: bool,
    /// Divides the logits before sampling; below 1 sharpens, above 1 flattens. Must be > 0.
    pub temperature: f32,
    /// Keep only the `k` most likely tokens when sampling (`transformers`' default: 50).
    pub top_k: Option<usize>,
    /// Keep the smallest set of most likely tokens whose probability reaches `top_p`, in
    /// `(0, 1]` (1 keeps everything).
    pub top_p: f32,
    /// Seed of the sampling generator.
    pub seed: u64,
    /// Tokens that stop generation; `None` uses the model's `eos_token_id`, an empty list never
    /// stops early.
    pub eos_token_ids: Option<Vec<u32>>,
}

impl GenerationConfig {
    /// Greedy search for `max_new_tokens` tokens.
    pub fn greedy(max_new_tokens: usize) -> Self {
        Self {
            max_new_tokens,
            do_sample: false,
            temperature: 1.0,
            top_k: None,
            top_p: 1.0,
            seed: 0,
            eos_token_ids: None,
        }
    }

    /// Sampling with `transformers`' defaults (temperature 1, top-k 50, top-p 1), seeded.
    pub fn sampling(max_new_tokens: usize, seed: u64) -> Self {
        Self {
            do_sample: true,
            top_k: Some(50),
            seed,
            ..Self::greedy(max_new_tokens)
        }
    }

    /// Sets the temperature.
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = temperature;
        self
    }

    /// Sets top-k (`None` disables it).
    pub fn with_top_k(mut self, top_k: Option<usize>) -> Self {
        self.top_k = top_k;
        self
    }

    /// Sets top-p.
    pub fn with_top_p(mut self, top_p: f32) -> Self {
        self.top_p = top_p;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the stop tokens (an empty list never stops early).
    pub fn with_eos_token_ids(mut self, ids: Vec<u32>) -> Self {
        self.eos_token_ids = Some(ids);
        self
    }

    fn validate(&self) -> Result<(), GenerationError> {
        let invalid = |name: &'static str, value: String| {
            Err(GenerationError::InvalidParameter { name, value })
        };
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return invalid("temperature", self.temperature.to_string());
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return invalid("top_p", self.top_p.to_string());
        }
        if self.top_k == Some(0) {
            return invalid("top_k", "0".into());
        }
        Ok(())
    }
}

/// Errors of [`generate`] and [`generate_batch`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerationError {
    /// There is nothing to continue.
    #[error("the prompt is empty")]
    EmptyPrompt,
    /// The prompt alone fills the model's context.
    #[error("the prompt has {prompt} tokens; the model sees at most {max_positions}")]
    PromptTooLong {
        /// Prompt length.
        prompt: usize,
        /// The model's context length.
        max_positions: usize,
    },
    /// A sampling parameter is out of range.
    #[error("invalid generation parameter {name} = {value}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// The logits could not be read back from the device.
    #[error("cannot read the logits")]
    ReadLogits(#[source] DataError),
}

/// What to do after a token was streamed to the callback.
pub type KeepGoing = bool;

/// Generates up to `config.max_new_tokens` tokens after `prompt` and returns them (an
/// end-of-text token that stopped generation is included, as `transformers` does).
///
/// `on_token` receives each token as soon as it is chosen; returning `false` stops generation
/// after that token. The key/value cache makes each step cost one token's forward pass.
/// Generation also stops when the model's context is full.
pub fn generate<B, M>(
    model: &M,
    prompt: &[u32],
    config: &GenerationConfig,
    mut on_token: impl FnMut(u32) -> KeepGoing,
) -> Result<Vec<u32>, GenerationError>
where
    B: Backend,
    M: CausalLm<B>,
{
    config.validate()?;
    if prompt.is_empty() {
        return Err(GenerationError::EmptyPrompt);
    }
    let (max_positions, eos) = context_and_eos(model, config, prompt.len())?;
    let device = model.device();
    let mut rng = SplitMix64::new(config.seed);
    let mut cache = model.new_cache();
    let mut pending: Vec<u32> = prompt.to_vec();
    let mut generated = Vec::new();
    let budget = config.max_new_tokens.min(max_positions - prompt.len());
    while generated.len() < budget {
        let ids = TensorData::new(
            pending.iter().map(|&t| i64::from(t)).collect::<Vec<_>>(),
            [1, pending.len()],
        );
        let logits = model
            .next_token_logits(Tensor::from_data(ids, &device), &mut cache)
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .map_err(GenerationError::ReadLogits)?;
        let token = if config.do_sample {
            sample(logits, config, &mut rng)
        } else {
            argmax(&logits)
        };
        generated.push(token);
        let keep_going = on_token(token);
        if !keep_going || eos.contains(&token) {
            break;
        }
        pending = vec![token];
    }
    Ok(generated)
}

/// The model's context size and the tokens that end a generation (`config`'s, else the
/// model's), once a prompt of `prompt` tokens is known to leave room for one more.
fn context_and_eos<B: Backend, M: CausalLm<B>>(
    model: &M,
    config: &GenerationConfig,
    prompt: usize,
) -> Result<(usize, Vec<u32>), GenerationError> {
    let max_positions = model.max_positions();
    if prompt >= max_positions {
        return Err(GenerationError::PromptTooLong { prompt, max_positions });
    }
    let eos = config.eos_token_ids.clone().unwrap_or_else(|| model.eos_token_ids().to_vec());
    Ok((max_positions, eos))
}

/// Generates up to `config.max_new_tokens` tokens after each of `prompts`, in one batch, and
/// returns them per prompt (an end-of-text token that stopped a row is included, as in
/// [`generate`]).
///
/// The prompts are left-padded with `pad_token_id` to the longest one; the attention mask (0 on
/// padding) grows by one column per step, and the positions are `cumsum(mask) - 1` (0 on the
/// padding), so each row sees the same positions as alone: `transformers`' `generate` for a
/// left-padded batch. A row stops at an end-of-text token or when `on_token(row, token)`
/// returns `false`; from then on it is fed `pad_token_id` (with mask 1, as `transformers`
/// does), which the other rows never attend to, and its output ends. Generation ends when every
/// row has stopped, after `max_new_tokens` steps, or when the longest prompt's context is full.
///
/// Sampling: row `r` draws from its own SplitMix64 stream seeded with
/// `config.seed ^ r·0xD1B5_4A32_D192_ED03` (wrapping), so row 0 draws what [`generate`] draws
/// with the same seed, and a row's tokens do not depend on how many tokens the other rows
/// drew. An empty `prompts` gives an empty result.
pub fn generate_batch<B, M>(
    model: &M,
    prompts: &[Vec<u32>],
    pad_token_id: u32,
    config: &GenerationConfig,
    mut on_token: impl FnMut(usize, u32) -> KeepGoing,
) -> Result<Vec<Vec<u32>>, GenerationError>
where
    B: Backend,
    M: CausalLm<B>,
{
    config.validate()?;
    if prompts.iter().any(Vec::is_empty) {
        return Err(GenerationError::EmptyPrompt);
    }
    let batch = prompts.len();
    let width = prompts.iter().map(Vec::len).max().unwrap_or(0);
    if batch == 0 {
        return Ok(Vec::new());
    }
    let (max_positions, eos) = context_and_eos(model, config, width)?;
    let device = model.device();
    let mut rngs: Vec<SplitMix64> = (0..batch)
        .map(|row| SplitMix64::new(row_seed(config.seed, row)))
        .collect();
    let mut cache = model.new_cache();

    // Row-major [batch, width] ids, mask and positions of the left-padded prompts.
    let mut ids = Vec::with_capacity(batch * width);
    let mut mask: Vec<Vec<i64>> = Vec::with_capacity(batch);
    let mut positions = Vec::with_capacity(batch * width);
    for prompt in prompts {
        let pad = width - prompt.len();
        ids.extend(std::iter::repeat_n(i64::from(pad_token_id), pad));
        ids.extend(prompt.iter().map(|&t| i64::from(t)));
        mask.push([vec![0; pad], vec![1; prompt.len()]].concat());
        positions.extend(std::iter::repeat_n(0, pad));
        positions.extend(0..prompt.len() as i64);
    }
    // The position of each row's next token: the number of mask ones so far.
    let mut next_position: Vec<i64> = prompts.iter().map(|p| p.len() as i64).collect();
    let mut seq = width;

    let mut generated = vec![Vec::new(); batch];
    let mut running = vec![true; batch];
    let budget = config.max_new_tokens.min(max_positions - width);
    for _ in 0..budget {
        let total = mask[0].len();
        let mask_data = TensorData::new(mask.concat(), [batch, total]);
        let logits = model
            .next_token_logits_masked(
                Tensor::from_data(TensorData::new(ids, [batch, seq]), &device),
                Tensor::from_data(mask_data, &device),
                Tensor::from_data(TensorData::new(positions, [batch, seq]), &device),
                &mut cache,
            )
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .map_err(GenerationError::ReadLogits)?;
        let vocab = logits.len() / batch;
        let mut next = vec![pad_token_id; batch];
        for row in 0..batch {
            if !running[row] {
                continue;
            }
            let row_logits = &logits[row * vocab..(row + 1) * vocab];
            let token = if config.do_sample {
                sample(row_logits.to_vec(), config, &mut rngs[row])
            } else {
                argmax(row_logits)
            };
            generated[row].push(token);
            next[row] = token;
            let keep_going = on_token(row, token);
            if !keep_going || eos.contains(&token) {
                running[row] = false;
            }
        }
        if !running.iter().any(|&r| r) {
            break;
        }
        ids = next.iter().map(|&t| i64::from(t)).collect();
        positions = next_position.clone();
        for row in 0..batch {
            mask[row].push(1);
            next_position[row] += 1;
        }
        seq = 1;
    }
    Ok(generated)
}

/// The seed of row `row`'s sampling stream in [`generate_batch`] (row 0: `seed` itself).
fn row_seed(seed: u64, row: usize) -> u64 {
    seed ^ (row as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)
}

/// The index of the first maximum (as `torch.argmax`).
fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &x) in logits.iter().enumerate() {
        if x > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// Temperature, top-k and top-p filtering: returns the logits with removed tokens at `-inf`.
fn filter_logits(mut logits: Vec<f32>, config: &GenerationConfig) -> Vec<f32> {
    if config.temperature != 1.0 {
        for x in &mut logits {
            *x /= config.temperature;
        }
    }
    if let Some(k) = config.top_k.filter(|&k| k < logits.len()) {
        let mut sorted = logits.clone();
        sorted.sort_unstable_by(|a, b| b.total_cmp(a));
        let kth = sorted[k - 1];
        for x in &mut logits {
            if *x < kth {
                *x = f32::NEG_INFINITY;
            }
        }
    }
    if config.top_p < 1.0 {
        let mut order: Vec<usize> = (0..logits.len()).collect();
        // Most likely first; stable, so equal logits keep index order.
        order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
        let probs = softmax(&logits);
        let mut cumulative = 0.0f64;
        let mut keep = 0;
        for &i in &order {
            keep += 1;
            cumulative += probs[i];
            if cumulative >= f64::from(config.top_p) {
                break;
            }
        }
        for &i in &order[keep..] {
            logits[i] = f32::NEG_INFINITY;
        }
    }
    logits
}

/// Softmax in f64 (probabilities that sum to 1 even over 50k tokens).
pub(crate) fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f64> = logits.iter().map(|&x| f64::from(x - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

fn sample(logits: Vec<f32>, config: &GenerationConfig, rng: &mut SplitMix64) -> u32 {
    let probs = softmax(&filter_logits(logits, config));
    let target = rng.next_f64();
    let mut cumulative = 0.0;
    let mut last_kept = 0;
    for (i, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            last_kept = i;
            cumulative += p;
            if target < cumulative {
                return i as u32;
            }
        }
    }
    // Rounding left the cumulative sum just under `target`: the last possible token.
    last_kept as u32
}

/// SplitMix64 (Steele, Lea & Flood, 2014): a small generator whose stream is fixed by its
/// definition, so a seed gives the same tokens on every platform and in every version.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::gpt2::{Gpt2Config, Gpt2Input};
    use burn::backend::Flex;

    type B = Flex;

    fn kept(logits: &[f32]) -> Vec<usize> {
        logits
            .iter()
            .enumerate()
            .filter(|(_, x)| x.is_finite())
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn top_k_keeps_ties_and_top_p_keeps_the_smallest_nucleus() {
        let logits = vec![1.0, 3.0, 2.0, 3.0, 0.0];
        let config = GenerationConfig::sampling(1, 0).with_top_k(Some(2));
        assert_eq!(kept(&filter_logits(logits.clone(), &config)), vec![1, 3]);
        let config = config.with_top_k(Some(3));
        assert_eq!(kept(&filter_logits(logits.clone(), &config)), vec![1, 2, 3]);

        // probabilities of ln([0.5, 0.3, 0.15, 0.05]).
        let logits: Vec<f32> = [0.5f32, 0.3, 0.15, 0.05].iter().map(|p| p.ln()).collect();
        let nucleus = |p| {
            let config = GenerationConfig::sampling(1, 0)
                .with_top_k(None)
                .with_top_p(p);
            kept(&filter_logits(logits.clone(), &config))
        };
        assert_eq!(nucleus(0.4), vec![0]);
        assert_eq!(nucleus(0.5), vec![0]);
        assert_eq!(nucleus(0.7), vec![0, 1]);
        assert_eq!(nucleus(0.9), vec![0, 1, 2]);
        assert_eq!(nucleus(1.0), vec![0, 1, 2, 3]);
    }

    #[test]
    fn sampling_follows_the_distribution_and_the_seed() {
        let logits: Vec<f32> = [0.6f32, 0.3, 0.1].iter().map(|p| p.ln()).collect();
        let config = GenerationConfig::sampling(1, 7).with_top_k(None);
        let mut rng = SplitMix64::new(7);
        let mut counts = [0usize; 3];
        for _ in 0..20_000 {
            counts[sample(logits.clone(), &config, &mut rng) as usize] += 1;
        }
        let freq: Vec<f64> = counts.iter().map(|&c| c as f64 / 20_000.0).collect();
        assert!(
            (freq[0] - 0.6).abs() < 0.02 && (freq[2] - 0.1).abs() < 0.02,
            "{freq:?}"
        );

        // Low temperature concentrates on the arg-max.
        let cold = config.clone().with_temperature(0.05);
        let mut rng = SplitMix64::new(1);
        assert!((0..200).all(|_| sample(logits.clone(), &cold, &mut rng) == 0));
        assert_eq!(argmax(&[0.0, 2.0, 2.0, 1.0]), 1);
    }

    fn tiny_gpt2() -> crate::text::gpt2::Gpt2LmHeadModel<B> {
        let config = Gpt2Config {
            vocab_size: 40,
            n_positions: 16,
            n_embd: 16,
            n_layer: 2,
            n_head: 2,
            initializer_range: 0.5,
            ..Gpt2Config::default()
        };
        config.init_lm_head::<B>(&Default::default())
    }

    #[test]
    fn greedy_with_cache_equals_full_recomputation_and_streams() {
        let model = tiny_gpt2();
        let prompt = [3u32, 17, 5];
        let mut streamed = Vec::new();
        let config = GenerationConfig::greedy(8).with_eos_token_ids(vec![]);
        let tokens = generate(&model, &prompt, &config, |t| {
            streamed.push(t);
            true
        })
        .unwrap();
        assert_eq!(tokens.len(), 8);
        assert_eq!(tokens, streamed);

        // Without a cache: run the whole sequence each step.
        let device = Default::default();
        let mut sequence = prompt.to_vec();
        for _ in 0..8 {
            let ids: Vec<i64> = sequence.iter().map(|&t| t as i64).collect();
            let input = Gpt2Input::new(Tensor::from_data(
                TensorData::new(ids, [1, sequence.len()]),
                &device,
            ));
            let logits = model.forward(input, None);
            let last = logits
                .narrow(1, sequence.len() - 1, 1)
                .into_data()
                .to_vec::<f32>()
                .unwrap();
            sequence.push(argmax(&last));
        }
        assert_eq!(&sequence[prompt.len()..], tokens.as_slice());

        // Stop on an end-of-text token, and when the callback says so.
        let eos = tokens[2];
        let first = tokens.iter().position(|&t| t == eos).unwrap();
        let config = GenerationConfig::greedy(8).with_eos_token_ids(vec![eos]);
        let stopped = generate(&model, &prompt, &config, |_| true).unwrap();
        assert_eq!(stopped, tokens[..=first]);
        let config = GenerationConfig::greedy(8).with_eos_token_ids(vec![]);
        let two = generate(&model, &prompt, &config, {
            let mut n = 0;
            move |_| {
                n += 1;
                n < 2
            }
        })
        .unwrap();
        assert_eq!(two, tokens[..2]);
    }

    #[test]
    fn seeded_sampling_is_reproducible_and_limits_are_enforced() {
        let model = tiny_gpt2();
        let config = GenerationConfig::sampling(6, 42).with_eos_token_ids(vec![]);
        let a = generate(&model, &[1, 2], &config, |_| true).unwrap();
        let b = generate(&model, &[1, 2], &config, |_| true).unwrap();
        assert_eq!(a, b);
        let others: Vec<Vec<u32>> = (0..4)
            .map(|s| generate(&model, &[1, 2], &config.clone().with_seed(s), |_| true).unwrap())
            .collect();
        assert!(others.iter().any(|o| o != &a), "seeds should matter");

        // The context (16 positions) bounds the output.
        let long = GenerationConfig::greedy(100).with_eos_token_ids(vec![]);
        assert_eq!(
            generate(&model, &[1; 10], &long, |_| true).unwrap().len(),
            6
        );
        assert!(matches!(
            generate(&model, &[1; 16], &long, |_| true),
            Err(GenerationError::PromptTooLong {
                prompt: 16,
                max_positions: 16
            })
        ));
        assert!(matches!(
            generate(&model, &[], &long, |_| true),
            Err(GenerationError::EmptyPrompt)
        ));
        assert!(matches!(
            generate(&model, &[1], &long.clone().with_top_p(0.0), |_| true),
            Err(GenerationError::InvalidParameter { name: "top_p", .. })
        ));
    }

    #[test]
    fn batch_of_one_equals_generate() {
        let model = tiny_gpt2();
        let prompt = vec![3u32, 17, 5, 9];
        for config in [
            GenerationConfig::greedy(7).with_eos_token_ids(vec![]),
            GenerationConfig::sampling(7, 11).with_eos_token_ids(vec![]),
        ] {
            let single = generate(&model, &prompt, &config, |_| true).unwrap();
            let mut streamed = Vec::new();
            let batched = generate_batch(
                &model,
                std::slice::from_ref(&prompt),
                0,
                &config,
                |row, t| {
                    streamed.push((row, t));
                    true
                },
            )
            .unwrap();
            assert_eq!(batched, vec![single.clone()]);
            assert_eq!(streamed, single.iter().map(|&t| (0, t)).collect::<Vec<_>>());
        }
    }

    #[test]
    fn left_padded_rows_continue_as_if_alone_and_stop_on_their_own() {
        let model = tiny_gpt2();
        let prompts = vec![vec![3u32, 17, 5, 9, 1], vec![8, 2], vec![30]];
        let config = GenerationConfig::greedy(6).with_eos_token_ids(vec![]);
        let alone: Vec<Vec<u32>> = prompts
            .iter()
            .map(|p| generate(&model, p, &config, |_| true).unwrap())
            .collect();
        // The padding token is an ordinary token of the vocabulary: the mask must hide it.
        for pad in [0, 39] {
            let batched = generate_batch(&model, &prompts, pad, &config, |_, _| true).unwrap();
            assert_eq!(batched, alone, "pad {pad}");
        }

        // A row stops at its end-of-text token (included); the others go on.
        let eos = alone[1][1];
        let config = GenerationConfig::greedy(6).with_eos_token_ids(vec![eos]);
        let expected: Vec<Vec<u32>> = prompts
            .iter()
            .map(|p| generate(&model, p, &config, |_| true).unwrap())
            .collect();
        assert!(expected[1].len() <= 2 && expected[1].ends_with(&[eos]));
        let batched = generate_batch(&model, &prompts, 0, &config, |_, _| true).unwrap();
        assert_eq!(batched, expected);

        // The callback stops its row only.
        let config = GenerationConfig::greedy(6).with_eos_token_ids(vec![]);
        let batched = generate_batch(&model, &prompts, 0, &config, |row, _| row != 2).unwrap();
        assert_eq!(batched[2], alone[2][..1]);
        assert_eq!(batched[..2], alone[..2]);

        // Rows draw from distinct streams; limits are checked on the longest prompt.
        let sampling = GenerationConfig::sampling(6, 5).with_eos_token_ids(vec![]);
        let same = vec![vec![4u32, 4]; 3];
        let drawn = generate_batch(&model, &same, 0, &sampling, |_, _| true).unwrap();
        assert!(drawn.iter().any(|row| row != &drawn[0]), "{drawn:?}");
        assert!(matches!(
            generate_batch(&model, &[vec![1; 16], vec![1]], 0, &config, |_, _| true),
            Err(GenerationError::PromptTooLong { prompt: 16, .. })
        ));
        assert!(matches!(
            generate_batch(&model, &[vec![1], vec![]], 0, &config, |_, _| true),
            Err(GenerationError::EmptyPrompt)
        ));
        assert!(generate_batch(&model, &[], 0, &config, |_, _| true)
            .unwrap()
            .is_empty());
    }
}
