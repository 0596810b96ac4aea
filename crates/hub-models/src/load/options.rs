//! What a caller asks of a load.

use std::path::PathBuf;

use hub_core::HubOptions;

/// How to load an entrypoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Weight variant (`IMAGENET1K_V1`, …); `None` or `DEFAULT` means the default.
    pub weights: Option<String>,
    /// Load published weights (`true`) or keep the random initialisation (`false`).
    pub pretrained: bool,
    /// A local checkpoint (`.pth`/`.pt`/`.bin` or `.safetensors`) to load instead of the published weights.
    pub checkpoint: Option<PathBuf>,
    /// The dictionary inside `checkpoint` that holds the state dict (`state_dict`, `model`, …).
    pub checkpoint_key: Option<String>,
    /// Config overrides (e.g. `num_classes`); contradicting the weights' fixed values is an error.
    pub config: toml::Table,
    /// Hub settings; `None` reads the environment ([`HubOptions::from_env`]).
    pub hub: Option<HubOptions>,
    /// Revision (branch, tag or commit) of a model id's files (entrypoints with `model_ids`);
    /// the same as `weights = "id@revision"`.
    pub revision: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { weights: None, pretrained: true, checkpoint: None, checkpoint_key: None, config: toml::Table::new(), hub: None, revision: None }
    }
}

impl LoadOptions {
    /// Selects a weight variant.
    pub fn weights(mut self, name: impl Into<String>) -> Self {
        self.weights = Some(name.into());
        self
    }

    /// Random initialisation, no download.
    pub fn random_init(mut self) -> Self {
        self.pretrained = false;
        self
    }

    /// Loads a local checkpoint instead of the published weights.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// Loads a model id's files at this revision (branch, tag or commit).
    pub fn revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = Some(revision.into());
        self
    }

    /// Uses these hub settings instead of the environment's.
    pub fn hub(mut self, options: HubOptions) -> Self {
        self.hub = Some(options);
        self
    }
}
