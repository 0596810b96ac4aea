//! [`WeightsChoice`]: what the weights name of an entrypoint stands for: weights the manifest
//! lists, or a model id resolved through the entrypoint's [`ModelIds`] template.

use crate::error::{Error, Result};
use crate::manifest::{Entrypoint, Weights};
use crate::model_ids::{ModelIds, ModelRef};

/// What a weights name of an entrypoint stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightsChoice<'a> {
    /// Weights the manifest lists (with their URLs and hashes).
    Listed(&'a str, &'a Weights),
    /// A model id resolved through the entrypoint's [`ModelIds`] template.
    Model(&'a ModelIds, ModelRef),
}

impl WeightsChoice<'_> {
    /// The name to show: the listed name, or `id@revision`.
    pub fn display_name(&self) -> String {
        match self {
            WeightsChoice::Listed(name, _) => (*name).to_owned(),
            WeightsChoice::Model(ids, m) => format!("{}@{}", m.id, ids.revision_of(m)),
        }
    }

    /// The listed weights' manifest entry, if any.
    pub fn listed(&self) -> Option<&Weights> {
        match self {
            WeightsChoice::Listed(_, w) => Some(w),
            WeightsChoice::Model(..) => None,
        }
    }
}

impl Entrypoint {
    /// Resolves a weights name and an optional revision: listed weights by name (`None` or
    /// `DEFAULT`: the default), otherwise, when the entrypoint has a [`ModelIds`] table, any
    /// model id (`owner/name[@revision]`). A revision always goes through the template, since
    /// listed URLs name one revision. `Ok(None)`: no weights published and none asked for.
    pub fn choose_weights(&self, entry: &str, name: Option<&str>, revision: Option<&str>) -> Result<Option<WeightsChoice<'_>>> {
        let name = match name {
            None | Some("DEFAULT") | Some("default") => match (&self.default_weights, self.weights.keys().next()) {
                (Some(d), _) => d.as_str(),
                (None, Some(first)) => first.as_str(),
                (None, None) if revision.is_some() => {
                    return Err(Error::UnknownWeights { entry: entry.to_owned(), weights: "DEFAULT".into(), available: "none: name a model id".into() })
                }
                (None, None) => return Ok(None),
            },
            Some(n) => n,
        };
        if revision.is_none() {
            if let Some((k, w)) = self.weights.get_key_value(name) {
                return Ok(Some(WeightsChoice::Listed(k, w)));
            }
        }
        let Some(ids) = &self.model_ids else {
            if let Some(r) = revision {
                return Err(Error::InvalidModelId {
                    input: format!("{name}@{r}"),
                    reason: format!("entrypoint {entry} publishes fixed files; a revision applies only to entrypoints that take model ids"),
                });
            }
            return self.weights(entry, Some(name)).map(|w| w.map(|(k, w)| WeightsChoice::Listed(k, w)));
        };
        let mut model: ModelRef = name.parse()?;
        if let Some(r) = revision {
            if model.revision.as_deref().is_some_and(|own| own != r) {
                return Err(Error::InvalidModelId { input: name.to_owned(), reason: format!("it names a revision and --revision {r} names another") });
            }
            model = model.at(r)?;
        }
        Ok(Some(WeightsChoice::Model(ids, model)))
    }
}
