//! Stage timings on one repository: `cargo run --release --example stages -- DIR`.
use std::time::Instant;

use vigil::compile::templates::Templates;
use vigil::model::load::FsReader;
use vigil::{emit, pipeline, workspace};

fn rss() -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
            .unwrap_or_default()
    };
    format!(
        "rss {} MB, peak {} MB",
        get("VmRSS:").parse::<u64>().unwrap_or(0) / 1024,
        get("VmHWM:").parse::<u64>().unwrap_or(0) / 1024
    )
}

fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("a repository folder"));
    let fresh = std::env::args().nth(2).as_deref() == Some("--fresh");
    for run in 0..3 {
        let out = std::env::temp_dir().join(if fresh {
            format!("vigil-stages-out-{run}")
        } else {
            "vigil-stages-out".into()
        });
        if fresh {
            let _ = std::fs::remove_dir_all(&out);
        }
        let t = Instant::now();
        let ws = workspace::open(&root, &[]);
        let t1 = t.elapsed();
        eprintln!("after read: {}", rss());
        let reader = FsReader { root: root.clone() };
        let checked = pipeline::check_with(&ws, &reader, None, false);
        let t2 = t.elapsed();
        eprintln!("after check: {}", rss());
        let defs = pipeline::compilable(&checked);
        let t3 = t.elapsed();
        eprintln!("after compile: {}", rss());
        emit::compile_and_write(
            &out,
            &defs,
            &pipeline::options(&ws, None),
            &Templates::new(),
        )
        .expect("write");
        let t4 = t.elapsed();
        eprintln!("after write: {}", rss());
        println!(
            "{} definitions: read {:?}, load+validate {:?}, compile {:?}, write {:?}, total {:?}",
            checked.stats.definitions,
            t1,
            t2 - t1,
            t3 - t2,
            t4 - t3,
            t4
        );
    }
}
