//! Tokenizers for the text models, on the Hugging Face `tokenizers` crate.
//!
//! [`TextTokenizer`] loads a `tokenizer.json` (any model the crate supports) or builds the two
//! classic pipelines from their vocabulary files, the way `transformers` converts its slow
//! tokenizers into fast ones:
//! - [`TextTokenizer::wordpiece`]: BERT, from `vocab.txt` (BERT normaliser and pre-tokeniser,
//!   WordPiece with `##` continuations, `[CLS] A [SEP] B [SEP]` template);
//! - [`TextTokenizer::byte_level_bpe`]: GPT-2, from `vocab.json` + `merges.txt` (byte-level
//!   pre-tokeniser without a prefix space, BPE, no special tokens added around the text).
//!
//! Batches are padded here ([`TextTokenizer::encode_batch`]), on the right (BERT) or the left
//! (decoder prompts), with an attention mask of 1 for tokens and 0 for padding.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::TensorData;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, EncodeInput, Encoding, Tokenizer, TruncationParams};

/// Errors of [`TextTokenizer`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenizerError {
    /// A tokenizer or vocabulary file could not be read or parsed.
    #[error("cannot load tokenizer from {}", path.display())]
    Load {
        /// The file.
        path: PathBuf,
        /// The `tokenizers` error.
        #[source]
        source: tokenizers::Error,
    },
    /// A pipeline could not be assembled (e.g. a special token missing from the vocabulary).
    #[error("cannot build the {what} tokenizer")]
    Build {
        /// Which pipeline.
        what: &'static str,
        /// The `tokenizers` error.
        #[source]
        source: tokenizers::Error,
    },
    /// A special token the pipeline needs is not in the vocabulary.
    #[error("the vocabulary has no token {token:?}")]
    MissingToken {
        /// The token.
        token: String,
    },
    /// Encoding failed.
    #[error("cannot encode the text")]
    Encode(#[source] tokenizers::Error),
    /// Decoding failed.
    #[error("cannot decode the token ids")]
    Decode(#[source] tokenizers::Error),
    /// Sequences of different lengths need padding, but no padding token is known.
    #[error("no padding token: set BatchOptions::pad_id (GPT-2 conventionally pads with its end-of-text token)")]
    NoPadToken,
}

/// Which end of a sequence padding goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaddingSide {
    /// After the tokens (BERT; any encoder).
    #[default]
    Right,
    /// Before the tokens (prompts of decoder-only models, so that generation continues from
    /// the last real token).
    Left,
}

/// How [`TextTokenizer::encode_batch`] builds a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchOptions {
    /// Add the model's special tokens (`[CLS]`/`[SEP]` for BERT).
    pub add_special_tokens: bool,
    /// Padding side.
    pub padding_side: PaddingSide,
    /// Pad at least to this length (otherwise to the longest sequence).
    pub pad_to: Option<usize>,
    /// Padding token id; `None` uses the tokenizer's ([`TextTokenizer::pad_token_id`]).
    pub pad_id: Option<u32>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            add_special_tokens: true,
            padding_side: PaddingSide::Right,
            pad_to: None,
            pad_id: None,
        }
    }
}

impl BatchOptions {
    /// Right padding with special tokens (what BERT expects).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the padding side.
    pub fn with_padding_side(mut self, side: PaddingSide) -> Self {
        self.padding_side = side;
        self
    }

    /// Sets the padding token.
    pub fn with_pad_id(mut self, pad_id: u32) -> Self {
        self.pad_id = Some(pad_id);
        self
    }

    /// Pads to at least `len` tokens.
    pub fn with_pad_to(mut self, len: usize) -> Self {
        self.pad_to = Some(len);
        self
    }

    /// Adds (or not) the special tokens.
    pub fn with_special_tokens(mut self, add: bool) -> Self {
        self.add_special_tokens = add;
        self
    }
}

/// A padded batch of token sequences, row-major `[batch, seq]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Token ids, padding included.
    pub input_ids: Vec<Vec<u32>>,
    /// 1 for tokens, 0 for padding.
    pub attention_mask: Vec<Vec<u32>>,
    /// Segment ids (0 for the first text of a pair and for padding, 1 for the second).
    pub token_type_ids: Vec<Vec<u32>>,
}

impl Batch {
    /// Number of sequences.
    pub fn batch_size(&self) -> usize {
        self.input_ids.len()
    }

    /// Padded length.
    pub fn seq_len(&self) -> usize {
        self.input_ids.first().map_or(0, Vec::len)
    }

    fn tensor<B: Backend>(&self, rows: &[Vec<u32>], device: &B::Device) -> Tensor<B, 2, Int> {
        let data: Vec<i64> = rows.iter().flatten().map(|&x| i64::from(x)).collect();
        Tensor::from_data(
            TensorData::new(data, [self.batch_size(), self.seq_len()]),
            device,
        )
    }

    /// `[batch, seq]` token ids.
    pub fn input_ids<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2, Int> {
        self.tensor(&self.input_ids, device)
    }

    /// `[batch, seq]` attention mask.
    pub fn attention_mask<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2, Int> {
        self.tensor(&self.attention_mask, device)
    }

    /// `[batch, seq]` segment ids.
    pub fn token_type_ids<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2, Int> {
        self.tensor(&self.token_type_ids, device)
    }
}

/// One encoded text or text pair, with what maps tokens back to the text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Encoded {
    /// Token ids, special tokens included.
    pub ids: Vec<u32>,
    /// The tokens as strings.
    pub tokens: Vec<String>,
    /// Segment ids (0 first text, 1 second).
    pub type_ids: Vec<u32>,
    /// Byte range of each token in its text (`(0, 0)` for special tokens).
    pub offsets: Vec<(usize, usize)>,
    /// `true` for special tokens (`[CLS]`, `[SEP]`, ...).
    pub special: Vec<bool>,
    /// Which text each token comes from (0 or 1; `None` for special tokens).
    pub sequence: Vec<Option<usize>>,
}

/// A text tokenizer (a `tokenizers::Tokenizer` and the padding token to batch with).
#[derive(Debug, Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    pad_id: Option<u32>,
}

/// The special tokens of BERT vocabularies, in the order `transformers` registers them.
const BERT_SPECIAL: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
/// GPT-2's only special token.
const GPT2_END_OF_TEXT: &str = "<|endoftext|>";

impl TextTokenizer {
    /// Wraps a `tokenizers::Tokenizer`. Its own padding setting is turned off (batches are
    /// padded by [`Self::encode_batch`]) and its padding token becomes the default one.
    pub fn new(mut inner: Tokenizer) -> Self {
        let pad_id = inner
            .get_padding()
            .map(|p| p.pad_id)
            .or_else(|| ["[PAD]", "<pad>"].iter().find_map(|t| inner.token_to_id(t)));
        inner.with_padding(None);
        Self { inner, pad_id }
    }

    /// Loads a `tokenizer.json`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, TokenizerError> {
        let path = path.as_ref();
        Tokenizer::from_file(path)
            .map(Self::new)
            .map_err(|source| TokenizerError::Load {
                path: path.to_path_buf(),
                source,
            })
    }

    /// The BERT (WordPiece) pipeline from a `vocab.txt`, lower-casing (and stripping accents)
    /// for the `*-uncased` models when `lowercase`.
    pub fn wordpiece(vocab: impl AsRef<Path>, lowercase: bool) -> Result<Self, TokenizerError> {
        let path = vocab.as_ref();
        let load_err = |source| TokenizerError::Load {
            path: path.to_path_buf(),
            source,
        };
        let model = WordPiece::from_file(&path.to_string_lossy())
            .unk_token("[UNK]".into())
            .continuing_subword_prefix("##".into())
            .build()
            .map_err(load_err)?;
        let mut tokenizer = Tokenizer::new(model);
        let id = |token: &str| {
            tokenizer
                .token_to_id(token)
                .ok_or_else(|| TokenizerError::MissingToken {
                    token: token.into(),
                })
        };
        let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
        let template = TemplateProcessing::builder()
            .try_single("[CLS]:0 $A:0 [SEP]:0")
            .and_then(|b| b.try_pair("[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1"))
            .map_err(|e| TokenizerError::Build {
                what: "WordPiece",
                source: e.into(),
            })?
            .special_tokens(vec![("[CLS]", cls), ("[SEP]", sep)])
            .build()
            .map_err(|e| TokenizerError::Build {
                what: "WordPiece",
                source: e.into(),
            })?;
        tokenizer
            .with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)))
            .with_pre_tokenizer(Some(BertPreTokenizer))
            .with_post_processor(Some(template))
            .with_decoder(Some(WordPieceDecoder::default()));
        let special: Vec<AddedToken> = BERT_SPECIAL
            .iter()
            .filter(|t| tokenizer.token_to_id(t).is_some())
            .map(|t| AddedToken::from(*t, true))
            .collect();
        tokenizer.add_special_tokens(&special);
        Ok(Self::new(tokenizer))
    }

    /// The GPT-2 (byte-level BPE) pipeline from `vocab.json` and `merges.txt`.
    pub fn byte_level_bpe(
        vocab: impl AsRef<Path>,
        merges: impl AsRef<Path>,
    ) -> Result<Self, TokenizerError> {
        let (vocab, merges) = (vocab.as_ref(), merges.as_ref());
        let model = BPE::from_file(&vocab.to_string_lossy(), &merges.to_string_lossy())
            .build()
            .map_err(|source| TokenizerError::Load {
                path: vocab.to_path_buf(),
                source,
            })?;
        let mut tokenizer = Tokenizer::new(model);
        tokenizer
            .with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)))
            .with_post_processor(Some(ByteLevel::default().trim_offsets(false)))
            .with_decoder(Some(ByteLevelDecoder::default()));
        if tokenizer.token_to_id(GPT2_END_OF_TEXT).is_some() {
            tokenizer.add_special_tokens(&[AddedToken::from(GPT2_END_OF_TEXT, true)]);
        }
        Ok(Self::new(tokenizer))
    }

    /// The wrapped `tokenizers::Tokenizer`.
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }

    /// The padding token used by default in batches, if the tokenizer has one.
    pub fn pad_token_id(&self) -> Option<u32> {
        self.pad_id
    }

    /// Truncates every encoding to at most `max_length` tokens, special tokens included
    /// (`None`: no truncation).
    pub fn set_max_length(&mut self, max_length: Option<usize>) -> Result<(), TokenizerError> {
        let params = max_length.map(|max_length| TruncationParams {
            max_length,
            ..TruncationParams::default()
        });
        self.inner
            .with_truncation(params)
            .map(|_| ())
            .map_err(|source| TokenizerError::Build {
                what: "truncating",
                source,
            })
    }

    /// The id of `token`, if it is in the vocabulary (added tokens included).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The token of `id`.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Vocabulary size, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    fn encoding<'s>(
        &self,
        input: impl Into<EncodeInput<'s>>,
        add_special_tokens: bool,
    ) -> Result<Encoding, TokenizerError> {
        self.inner
            .encode(input, add_special_tokens)
            .map_err(TokenizerError::Encode)
    }

    /// The token ids of `text`.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, TokenizerError> {
        Ok(self.encoding(text, add_special_tokens)?.get_ids().to_vec())
    }

    /// Encodes `text` (and `pair`) with special tokens, keeping tokens, offsets and segments.
    pub fn encode_detailed(&self, text: &str, pair: Option<&str>) -> Result<Encoded, TokenizerError> {
        let e = match pair {
            Some(b) => self.encoding((text, b), true)?,
            None => self.encoding(text, true)?,
        };
        Ok(Encoded {
            ids: e.get_ids().to_vec(),
            tokens: e.get_tokens().to_vec(),
            type_ids: e.get_type_ids().to_vec(),
            offsets: e.get_offsets().to_vec(),
            special: e.get_special_tokens_mask().iter().map(|&m| m == 1).collect(),
            sequence: e.get_sequence_ids(),
        })
    }

    /// The tokens (strings) of `text`, for inspection.
    pub fn tokenize(
        &self,
        text: &str,
        add_special_tokens: bool,
    ) -> Result<Vec<String>, TokenizerError> {
        Ok(self
            .encoding(text, add_special_tokens)?
            .get_tokens()
            .to_vec())
    }

    /// Encodes and pads `texts` into one batch.
    pub fn encode_batch(
        &self,
        texts: &[&str],
        options: &BatchOptions,
    ) -> Result<Batch, TokenizerError> {
        let encodings = texts
            .iter()
            .map(|&t| self.encoding(t, options.add_special_tokens))
            .collect::<Result<Vec<_>, _>>()?;
        self.pad(encodings, options)
    }

    /// Encodes and pads sentence pairs (`[CLS] a [SEP] b [SEP]` for BERT, segments 0 and 1).
    pub fn encode_pair_batch(
        &self,
        pairs: &[(&str, &str)],
        options: &BatchOptions,
    ) -> Result<Batch, TokenizerError> {
        let encodings = pairs
            .iter()
            .map(|&(a, b)| self.encoding((a, b), options.add_special_tokens))
            .collect::<Result<Vec<_>, _>>()?;
        self.pad(encodings, options)
    }

    fn pad(
        &self,
        encodings: Vec<Encoding>,
        options: &BatchOptions,
    ) -> Result<Batch, TokenizerError> {
        let longest = encodings.iter().map(Encoding::len).max().unwrap_or(0);
        let len = longest.max(options.pad_to.unwrap_or(0));
        let needs_padding = encodings.iter().any(|e| e.len() < len);
        let pad_id = match options.pad_id.or(self.pad_id) {
            Some(id) => id,
            None if needs_padding => return Err(TokenizerError::NoPadToken),
            None => 0,
        };
        let mut batch = Batch {
            input_ids: Vec::with_capacity(encodings.len()),
            attention_mask: Vec::with_capacity(encodings.len()),
            token_type_ids: Vec::with_capacity(encodings.len()),
        };
        for e in &encodings {
            let n = len - e.len();
            let padded = |values: &[u32], fill: u32| -> Vec<u32> {
                let padding = std::iter::repeat_n(fill, n);
                match options.padding_side {
                    PaddingSide::Right => values.iter().copied().chain(padding).collect(),
                    PaddingSide::Left => padding.chain(values.iter().copied()).collect(),
                }
            };
            batch.input_ids.push(padded(e.get_ids(), pad_id));
            batch.attention_mask.push(padded(&vec![1; e.len()], 0));
            batch.token_type_ids.push(padded(e.get_type_ids(), 0));
        }
        Ok(batch)
    }

    /// The text of `ids` (special tokens dropped when `skip_special_tokens`).
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String, TokenizerError> {
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(TokenizerError::Decode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use std::fs;

    fn bert_vocab(dir: &Path) -> PathBuf {
        let tokens = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s",
            "play", "##ing", ".", ",", "a",
        ];
        let path = dir.join("vocab.txt");
        fs::write(&path, tokens.join("\n") + "\n").unwrap();
        path
    }

    #[test]
    fn wordpiece_from_vocab_txt_splits_pads_and_decodes() {
        let dir = tempfile::tempdir().unwrap();
        let tokenizer = TextTokenizer::wordpiece(bert_vocab(dir.path()), true).unwrap();
        assert_eq!(
            tokenizer
                .tokenize("The cats PLAYING [MASK].", true)
                .unwrap(),
            ["[CLS]", "the", "cat", "##s", "play", "##ing", "[MASK]", ".", "[SEP]"]
        );
        assert_eq!(tokenizer.encode("zebra", false).unwrap(), vec![1]);
        assert_eq!(tokenizer.pad_token_id(), Some(0));

        let batch = tokenizer
            .encode_pair_batch(
                &[("the cat", "sat"), ("a mat", "the cats sat on a mat")],
                &BatchOptions::new(),
            )
            .unwrap();
        // [CLS] a mat [SEP] the cat ##s sat on a mat [SEP]: 12 tokens.
        assert_eq!(batch.seq_len(), 12);
        assert_eq!(batch.input_ids[0], [2, 5, 6, 3, 7, 3, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            batch.attention_mask[0],
            [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            batch.token_type_ids[0],
            [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(batch.token_type_ids[1][4..], [1; 8]);
        assert_eq!(batch.attention_mask[1], [1; 12]);

        let left = tokenizer
            .encode_batch(
                &["the cat", "the cats sat"],
                &BatchOptions::new().with_padding_side(PaddingSide::Left),
            )
            .unwrap();
        assert_eq!(left.input_ids[0], [0, 0, 2, 5, 6, 3]);
        assert_eq!(left.attention_mask[0], [0, 0, 1, 1, 1, 1]);
        let ids = left.input_ids::<Flex>(&Default::default());
        assert_eq!(ids.dims(), [2, 6]);
        assert_eq!(
            ids.into_data().convert::<i64>().to_vec::<i64>().unwrap()[6..],
            [2, 5, 6, 10, 7, 3]
        );

        assert_eq!(
            tokenizer.decode(&[2, 5, 6, 10, 11, 12, 3], true).unwrap(),
            "the cats playing"
        );
    }

    #[test]
    fn byte_level_bpe_round_trips_any_text() {
        let dir = tempfile::tempdir().unwrap();
        // The 256 byte symbols, as GPT-2's byte-to-unicode table maps them, plus a few merges.
        let mut symbols: Vec<char> = Vec::new();
        for b in 0u32..256 {
            let printable = (0x21..=0x7e).contains(&b)
                || (0xa1..=0xac).contains(&b)
                || (0xae..=0xff).contains(&b);
            if printable {
                symbols.push(char::from_u32(b).unwrap());
            }
        }
        let mut extra = 0;
        for b in 0u32..256 {
            let printable = (0x21..=0x7e).contains(&b)
                || (0xa1..=0xac).contains(&b)
                || (0xae..=0xff).contains(&b);
            if !printable {
                symbols.push(char::from_u32(256 + extra).unwrap());
                extra += 1;
            }
        }
        let mut vocab: Vec<String> = symbols.iter().map(|c| c.to_string()).collect();
        let merges = ["Ġ t", "h e", "Ġt he", "c a", "ca t"];
        for m in merges {
            vocab.push(m.replace(' ', ""));
        }
        vocab.push(GPT2_END_OF_TEXT.into());
        let json: serde_json::Map<String, serde_json::Value> = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), serde_json::Value::from(i)))
            .collect();
        fs::write(
            dir.path().join("vocab.json"),
            serde_json::to_string(&json).unwrap(),
        )
        .unwrap();
        fs::write(
            dir.path().join("merges.txt"),
            format!("#version: 0.2\n{}\n", merges.join("\n")),
        )
        .unwrap();

        let tokenizer = TextTokenizer::byte_level_bpe(
            dir.path().join("vocab.json"),
            dir.path().join("merges.txt"),
        )
        .unwrap();
        assert_eq!(
            tokenizer.tokenize("cat the cat", true).unwrap(),
            ["cat", "Ġthe", "Ġ", "cat"]
        );
        assert_eq!(tokenizer.pad_token_id(), None);
        let eot = tokenizer.token_to_id(GPT2_END_OF_TEXT).unwrap();
        assert_eq!(
            tokenizer.encode("cat<|endoftext|>", true).unwrap().last(),
            Some(&eot)
        );
        let text = "Ünïcödé, tabs\tand 日本語 — the cat!";
        let ids = tokenizer.encode(text, true).unwrap();
        assert_eq!(tokenizer.decode(&ids, false).unwrap(), text);

        // Sequences of different lengths need a padding token.
        let options = BatchOptions::new().with_padding_side(PaddingSide::Left);
        assert!(matches!(
            tokenizer.encode_batch(&["cat", "the cat"], &options),
            Err(TokenizerError::NoPadToken)
        ));
        let batch = tokenizer
            .encode_batch(&["cat", "the cat"], &options.with_pad_id(eot))
            .unwrap();
        assert_eq!(batch.input_ids[0][0], eot);
        assert_eq!(batch.attention_mask[0], [0, 0, 0, 1]);
    }

    #[test]
    fn missing_files_are_typed_errors() {
        let err = TextTokenizer::from_file("/nonexistent/tokenizer.json").unwrap_err();
        assert!(
            matches!(err, TokenizerError::Load { ref path, .. } if path.ends_with("tokenizer.json"))
        );
        let dir = tempfile::tempdir().unwrap();
        let vocab = dir.path().join("vocab.txt");
        fs::write(&vocab, "[UNK]\nhello\n").unwrap();
        assert!(matches!(
            TextTokenizer::wordpiece(&vocab, true),
            Err(TokenizerError::MissingToken { ref token }) if token == "[CLS]"
        ));
    }
}
