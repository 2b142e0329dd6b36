//! Validate + compile throughput (a benchmark, not a timed test).
//!
//! `cargo bench --bench throughput` prints, for the real corpus (each snapshot folder as its own
//! repository) and for 10,000 definitions sampled from it with fresh ids: definitions per
//! second for load + validate + compile + writing every output file (best of 3), and peak RSS.
//! Each scenario runs in a child process so peak RSS is its own. Output goes to the disk (the
//! default temp folder) and, in the `@mem` rows, to a tmpfs (`/dev/shm`): on this machine's
//! ext4 (no journal, 85% full) creating files right after many were deleted costs far more than
//! vigil's own work (the kernel scans recently deleted inodes: `find_inode_bit`,
//! `recently_deleted` in `perf`), so both are shown, each with the file system's own ceiling.
//! Needs the corpus (`$VIGIL_CORPUS` or `../shared/corpus`); without it the benchmark says so
//! and exits. `--sample DIR` only writes the 10,000-definition repository (for profiling).

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
            use rayon::prelude::*;
            let opts = pipeline::options(&ws, None);
            let n: usize = pipeline::compilable(&checked)
                .par_iter()
                .map(|d| vigil::compile::compile_one(d, &opts).content_hash.len())
                .sum();
            assert!(n > 0 || checked.stats.files == checked.stats.stubs);
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

/// Child mode: run one mode over the scenario's roots three times; print `mode defs
/// best_seconds`, then `peak peak_kb` (each mode in its own process, so the peak is its own).
fn child(mode_name: &str, roots: &[PathBuf]) {
    // `write@mem` and `rewrite@mem` write into memory (tmpfs), the others onto the disk.
    let (base, memory) = match mode_name.split_once('@') {
        Some((m, _)) => (m, true),
        None => (mode_name, false),
    };
    let tmp = if memory {
        tempfile::tempdir_in(MEMORY_FS).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let mode = match base {
        "validate" => Mode::Validate,
        "compile" => Mode::Compile,
        "write" => Mode::Write,
        _ => Mode::Rewrite,
    };
    let mut best = f64::INFINITY;
    let mut defs = 0;
    for run in 0..3 {
        let t = Instant::now();
        defs = 0;
        for (i, r) in roots.iter().enumerate() {
            // `write` gets a fresh folder each run; `rewrite` reuses one written before.
            let out = match mode {
                Mode::Rewrite => tmp.path().join(format!("out2-{i}")),
                _ => tmp.path().join(format!("out{run}-{i}")),
            };
            if mode == Mode::Rewrite && run == 0 {
                run_once(r, &out, Mode::Write);
            }
            defs += run_once(r, &out, mode);
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{mode_name} {defs} {best}");
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

/// Run every mode, each in a child process; returns (mode, definitions, best seconds, peak KB).
fn spawn(roots: &[String]) -> Vec<(String, usize, f64, u64)> {
    let mut rows = Vec::new();
    let mut modes = vec!["validate", "compile", "write", "rewrite"];
    if Path::new(MEMORY_FS).is_dir() {
        modes.extend(["write@mem", "rewrite@mem"]);
    }
    for mode in modes {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--child")
            .arg(mode)
            .args(roots)
            .output()
            .expect("bench child runs");
        let s = String::from_utf8_lossy(&out.stdout);
        let mut peak = 0;
        let mut row = None;
        for line in s.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                ["peak", kb] => peak = kb.parse().unwrap(),
                [name, defs, secs] => {
                    row = Some((
                        name.to_string(),
                        defs.parse().unwrap(),
                        secs.parse().unwrap(),
                    ))
                }
                _ => {}
            }
        }
        let (name, defs, secs) = row.unwrap_or_else(|| {
            panic!("child failed: {s} {}", String::from_utf8_lossy(&out.stderr))
        });
        rows.push((name, defs, secs, peak));
    }
    rows
}

fn print(label: &str, rows: &[(String, usize, f64, u64)]) {
    for (mode, defs, secs, kb) in rows {
        let rate = *defs as f64 / secs;
        println!(
            "{label:<8} {mode:<9} {defs:>6} definitions  best of 3 {secs:>7.3} s  {rate:>8.0} definitions/s  ({:.2}x the 20,000/s goal)  peak RSS {:.1} MB ({:.2}x the 200 MB budget)",
            rate / 20_000.0,
            *kb as f64 / 1024.0,
            *kb as f64 / 1024.0 / 200.0
        );
    }
}

/// A memory-backed file system (tmpfs), where creating a file costs only the kernel's own
/// bookkeeping: the `@mem` rows measure vigil without the disk.
const MEMORY_FS: &str = "/dev/shm";

/// The file-system ceiling: create as many files as `write` does, of the same total size, with
/// the same thread count and no vigil work (best of 3), in `dir` (None: the default temp dir).
fn raw_write_ceiling(files: usize, bytes: usize, dir: Option<&str>) -> f64 {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(
            (std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                * 2)
            .min(16),
        )
        .build()
        .unwrap();
    let each = vec![b'x'; bytes / files.max(1)];
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let tmp = match dir {
            Some(d) => tempfile::tempdir_in(d).unwrap(),
            None => tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(tmp.path().join("a")).unwrap();
        let t = Instant::now();
        pool.install(|| {
            (0..files).into_par_iter().for_each(|i| {
                std::fs::write(tmp.path().join("a").join(format!("{i}.json")), &each).unwrap();
            })
        });
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

/// Files and bytes one `write` of `root` produces.
fn output_size(root: &Path) -> (usize, usize) {
    let tmp = tempfile::tempdir().unwrap();
    run_once(root, tmp.path(), Mode::Write);
    let (mut files, mut bytes) = (0, 0);
    let mut stack = vec![tmp.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files += 1;
                bytes += e.metadata().map(|m| m.len() as usize).unwrap_or(0);
            }
        }
    }
    (files, bytes)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(|s| s.as_str()) == Some("--child") {
        child(
            &args[1],
            &args[2..].iter().map(PathBuf::from).collect::<Vec<_>>(),
        );
        return;
    }
    let Some(corpus) = corpus() else {
        println!("throughput: SKIPPED (corpus not found; set VIGIL_CORPUS)");
        return;
    };
    // `--sample DIR`: only write the 10,000-definition sample repository (for profiling).
    if args.first().map(|s| s.as_str()) == Some("--sample") {
        let dir = PathBuf::from(args.get(1).expect("--sample DIR"));
        sample_repo(&corpus, 10_000, &dir);
        return;
    }
    let mut snaps: Vec<String> = std::fs::read_dir(corpus.join("sentinel-yaml"))
        .unwrap()
        .flatten()
        .map(|e| e.path().to_string_lossy().into_owned())
        .collect();
    snaps.sort();
    print("corpus", &spawn(&snaps));
    let tmp = tempfile::tempdir().unwrap();
    sample_repo(&corpus, 10_000, tmp.path());
    let root = tmp.path().to_string_lossy().into_owned();
    let rows = spawn(std::slice::from_ref(&root));
    print("sampled", &rows);
    // How much of `write` is the file system: the same files, same bytes, no vigil work.
    let (files, bytes) = output_size(tmp.path());
    let mut targets = vec![("write", "disk", None)];
    if Path::new(MEMORY_FS).is_dir() {
        targets.push(("write@mem", "memory (tmpfs)", Some(MEMORY_FS)));
    }
    for (mode, label, dir) in targets {
        let raw = raw_write_ceiling(files, bytes, dir);
        let write = rows
            .iter()
            .find(|r| r.0 == mode)
            .map(|r| r.2)
            .unwrap_or(0.0);
        println!(
            "sampled  {label} alone: {files} files, {:.1} MB created in {raw:.3} s (best of 3) = {:.0} files/s; vigil's {mode} = {:.2}x that time",
            bytes as f64 / 1e6,
            files as f64 / raw,
            write / raw,
        );
    }
}
