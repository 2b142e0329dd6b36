//! Validate + compile throughput (a benchmark, not a timed test).
//!
//! `cargo bench --bench throughput` prints, for the real corpus (each snapshot folder as its own
//! repository) and for 10,000 definitions sampled from it with fresh ids: definitions per
//! second for load + validate + compile + writing every output file (best of 3), and peak RSS.
//! Each scenario runs in a child process so peak RSS is its own. Needs the corpus
//! (`$VIGIL_CORPUS` or `../shared/corpus`); without it the benchmark says so and exits.

use std::path::{Path, PathBuf};
use std::time::Instant;

use vigil::compile::templates::Templates;
use vigil::model::load::FsReader;
use vigil::{emit, pipeline, workspace};

fn corpus() -> Option<PathBuf> {
    let p = std::env::var_os("VIGIL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    p.join("MANIFEST.md").is_file().then_some(p)
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Load + validate only.
    Validate,
    /// Load + validate + compile, in memory.
    Compile,
    /// Load + validate + compile + write every file into a fresh folder.
    Write,
    /// The same into a folder that already holds identical output (an incremental re-run).
    Rewrite,
}

/// One repository through the pipeline; returns the number of definitions (stubs excluded).
fn run_once(root: &Path, out: &Path, mode: Mode) -> usize {
    let ws = workspace::open(root, &[]);
    let reader = FsReader {
        root: root.to_path_buf(),
    };
    let checked = pipeline::check_with(&ws, &reader, None, false);
    match mode {
        Mode::Validate => {}
        Mode::Compile => {
            let opts = pipeline::options(&ws, None);
            let n: usize = pipeline::compilable(&checked)
                .iter()
                .map(|d| vigil::compile::compile_one(d, &opts).content_hash.len())
                .sum();
            assert!(n > 0);
        }
        Mode::Write | Mode::Rewrite => {
            let defs = pipeline::compilable(&checked);
            emit::compile_and_write(out, &defs, &pipeline::options(&ws, None), &Templates::new())
                .expect("write");
        }
    }
    checked.stats.files - checked.stats.stubs
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Child mode: run the scenario's roots three times per mode, print one line per mode:
/// `mode defs best_seconds`, then `peak peak_kb`.
fn child(roots: &[PathBuf]) {
    let tmp = tempfile::tempdir().unwrap();
    for (name, mode) in [
        ("validate", Mode::Validate),
        ("compile", Mode::Compile),
        ("write", Mode::Write),
        ("rewrite", Mode::Rewrite),
    ] {
        let mut best = f64::INFINITY;
        let mut defs = 0;
        for run in 0..3 {
            let t = Instant::now();
            defs = 0;
            for (i, r) in roots.iter().enumerate() {
                // `write` gets a fresh folder each run; `rewrite` reuses the last one.
                let out = match mode {
                    Mode::Rewrite => tmp.path().join(format!("out2-{i}")),
                    _ => tmp.path().join(format!("out{run}-{i}")),
                };
                defs += run_once(r, &out, mode);
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{name} {defs} {best}");
    }
    println!("peak {}", peak_rss_kb());
}

/// Build a repository of `n` definitions sampled from the corpus, with fresh ids and names.
fn sample_repo(corpus: &Path, n: usize, dir: &Path) {
    let mut sources: Vec<(PathBuf, bool)> = Vec::new();
    for snap in std::fs::read_dir(corpus.join("sentinel-yaml"))
        .unwrap()
        .flatten()
    {
        let ws = workspace::open(&snap.path(), &[]);
        let reader = FsReader { root: snap.path() };
        let checked = pipeline::check(&ws, &reader, None);
        let bad: std::collections::BTreeSet<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.span.file)
            .collect();
        for d in &checked.definitions {
            if !bad.contains(&d.file) {
                sources.push((
                    snap.path().join(&d.path),
                    d.kind() == vigil::model::ContentKind::Rule,
                ));
            }
        }
    }
    sources.sort();
    std::fs::create_dir_all(dir.join("detections")).unwrap();
    std::fs::create_dir_all(dir.join("hunts")).unwrap();
    for i in 0..n {
        let (src, is_rule) = &sources[i % sources.len()];
        let text = std::fs::read_to_string(src).unwrap();
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut out = String::with_capacity(text.len() + 64);
        let mut replaced_id = false;
        let mut replaced_name = false;
        for line in text.lines() {
            if !replaced_id && line.starts_with("id:") {
                out.push_str(&format!("id: 00000000-0000-4000-8000-{i:012}\n"));
                replaced_id = true;
            } else if !replaced_name && line.starts_with("name:") {
                let name = line[5..].trim().trim_matches(|c| c == '"' || c == '\'');
                out.push_str(&format!("name: \"{} #{i}\"\n", name.replace('"', "")));
                replaced_name = true;
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        let folder = if *is_rule { "detections" } else { "hunts" };
        std::fs::write(dir.join(folder).join(format!("d{i:05}.yaml")), out).unwrap();
    }
}

fn spawn(args: &[&str]) -> (Vec<(String, usize, f64)>, u64) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(args)
        .output()
        .expect("bench child runs");
    let s = String::from_utf8_lossy(&out.stdout);
    let mut rows = Vec::new();
    let mut peak = 0;
    for line in s.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["peak", kb] => peak = kb.parse().unwrap(),
            [name, defs, secs] => rows.push((
                name.to_string(),
                defs.parse().unwrap(),
                secs.parse().unwrap(),
            )),
            _ => {}
        }
    }
    assert!(
        rows.len() == 4,
        "child failed: {s} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (rows, peak)
}

fn print(label: &str, rows: &[(String, usize, f64)], kb: u64) {
    for (mode, defs, secs) in rows {
        let rate = *defs as f64 / secs;
        println!(
            "{label:<8} {mode:<9} {defs:>6} definitions  best of 3 {secs:>7.3} s  {rate:>8.0} definitions/s  ({:.2}x the 20,000/s goal)",
            rate / 20_000.0
        );
    }
    println!(
        "{label:<8} peak RSS {:.1} MB ({:.2}x the 200 MB budget)",
        kb as f64 / 1024.0,
        kb as f64 / 1024.0 / 200.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(|s| s.as_str()) == Some("--child") {
        child(&args[1..].iter().map(PathBuf::from).collect::<Vec<_>>());
        return;
    }
    let Some(corpus) = corpus() else {
        println!("throughput: SKIPPED (corpus not found; set VIGIL_CORPUS)");
        return;
    };
    let mut snaps: Vec<String> = std::fs::read_dir(corpus.join("sentinel-yaml"))
        .unwrap()
        .flatten()
        .map(|e| e.path().to_string_lossy().into_owned())
        .collect();
    snaps.sort();
    let mut child_args = vec!["--child"];
    child_args.extend(snaps.iter().map(|s| s.as_str()));
    let (rows, kb) = spawn(&child_args);
    print("corpus", &rows, kb);
    let tmp = tempfile::tempdir().unwrap();
    sample_repo(&corpus, 10_000, tmp.path());
    let root = tmp.path().to_string_lossy().into_owned();
    let (rows, kb) = spawn(&["--child", &root]);
    print("sampled", &rows, kb);
}
