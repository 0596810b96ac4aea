//! `hub run` for images: classification, semantic segmentation and image generation (GANs).

use std::fmt;
use std::path::PathBuf;

use anyhow::Context;
use burn::tensor::backend::Backend;
use hub_core::Hub;
use hub_models::{Loaded, Prediction};
use serde::Serialize;

use super::{save_npy, OutputArgs};
use crate::output::{percent, write_table};

/// Input images.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Images (classification, segmentation)")]
pub struct ImageArgs {
    /// Images to classify, or the one image to segment (PNG or JPEG files, or http(s) URLs,
    /// fetched through the mirrors, at most `max_input_mb` (64 MiB), not cached).
    #[arg(long = "image", num_args = 1..)]
    images: Vec<PathBuf>,
}

/// The `--image` values as files: a path as given; an `http(s)://` URL fetched through hub-core
/// (its mirrors, offline mode and `max_input_mb`) into a temporary folder, made only when a URL
/// is given and kept as long as the returned guard (the format is read from the content).
fn local_images(hub: &Hub, images: &[PathBuf]) -> anyhow::Result<(Vec<PathBuf>, Option<tempfile::TempDir>)> {
    let mut dir = None;
    let mut files = Vec::with_capacity(images.len());
    for (i, image) in images.iter().enumerate() {
        let Some(url) = image.to_str().filter(|s| s.starts_with("http://") || s.starts_with("https://")) else {
            files.push(image.clone());
            continue;
        };
        let bytes = hub.get_input(url)?;
        let folder = match dir.take() {
            Some(folder) => folder,
            None => tempfile::tempdir().context("creating a temporary folder for --image URLs")?,
        };
        let file = folder.path().join(format!("image-{i}"));
        dir = Some(folder);
        std::fs::write(&file, bytes).with_context(|| format!("writing {} (the image of {url})", file.display()))?;
        files.push(file);
    }
    Ok((files, dir))
}

/// How many images to generate and how to lay them out.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Image generation")]
pub struct GenerationArgs {
    /// How many images.
    #[arg(long, default_value_t = 16)]
    num_images: usize,
    /// Images per grid row (default: about the square root).
    #[arg(long)]
    nrow: Option<usize>,
}

/// The top classes of each image.
#[derive(Serialize, Debug)]
pub struct Classified {
    results: Vec<ImageClasses>,
}

#[derive(Serialize, Debug)]
struct ImageClasses {
    input: PathBuf,
    top_k: Vec<Prediction>,
}

pub fn classify<B: Backend>(model: &Loaded<B>, hub: &Hub, args: &ImageArgs, out: &OutputArgs) -> anyhow::Result<Classified> {
    anyhow::ensure!(!args.images.is_empty(), "{} classifies images: give --image FILE (one or more)", model.entry);
    let (files, _fetched) = local_images(hub, &args.images)?;
    let images = files.iter().map(|p| hub_models::preprocess::load_rgb8(p)).collect::<Result<Vec<_>, _>>()?;
    let (predictions, logits) = model.classify_with_logits(&images, out.top_k)?;
    save_npy(&out.save_output, &logits)?;
    let results = args.images.iter().zip(predictions).map(|(input, top_k)| ImageClasses { input: input.clone(), top_k }).collect();
    Ok(Classified { results })
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for image in &self.results {
            writeln!(f, "{}", image.input.display())?;
            let rows: Vec<Vec<String>> = image.top_k.iter().map(|p| vec![percent(p.probability), p.index.to_string(), p.label.clone()]).collect();
            write_table(f, "  ", &["PROB", "CLASS", "LABEL"], &rows)?;
        }
        Ok(())
    }
}

/// The mask and overlay written for one image, and each class's share of its pixels.
#[derive(Serialize, Debug)]
pub struct Segmented {
    input: PathBuf,
    mask: PathBuf,
    overlay: PathBuf,
    /// Width and height of the mask (the resized image).
    size: [usize; 2],
    classes: Vec<ClassPixels>,
}

#[derive(Serialize, Debug)]
struct ClassPixels {
    index: u32,
    label: Option<&'static str>,
    pixels: usize,
    share: f64,
}

pub fn segment<B: Backend>(model: &Loaded<B>, hub: &Hub, args: &ImageArgs, out: &OutputArgs) -> anyhow::Result<Segmented> {
    let [image] = args.images.as_slice() else { anyhow::bail!("{} segments one image: give --image FILE and --out MASK.png", model.entry) };
    let Some(mask_path) = &out.out else { anyhow::bail!("{} segments images: give --out MASK.png (an overlay is written beside it)", model.entry) };
    let (mut files, _fetched) = local_images(hub, std::slice::from_ref(image))?;
    let file = files.pop().context("no file for --image")?;
    let (mask, resized, scores) = model.segment_file(&file)?;
    save_npy(&out.save_output, &scores)?;
    mask.save_png(mask_path)?;
    let overlay = mask_path.with_extension("overlay.png");
    mask.overlay(&resized, 0.5)?.save(&overlay).map_err(|e| anyhow::anyhow!("writing {}: {e}", overlay.display()))?;
    let classes = mask
        .class_shares(&hub_models::segmentation::voc::CATEGORIES)
        .into_iter()
        .map(|s| ClassPixels { index: s.label, label: s.name, pixels: s.pixels, share: s.share })
        .collect();
    Ok(Segmented { input: image.clone(), mask: mask_path.clone(), overlay, size: [mask.width, mask.height], classes })
}

impl fmt::Display for Segmented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [w, h] = self.size;
        writeln!(f, "wrote {} and {} ({w}x{h})", self.mask.display(), self.overlay.display())?;
        let rows: Vec<Vec<String>> = self.classes.iter().map(|c| vec![percent(c.share), c.index.to_string(), c.label.unwrap_or("?").to_owned()]).collect();
        write_table(f, "  ", &["PIXELS", "CLASS", "LABEL"], &rows)
    }
}

/// The grid of generated images.
#[derive(Serialize, Debug)]
pub struct Generated {
    seed: u64,
    /// How many images.
    images: usize,
    /// `[images, channels, height, width]`.
    shape: [usize; 4],
    out: PathBuf,
    #[serde(skip)]
    per_row: usize,
}

pub fn generate<B: Backend>(model: &Loaded<B>, args: &GenerationArgs, out: &OutputArgs, seed: u64) -> anyhow::Result<Generated> {
    let Some(grid) = &out.out else { anyhow::bail!("{} generates images: give --out FILE.png (and --num-images, --seed)", model.entry) };
    anyhow::ensure!(args.num_images > 0, "--num-images must be at least 1");
    let images = model.generate(args.num_images, seed)?;
    save_npy(&out.save_output, &images)?;
    let per_row = args.nrow.unwrap_or_else(|| (args.num_images as f64).sqrt().ceil() as usize).max(1);
    let shape = images.dims();
    hub_models::gan::save_grid(images, grid, per_row)?;
    Ok(Generated { seed, images: shape[0], shape, out: grid.clone(), per_row })
}

impl fmt::Display for Generated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [n, _, h, w] = self.shape;
        writeln!(f, "wrote {} ({n} images of {w}x{h}, seed {}, {} per row)", self.out.display(), self.seed, self.per_row)
    }
}
