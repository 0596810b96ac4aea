//! Config values from manifests and options, checked before anything is allocated.

use crate::error::{Error, Result};

/// The largest sizes hub builds a model with, from a manifest's `config` tables, a
/// `config.json` or an option: checked before anything is allocated (docs/security.md lists them).
/// The published models stay far below every one; a hostile or mistyped value (a
/// `num_hidden_layers` of 10^8) is an error naming the file and key instead of an allocation that
/// aborts the process.
pub mod limits {
    /// Classes of an image classifier or a segmentation model (`num_classes`), labels of a text
    /// head (`num_labels`, `id2label`).
    pub const MAX_CLASSES: usize = 100_000;
    /// Layers of a text model (`num_hidden_layers`, `n_layer`).
    pub const MAX_LAYERS: usize = 1024;
    /// Hidden width of a text model (`hidden_size`, `n_embd`).
    pub const MAX_HIDDEN: usize = 65_536;
    /// Feed-forward width of a text model (`intermediate_size`, `n_inner`).
    pub const MAX_INTERMEDIATE: usize = 262_144;
    /// Attention heads (`num_attention_heads`, `n_head`).
    pub const MAX_HEADS: usize = 1024;
    /// Vocabulary size (`vocab_size`, `type_vocab_size`).
    pub const MAX_VOCAB: usize = 1 << 20;
    /// Positions (`max_position_embeddings`, `n_positions`).
    pub const MAX_POSITIONS: usize = 1 << 20;
    /// Tacotron2's `max_decoder_steps` (the published default is 2000, ~23 s of speech).
    pub const MAX_DECODER_STEPS: usize = 100_000;
    /// The input side a model's position embeddings are sized for (ViT's `image_size`):
    /// 4096 gives ViT-H/14 86k positions, 0.45 GB of f32.
    pub const MAX_IMAGE_SIZE: usize = 4096;
    /// The default of [`max_parameters`]: 4·10^9 (16 GB of f32 weights; GPT-2 XL has 1.6·10^9).
    pub const DEFAULT_MAX_PARAMETERS: u64 = 4_000_000_000;

    /// The most parameters a text model's `config.json` may ask for: `HUB_MAX_PARAMETERS` when
    /// set to a positive integer, else [`DEFAULT_MAX_PARAMETERS`]. `Err` holds the variable's value
    /// when it is not a positive integer.
    pub fn max_parameters() -> Result<u64, String> {
        match std::env::var("HUB_MAX_PARAMETERS") {
            Err(_) => Ok(DEFAULT_MAX_PARAMETERS),
            Ok(v) => v.trim().parse::<u64>().ok().filter(|n| *n > 0).ok_or(v),
        }
    }
}

pub(crate) fn too_large(entry: &str, key: &str, value: impl std::fmt::Display, limit: usize) -> Error {
    Error::TooLarge {
        source_name: entry.to_owned(),
        key: key.to_owned(),
        value: value.to_string(),
        limit: format!("at most {limit}"),
        hint: "the published models stay far below it: check the value".into(),
    }
}

/// A positive integer config value of at most `max`; errors name the entrypoint and key.
pub(crate) fn positive_at_most(entry: &str, key: &str, value: &toml::Value, max: usize) -> Result<usize> {
    let n = value.as_integer().filter(|n| *n > 0).ok_or_else(|| Error::Config {
        entry: entry.to_owned(),
        key: key.to_owned(),
        message: format!("expected a positive integer, got {value}"),
    })?;
    if n as u64 > max as u64 {
        return Err(too_large(entry, key, n, max));
    }
    Ok(n as usize)
}

/// Config values of image classifiers, read from a manifest's `config` tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifierConfig {
    /// Number of output classes.
    pub num_classes: usize,
    /// GoogLeNet / Inception v3: build the auxiliary heads (their weights load; `forward` ignores them).
    pub aux_logits: Option<bool>,
    /// GoogLeNet / Inception v3: re-normalise ImageNet inputs the way the ported TF weights expect.
    pub transform_input: Option<bool>,
    /// ViT: the input side its position embeddings are sized for (torchvision's `image_size`,
    /// the `min_size` of the weights: 224, or 384/512/518 for SWAG end-to-end weights); the
    /// families without position embeddings ignore it.
    pub image_size: Option<usize>,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig { num_classes: 1000, aux_logits: None, transform_input: None, image_size: None }
    }
}

impl ClassifierConfig {
    /// Reads a manifest config table; unknown keys and wrong types are errors naming the key.
    pub fn from_table(entry: &str, table: &toml::Table) -> Result<Self> {
        let mut c = ClassifierConfig::default();
        for (key, value) in table {
            let bad = |expected: &str| Error::Config { entry: entry.to_owned(), key: key.clone(), message: format!("expected {expected}, got {value}") };
            match key.as_str() {
                "num_classes" => c.num_classes = positive_at_most(entry, key, value, limits::MAX_CLASSES)?,
                "aux_logits" => c.aux_logits = Some(value.as_bool().ok_or_else(|| bad("true or false"))?),
                "transform_input" => c.transform_input = Some(value.as_bool().ok_or_else(|| bad("true or false"))?),
                "image_size" => c.image_size = Some(positive_at_most(entry, key, value, limits::MAX_IMAGE_SIZE)?),
                _ => {
                    return Err(Error::Config {
                        entry: entry.to_owned(),
                        key: key.clone(),
                        message: "unknown config key for an image classifier (known: num_classes, aux_logits, transform_input, image_size)".into(),
                    })
                }
            }
        }
        Ok(c)
    }

    /// An error naming the first key that `family` does not read (`aux_logits` and
    /// `transform_input` are GoogLeNet's and Inception v3's, `image_size` ViT's): a value set for
    /// another family would otherwise be ignored without a word.
    pub fn check_family(&self, entry: &str, family: super::Family) -> Result<()> {
        use super::Family;
        let inception = matches!(family, Family::GoogLeNet | Family::InceptionV3);
        let unread = [
            ("aux_logits", self.aux_logits.is_some() && !inception, "GoogLeNet and Inception v3"),
            ("transform_input", self.transform_input.is_some() && !inception, "GoogLeNet and Inception v3"),
            ("image_size", self.image_size.is_some() && family != Family::Vit, "the Vision Transformers"),
        ];
        match unread.into_iter().find(|(_, set, _)| *set) {
            Some((key, _, whose)) => Err(Error::Config { entry: entry.to_owned(), key: key.into(), message: format!("{key} is a config key of {whose} only; {} does not read it: remove it", family.spec().name) }),
            None => Ok(()),
        }
    }

    /// An error unless the values are within [`limits`] (for configs not read by
    /// [`from_table`](Self::from_table), e.g. `hub convert --num-classes`).
    pub fn check(&self, entry: &str) -> Result<()> {
        if self.num_classes == 0 {
            return Err(Error::Config { entry: entry.to_owned(), key: "num_classes".into(), message: "expected a positive integer, got 0".into() });
        }
        if self.num_classes > limits::MAX_CLASSES {
            return Err(too_large(entry, "num_classes", self.num_classes, limits::MAX_CLASSES));
        }
        match self.image_size {
            Some(0) => return Err(Error::Config { entry: entry.to_owned(), key: "image_size".into(), message: "expected a positive integer, got 0".into() }),
            Some(size) if size > limits::MAX_IMAGE_SIZE => return Err(too_large(entry, "image_size", size, limits::MAX_IMAGE_SIZE)),
            _ => {}
        }
        Ok(())
    }
}

pub(crate) fn reject_keys(entry: &str, config: &toml::Table, known: &[&str]) -> Result<()> {
    match config.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(Error::Config { entry: entry.to_owned(), key: k.clone(), message: format!("unknown config key (known: {known:?})") }),
    }
}

/// A `true`/`false` config value; errors name the entrypoint and key.
pub(crate) fn bool_value(entry: &str, key: &str, value: &toml::Value) -> Result<bool> {
    value.as_bool().ok_or_else(|| Error::Config { entry: entry.to_owned(), key: key.to_owned(), message: format!("expected true or false, got {value}") })
}

/// The error for a config key the family does not know.
pub(crate) fn unknown_key(entry: &str, key: &str, family: &str, known: &[&str]) -> Error {
    Error::Config { entry: entry.to_owned(), key: key.to_owned(), message: format!("unknown config key for {family} (known: {})", known.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::ClassifierConfig;
    use crate::registry::Family;

    fn config(src: &str) -> ClassifierConfig {
        ClassifierConfig::from_table("e", &src.parse::<toml::Table>().unwrap()).unwrap()
    }

    #[test]
    fn a_key_the_family_does_not_read_is_an_error_naming_it() {
        let size = config("image_size = 384");
        assert!(size.check_family("e", Family::Vit).is_ok());
        let err = size.check_family("e", Family::ResNet).unwrap_err().to_string();
        assert!(err.contains("image_size") && err.contains("ResNet"), "{err}");
        let aux = config("aux_logits = true\ntransform_input = false");
        assert!(aux.check_family("e", Family::GoogLeNet).is_ok() && aux.check_family("e", Family::InceptionV3).is_ok());
        let err = aux.check_family("e", Family::Vit).unwrap_err().to_string();
        assert!(err.contains("aux_logits"), "{err}");
        assert!(config("num_classes = 10").check_family("e", Family::ConvNext).is_ok());
    }
}
