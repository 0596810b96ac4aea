//! The built-in manifests of the seed repos, which publish only a `hubconf.py`.

use hub_core::{Hub, HubOptions};

/// `(spec, manifest)` of every built-in repo.
pub const MANIFESTS: &[(&str, &str)] = &[
    ("pytorch/vision", include_str!("../manifests/pytorch_vision.toml")),
    ("facebookresearch/pytorch_GAN_zoo:hub", include_str!("../manifests/facebookresearch_pytorch_GAN_zoo.toml")),
    ("NVIDIA/DeepLearningExamples:torchhub", include_str!("../manifests/NVIDIA_DeepLearningExamples.toml")),
];

/// A [`Hub`] with these options and the built-in manifests registered.
pub fn hub(options: HubOptions) -> Result<Hub, hub_core::Error> {
    let mut hub = Hub::new(options)?;
    for (spec, src) in MANIFESTS {
        hub.add_builtin(spec, src)?;
    }
    Ok(hub)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;

    #[test]
    fn builtin_manifests_parse_and_vision_is_fully_implemented() {
        let dir = tempfile::tempdir().unwrap();
        let hub = hub(HubOptions::with_root(dir.path())).unwrap();
        let vision = hub.repo(&"pytorch/vision".parse().unwrap()).unwrap().manifest;
        assert!(vision.entrypoints.len() >= 40);
        vision.check_dependencies("pytorch/vision", registry::provides).unwrap();
        for (name, entry) in &vision.entrypoints {
            assert!(registry::find(&entry.architecture).is_some(), "{name}: {}", entry.architecture);
            let (_, w) = entry.weights(name, None).unwrap().unwrap();
            assert!(w.artifact.url.starts_with("https://download.pytorch.org/models/"), "{name}");
            assert!(matches!(w.artifact.expected_hash(), hub_core::ExpectedHash::Prefix(_)), "{name}: every torchvision file name carries a hash prefix");
            assert!(w.license.is_some() && w.params.is_some() && w.metrics.contains_key("acc@1"), "{name}");
            assert!(entry.preprocessing_for(Some(w)).is_some(), "{name}");
        }
    }
}
