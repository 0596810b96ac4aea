//! `--threads`: accepted counts run, bad ones are usage errors (exit 2).

use std::process::Command;

fn hub(args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().expect("temp dir");
    Command::new(env!("CARGO_BIN_EXE_hub")).args(args).env("HUB_HOME", home.path()).env("HUB_OFFLINE", "1").output().expect("runs hub")
}

#[test]
fn threads_flag_is_validated() {
    let ok = hub(&["--threads", "1", "list", "pytorch/vision"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("resnet50"));
    for bad in ["0", "-3", "many", "100000"] {
        let out = hub(&["--threads", bad, "list", "pytorch/vision"]);
        assert_eq!(out.status.code(), Some(2), "--threads {bad}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
