//! `--threads`: accepted counts run, bad ones are usage errors (exit 2).

use std::process::Command;

fn hub_with(args: &[&str], threads_env: Option<&str>) -> std::process::Output {
    let home = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub"));
    cmd.args(args).env("HUB_HOME", home.path()).env("HUB_OFFLINE", "1").env_remove("HUB_NUM_THREADS").env_remove("RAYON_NUM_THREADS");
    if let Some(v) = threads_env {
        cmd.env("HUB_NUM_THREADS", v);
    }
    cmd.output().expect("runs hub")
}

fn hub(args: &[&str]) -> std::process::Output {
    hub_with(args, None)
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

#[test]
fn hub_num_threads_is_validated_before_any_thread_starts() {
    let ok = hub_with(&["list", "pytorch/vision"], Some("2"));
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    for bad in ["0", "1000000000", "lots", ""] {
        let out = hub_with(&["list", "pytorch/vision"], Some(bad));
        assert_eq!(out.status.code(), Some(2), "HUB_NUM_THREADS={bad:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("HUB_NUM_THREADS"), "the error names the variable");
    }
}
