//! Writes NumPy `.npy` files (little-endian f32, C order) with the `npyz` crate.

use std::io::{BufWriter, Write};
use std::path::Path;

use npyz::WriterBuilder;

/// Writes `data` with `shape` to `path` as a `.npy` array of `<f4`.
pub fn write_f32(path: &Path, shape: &[usize], data: &[f32]) -> anyhow::Result<()> {
    anyhow::ensure!(shape.iter().product::<usize>() == data.len(), "shape {shape:?} does not hold {} values", data.len());
    let file = std::fs::File::create(path).map_err(|e| anyhow::anyhow!("creating {}: {e}", path.display()))?;
    let mut out = BufWriter::new(file);
    let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut writer = npyz::WriteOptions::new().default_dtype().shape(&dims).writer(&mut out).begin_nd()?;
    writer.extend(data.iter().copied())?;
    writer.finish()?;
    out.flush().map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_through_a_reader() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.npy");
        super::write_f32(&p, &[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
        assert_eq!(npy.shape(), &[2, 3]);
        assert_eq!(npy.into_vec::<f32>().unwrap(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(super::write_f32(&p, &[2, 2], &[1.0]).is_err());
    }
}
