//! Stamps the git revision into `slogate_build_info{revision}` when built from a
//! checkout; `unknown` otherwise (a source tarball, a Docker build without .git).

fn main() {
    // HEAD names a branch; the branch's ref (or packed-refs) moves on commit.
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/packed-refs");
    if let Some(branch) = std::fs::read_to_string(".git/HEAD")
        .ok()
        .and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()))
    {
        println!("cargo:rerun-if-changed=.git/{branch}");
    }
    println!("cargo:rerun-if-env-changed=SLOGATE_REVISION");
    if std::env::var_os("SLOGATE_REVISION").is_some() {
        return;
    }
    let revision = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SLOGATE_REVISION={revision}");
}
