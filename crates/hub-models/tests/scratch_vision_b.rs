// TEMPORARY scratch experiment of helper vision-B (to be deleted).
use hub_models::preprocess::*;
#[test]
fn scratch_resize_vs_torch() {
    let dir = std::path::Path::new("/tmp/visionB/rs");
    let cases = std::fs::read_to_string(dir.join("cases.txt")).unwrap();
    for line in cases.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (name, size, interp) = (f[0], f[1].parse::<usize>().unwrap(), f[2]);
        let img = load_rgb8(&dir.join(format!("{name}.png"))).unwrap();
        let filter = if interp == "bilinear" { Interpolation::Bilinear } else { Interpolation::Bicubic };
        for (path, suffix) in [(ResizePath::Float, "v1"), (ResizePath::Uint8, "v2")] {
            let ours = resize_shorter_side(&img, size, filter, path);
            let theirs = std::fs::read(dir.join(format!("{name}_{size}_{interp}_{suffix}.raw"))).unwrap();
            assert_eq!(ours.as_raw().len(), theirs.len(), "{line}");
            let diffs: Vec<i32> = ours.as_raw().iter().zip(&theirs).map(|(&a, &b)| a as i32 - b as i32).filter(|d| *d != 0).collect();
            let maxd = diffs.iter().map(|d| d.abs()).max().unwrap_or(0);
            println!("{line} {suffix}: {} of {} differ, max {}", diffs.len(), theirs.len(), maxd);
        }
    }
}
