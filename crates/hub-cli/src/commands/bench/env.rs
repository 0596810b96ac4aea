//! The environment a benchmark ran in (recorded with every report, compared before a baseline
//! is), and the process's peak memory.

use serde::{Deserialize, Serialize};

/// The burn version hub is built against (pinned in the workspace `Cargo.toml`; a test checks
/// that the two agree).
pub const BURN_VERSION: &str = "0.21.0";

/// Where and with what a benchmark ran.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Environment {
    /// The CPU's model name (`/proc/cpuinfo`; `None` where it cannot be read).
    pub cpu_model: Option<String>,
    /// The SIMD extensions this CPU has, of those the kernels can use.
    pub cpu_flags: Vec<String>,
    /// Which kernels ran: `hub-kernels avx512`, `hub-kernels avx2+fma`, `hub-kernels neon`,
    /// `hub-kernels portable`, `burn flex (HUB_KERNELS=off)` or `burn wgpu`/`burn cuda`.
    pub kernel_path: String,
    /// Physical cores (`None` where `/proc/cpuinfo` does not say).
    pub physical_cores: Option<usize>,
    /// Logical CPUs available to this process.
    pub logical_cores: usize,
    /// Inference threads in use (`--threads`, `HUB_NUM_THREADS`, or one per physical core).
    pub threads: usize,
    /// burn backend: `flex`, `wgpu` or `cuda`.
    pub backend: String,
    /// `cpu`, `wgpu` or `cuda`.
    pub device: String,
    /// `linux`, `macos`, `windows`, ...
    pub os: String,
    /// `x86_64`, `aarch64`, ...
    pub arch: String,
    /// hub's version.
    pub hub_version: String,
    /// The git commit hub was built from, when the build set `HUB_GIT_COMMIT`.
    pub git_commit: Option<String>,
    /// burn's version.
    pub burn_version: String,
}

impl Environment {
    /// This process's environment for a run on `device` with `threads` inference threads.
    pub fn detect(device: &str, threads: usize) -> Environment {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = parse_cpuinfo(&cpuinfo);
        let (backend, kernel_path) = match device {
            "cpu" if hub_models::kernels::enabled() => ("flex".to_owned(), format!("hub-kernels {}", hub_models::kernels::simd_level())),
            "cpu" => ("flex".to_owned(), "burn flex (HUB_KERNELS=off)".to_owned()),
            gpu => (gpu.to_owned(), format!("burn {gpu}")),
        };
        Environment {
            cpu_model: cpu.model,
            cpu_flags: simd_flags(),
            kernel_path,
            physical_cores: cpu.physical_cores,
            logical_cores: std::thread::available_parallelism().map_or(1, usize::from),
            threads,
            backend,
            device: device.to_owned(),
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            hub_version: env!("CARGO_PKG_VERSION").to_owned(),
            git_commit: option_env!("HUB_GIT_COMMIT").filter(|c| !c.is_empty()).map(str::to_owned),
            burn_version: BURN_VERSION.to_owned(),
        }
    }
}

/// What `/proc/cpuinfo` says about the CPU.
#[derive(Debug, PartialEq)]
struct CpuInfo {
    model: Option<String>,
    physical_cores: Option<usize>,
}

/// The model name (x86's `model name`, else ARM's `Model` or `Hardware`) and the number of
/// distinct (`physical id`, `core id`) pairs, when the file has them.
fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut model = None;
    let mut cores = std::collections::BTreeSet::new();
    let mut package = "";
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "model name" | "Model" | "Hardware" if model.is_none() && !value.is_empty() => model = Some(value.to_owned()),
            "physical id" => package = value,
            "core id" => {
                cores.insert((package, value));
            }
            _ => {}
        }
    }
    CpuInfo { model, physical_cores: (!cores.is_empty()).then_some(cores.len()) }
}

/// The SIMD extensions of this CPU that matter to the kernels (and to gemm's dispatch).
fn simd_flags() -> Vec<String> {
    #[allow(unused_mut)]
    let mut flags: Vec<&str> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! detect {
            ($($f:tt),*) => { $(if std::is_x86_feature_detected!($f) { flags.push($f); })* };
        }
        detect!("sse4.2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512vnni");
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! detect {
            ($($f:tt),*) => { $(if std::arch::is_aarch64_feature_detected!($f) { flags.push($f); })* };
        }
        detect!("neon", "fp16", "dotprod", "sve");
    }
    flags.into_iter().map(str::to_owned).collect()
}

/// The process's peak resident memory (`VmHWM` of `/proc/self/status`, Linux only); `None`
/// elsewhere or when the file cannot be read.
pub fn peak_rss_bytes() -> Option<u64> {
    parse_vm_hwm(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// `VmHWM:   123456 kB` → bytes.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kb: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kb.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_of_two_x86_threads_on_one_core() {
        let text = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nphysical id\t: 0\ncore id\t\t: 0\n\n\
                    processor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nphysical id\t: 0\ncore id\t\t: 0\n";
        assert_eq!(parse_cpuinfo(text), CpuInfo { model: Some("Intel(R) Xeon(R) CPU @ 2.20GHz".into()), physical_cores: Some(1) });
        let two_sockets = "physical id : 0\ncore id : 0\nphysical id : 1\ncore id : 0\n";
        assert_eq!(parse_cpuinfo(two_sockets).physical_cores, Some(2));
    }

    #[test]
    fn cpuinfo_of_an_arm_board_and_of_nothing() {
        let text = "processor : 0\nBogoMIPS : 108.00\nFeatures : fp asimd\n\nHardware : BCM2835\nModel : Raspberry Pi 4 Model B Rev 1.4\n";
        assert_eq!(parse_cpuinfo(text), CpuInfo { model: Some("BCM2835".into()), physical_cores: None });
        assert_eq!(parse_cpuinfo(""), CpuInfo { model: None, physical_cores: None });
    }

    #[test]
    fn vm_hwm_in_bytes() {
        assert_eq!(parse_vm_hwm("Name:\thub\nVmPeak:\t  900 kB\nVmHWM:\t  2048 kB\nVmRSS:\t 1000 kB\n"), Some(2 << 20));
        assert_eq!(parse_vm_hwm("VmHWM: lots\n"), None);
        assert_eq!(parse_vm_hwm("VmRSS: 1 kB\n"), None);
        #[cfg(target_os = "linux")]
        assert!(peak_rss_bytes().is_some_and(|b| b > 0));
    }

    #[test]
    fn burn_version_is_the_pinned_one() {
        let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml")).unwrap();
        let pin = format!("burn = {{ version = \"={BURN_VERSION}\"");
        assert!(manifest.contains(&pin), "the workspace Cargo.toml pins another burn than {BURN_VERSION}: update BURN_VERSION");
    }

    #[test]
    fn detects_this_machine() {
        let env = Environment::detect("cpu", 3);
        assert_eq!((env.threads, env.backend.as_str(), env.device.as_str()), (3, "flex", "cpu"));
        assert!(env.kernel_path.starts_with("hub-kernels ") || env.kernel_path.starts_with("burn flex"), "{}", env.kernel_path);
        assert!(env.logical_cores >= 1);
        #[cfg(target_arch = "x86_64")]
        assert!(env.cpu_flags.iter().any(|f| f == "sse4.2"), "{:?}", env.cpu_flags);
    }
}
