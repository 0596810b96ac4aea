//! hub patch: damaged and hostile checkpoints, generated here, must fail with an error naming
//! the file and the storage, never load as zeros, panic or allocate what the file cannot hold.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::pytorch::PytorchReader;

/// A pickled int: BININT, or LONG1 when it does not fit in an i32.
fn int(out: &mut Vec<u8>, n: i64) {
    if let Ok(v) = i32::try_from(n) {
        out.push(b'J');
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        out.extend_from_slice(&[0x8a, 8]);
        out.extend_from_slice(&n.to_le_bytes());
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'X');
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// One tensor of a state dict: name, storage key, offset, shape, pickled storage numel.
struct T<'a> {
    name: &'a str,
    key: &'a str,
    offset: i64,
    shape: &'a [i64],
    numel: i64,
}

/// `{name: torch._utils._rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict())}`
/// with FloatStorage storages, as protocol-2 pickle bytes.
fn state_dict(tensors: &[T]) -> Vec<u8> {
    let mut p = vec![0x80, 0x02, b'}'];
    for t in tensors {
        string(&mut p, t.name);
        p.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\n(");
        p.push(b'(');
        string(&mut p, "storage");
        p.extend_from_slice(b"ctorch\nFloatStorage\n");
        string(&mut p, t.key);
        string(&mut p, "cpu");
        int(&mut p, t.numel);
        p.extend_from_slice(b"tQ");
        int(&mut p, t.offset);
        p.push(b'(');
        for &d in t.shape {
            int(&mut p, d);
        }
        p.push(b't');
        p.push(b'(');
        let mut stride = vec![1i64; t.shape.len()];
        for i in (0..t.shape.len().saturating_sub(1)).rev() {
            stride[i] = stride[i + 1].saturating_mul(t.shape[i + 1]);
        }
        for s in stride {
            int(&mut p, s);
        }
        p.push(b't');
        p.push(0x89);
        p.extend_from_slice(b"ccollections\nOrderedDict\n)R");
        p.extend_from_slice(b"tRs");
    }
    p.push(b'.');
    p
}

fn f32s(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A torch.save zip: `archive/data.pkl` and the given `archive/data/N` members.
fn zip_checkpoint(pickle: &[u8], members: &[(&str, Vec<u8>, zip::CompressionMethod)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("archive/data.pkl", stored).unwrap();
    w.write_all(pickle).unwrap();
    for (name, data, method) in members {
        w.start_file(format!("archive/data/{name}"), zip::write::SimpleFileOptions::default().compression_method(*method)).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A legacy (PyTorch < 1.6) file: magic, protocol, sys_info, the state dict, the storage keys,
/// then each storage as its u64 element count and its bytes.
fn legacy_checkpoint(pickle: &[u8], storages: &[(&str, u64, Vec<u8>)]) -> Vec<u8> {
    let mut f = vec![0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, b'.'];
    f.extend_from_slice(&[0x80, 0x02, b'M', 0xe9, 0x03, b'.']);
    f.extend_from_slice(&[0x80, 0x02, b'}', b'.']);
    f.extend_from_slice(pickle);
    f.extend_from_slice(&[0x80, 0x02, b']']);
    for (key, _, _) in storages {
        string(&mut f, key);
        f.push(b'a');
    }
    f.push(b'.');
    for (_, count, bytes) in storages {
        f.extend_from_slice(&count.to_le_bytes());
        f.extend_from_slice(bytes);
    }
    f
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The error of loading tensor `w` of the file (from opening it or from reading its data).
fn load_error(path: &Path) -> String {
    match PytorchReader::new(path) {
        Err(e) => e.to_string(),
        Ok(reader) => match reader.get("w").expect("tensor w").to_data() {
            Err(e) => format!("{e}"),
            Ok(data) => panic!("{} loaded: {:?}", path.display(), data),
        },
    }
}

const ONE: T = T { name: "w", key: "0", offset: 0, shape: &[4], numel: 4 };

#[test]
fn a_good_checkpoint_loads_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let values = [1.5f32, -2.0, 3.25, 4.0];
    let zip = write(dir.path(), "good.pt", &zip_checkpoint(&state_dict(&[ONE]), &[("0", f32s(&values), zip::CompressionMethod::Stored)]));
    let data = PytorchReader::new(&zip).unwrap().get("w").unwrap().to_data().unwrap();
    assert_eq!(data.to_vec::<f32>().unwrap(), values);
    let legacy = write(dir.path(), "good-legacy.pt", &legacy_checkpoint(&state_dict(&[ONE]), &[("0", 4, f32s(&values))]));
    let data = PytorchReader::new(&legacy).unwrap().get("w").unwrap().to_data().unwrap();
    assert_eq!(data.to_vec::<f32>().unwrap(), values);
}

#[test]
fn damaged_zip_checkpoints_are_errors_naming_file_and_storage() {
    let dir = tempfile::tempdir().unwrap();
    let stored = zip::CompressionMethod::Stored;
    let good = f32s(&[1.0, 2.0, 3.0, 4.0]);
    // A CRC error: one byte of the stored storage flipped inside the archive.
    let mut crc = zip_checkpoint(&state_dict(&[ONE]), &[("0", good.clone(), stored)]);
    let at = crc.windows(good.len()).position(|w| w == good.as_slice()).unwrap();
    crc[at + 1] ^= 0x40;
    let bomb = vec![0u8; 64 << 20];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("missing", zip_checkpoint(&state_dict(&[ONE]), &[]), "cannot be read"),
        ("crc", crc, "cannot be read"),
        ("short", zip_checkpoint(&state_dict(&[ONE]), &[("0", good[..8].to_vec(), stored)]), "holds 8 bytes, but the tensor needs 16"),
        (
            "offset",
            zip_checkpoint(&state_dict(&[T { offset: 10, shape: &[2], ..ONE }]), &[("0", good.clone(), stored)]),
            "past the storage's end",
        ),
        (
            "huge-numel",
            zip_checkpoint(&state_dict(&[T { shape: &[1_000_000_000_000], numel: 1_000_000_000_000, ..ONE }]), &[("0", good.clone(), stored)]),
            "the tensor needs 4000000000000",
        ),
        (
            "overflow",
            zip_checkpoint(&state_dict(&[T { shape: &[i64::MAX, 4], ..ONE }]), &[("0", good.clone(), stored)]),
            "overflows",
        ),
        (
            "negative-offset",
            zip_checkpoint(&state_dict(&[T { offset: -1, ..ONE }]), &[("0", good.clone(), stored)]),
            "overflows",
        ),
        (
            "deflate-bomb",
            zip_checkpoint(&state_dict(&[ONE]), &[("0", bomb, zip::CompressionMethod::Deflated)]),
            "more than the 16 the pickle gives its storage",
        ),
    ];
    for (name, bytes, needle) in cases {
        let path = write(dir.path(), &format!("{name}.pt"), &bytes);
        let e = load_error(&path);
        assert!(e.contains(needle), "{name}: {e}");
        if !matches!(name, "overflow" | "negative-offset") {
            assert!(e.contains(&path.display().to_string()) && e.contains("data/0"), "{name}: {e}");
        }
    }
}

#[test]
fn damaged_legacy_checkpoints_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = f32s(&[1.0, 2.0, 3.0, 4.0]);
    let mut no_header = legacy_checkpoint(&state_dict(&[ONE]), &[("0", 4, good.clone())]);
    no_header.truncate(no_header.len() - 16 - 5);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        // The file records 10^12 elements: checked against the file's size, not allocated.
        ("huge-count", legacy_checkpoint(&state_dict(&[ONE]), &[("0", 1_000_000_000_000, good.clone())]), "only 16 bytes are left"),
        // The pickle claims more than the file holds.
        ("short", legacy_checkpoint(&state_dict(&[T { shape: &[8], numel: 8, ..ONE }]), &[("0", 4, good.clone())]), "need 32"),
        // Truncated in the middle of the storage.
        ("truncated", legacy_checkpoint(&state_dict(&[ONE]), &[("0", 4, good[..10].to_vec())]), "only 10 bytes are left"),
        // Truncated inside the storage's 8-byte header.
        ("no-header", no_header, "before the header of storage 0"),
    ];
    for (name, bytes, needle) in cases {
        let path = write(dir.path(), &format!("{name}.pt"), &bytes);
        let e = load_error(&path);
        assert!(e.contains(needle), "{name}: {e}");
        assert!(e.contains(&path.display().to_string()), "{name}: {e}");
    }
}
