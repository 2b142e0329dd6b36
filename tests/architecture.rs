//! Tidy tests of the code's structure (rust-analyzer's habit): no import cycles between
//! modules, every command backed by an operation, a CLI that does not reach past its edge, and
//! a README that names the commands and flags the binary has.
//!
//! `cargo test --test architecture -- --nocapture module_graph` prints the module graph (one
//! line per module with the modules it imports) and its largest files: the view the closing
//! notes quote, reproducible with the project's own tools.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The module path of a source file: `src/kql/binder.rs` → `kql::binder`, `src/kql/mod.rs` →
/// `kql`, `src/lib.rs` → `` (the crate root).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts.join("::")
}

/// Source text without comments and string contents (so paths in docs do not count).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal ('x' or '\n'); lifetimes ('a) are left alone.
            out.push_str("' '");
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Expand a `use` tree (`crate::{a::{b, c}, d}`) into full paths.
fn expand_use(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    fn go(prefix: &str, s: &str, out: &mut Vec<String>) {
        // Split `s` at top-level commas.
        let mut depth = 0;
        let mut start = 0;
        let bytes = s.as_bytes();
        let mut items = Vec::new();
        for (i, &c) in bytes.iter().enumerate() {
            match c {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b',' if depth == 0 => {
                    items.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&s[start..]);
        for item in items.into_iter().filter(|i| !i.is_empty()) {
            match item.find('{') {
                Some(b) => {
                    let head = item[..b].trim_end_matches("::");
                    let inner = &item[b + 1..item.len() - 1];
                    let p = join(prefix, head);
                    go(&p, inner, out);
                }
                None => {
                    let item = item.split(" as ").next().unwrap_or(item);
                    let item = item.split("as").next().unwrap_or(item);
                    out.push(join(prefix, item));
                }
            }
        }
    }
    fn join(a: &str, b: &str) -> String {
        match (a.is_empty(), b.is_empty()) {
            (true, _) => b.to_string(),
            (_, true) => a.to_string(),
            _ => format!("{a}::{b}"),
        }
    }
    let mut out = Vec::new();
    go("", &tree, &mut out);
    out
}

/// Module paths a file refers to, absolute (`kql::catalog::Type`), resolved from `crate::`,
/// `super::` and `self::` paths in `use` declarations and in code.
fn references(module: &str, is_mod_file: bool, code: &str) -> Vec<String> {
    let own: Vec<&str> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").collect()
    };
    // `self` of a file is its module; `super` is its parent.
    let resolve = |p: &str| -> Option<String> {
        let mut segs: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
        let mut base: Vec<&str> = match segs.first().copied() {
            Some("crate") => {
                segs.remove(0);
                Vec::new()
            }
            Some("self") => {
                segs.remove(0);
                own.clone()
            }
            Some("super") => {
                let mut b = own.clone();
                while segs.first() == Some(&"super") {
                    segs.remove(0);
                    b.pop();
                }
                b
            }
            _ => return None,
        };
        let _ = is_mod_file;
        base.extend(segs);
        Some(base.join("::"))
    };
    let mut out = Vec::new();
    // `use` declarations.
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = &rest[..i];
        let at_word = before.is_empty()
            || before.ends_with(|c: char| c.is_whitespace() || c == ';' || c == '{' || c == '}');
        rest = &rest[i + 4..];
        if !at_word {
            continue;
        }
        let end = rest.find(';').unwrap_or(rest.len());
        for p in expand_use(&rest[..end]) {
            if let Some(r) = resolve(&p) {
                out.push(r);
            }
        }
    }
    // Paths in code.
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            let prev = code[..at].chars().next_back();
            if prev.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = code[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            if let Some(r) = resolve(path.trim_end_matches(':')) {
                out.push(r);
            }
        }
    }
    out
}

/// The file-level module graph of `src/`: module → modules it imports.
fn graph_of_src() -> BTreeMap<String, BTreeSet<String>> {
    let src = common::manifest_dir().join("src");
    let files = rust_files(&src);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let m = module_of(&src, f);
        let text = std::fs::read_to_string(f).unwrap();
        // Tests inside a file are not part of its dependencies.
        let text = match text.find("#[cfg(test)]") {
            Some(i) => &text[..i],
            None => &text[..],
        };
        let code = code_only(text);
        let is_mod = f.ends_with("mod.rs") || f.ends_with("lib.rs");
        let deps = graph.entry(m.clone()).or_default();
        for r in references(&m, is_mod, &code) {
            // The longest module prefix of the path.
            let segs: Vec<&str> = r.split("::").collect();
            let target = (1..=segs.len())
                .rev()
                .map(|n| segs[..n].join("::"))
                .find(|p| modules.contains(p));
            if let Some(t) = target {
                if t != m {
                    deps.insert(t);
                }
            }
        }
    }
    graph
}

/// `a` is `b` or one of its ancestors.
fn ancestor(a: &str, b: &str) -> bool {
    a.is_empty() || a == b || b.starts_with(&format!("{a}::"))
}

/// The graph between sibling modules, at every level: each module with its descendants is one
/// unit (`kql::lints` stands for `kql::lints::cross_resource_query` too), and an edge joins two
/// units with the same parent when something in one imports something in the other. A parent
/// declaring and re-exporting its children is the parent's inside, not an edge.
fn sibling_graph(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in graph {
        out.entry(from.clone()).or_default();
        for to in tos {
            if ancestor(from, to) || ancestor(to, from) {
                continue;
            }
            // The deepest common ancestor; the units are its children on each side.
            let f: Vec<&str> = from.split("::").collect();
            let t: Vec<&str> = to.split("::").collect();
            let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
            let fu = f[..=common].join("::");
            let tu = t[..=common].join("::");
            out.entry(fu).or_default().insert(tu.clone());
            out.entry(tu).or_default();
        }
    }
    out
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let nodes: Vec<&String> = graph.keys().collect();
    let index_of: BTreeMap<&String, usize> =
        nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            graph[*n]
                .iter()
                .filter_map(|t| index_of.get(t).copied())
                .collect()
        })
        .collect();
    struct T<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(t: &mut T, v: usize) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on[v] = true;
        for &w in &t.edges[v].clone() {
            match t.index[w] {
                None => {
                    visit(t, w);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(iw) if t.on[w] => t.low[v] = t.low[v].min(iw),
                _ => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                t.out.push(comp);
            }
        }
    }
    let n = nodes.len();
    let mut t = T {
        edges: &edges,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(&mut t, v);
        }
    }
    let mut out: Vec<Vec<String>> = t
        .out
        .into_iter()
        .map(|c| {
            let mut names: Vec<String> = c.into_iter().map(|i| nodes[i].clone()).collect();
            names.sort();
            names
        })
        .collect();
    out.sort();
    out
}

#[test]
fn module_graph() {
    let graph = graph_of_src();
    let src = common::manifest_dir().join("src");
    println!("module graph of src/ ({} modules):", graph.len());
    for (m, deps) in &graph {
        let name = if m.is_empty() { "(crate)" } else { m };
        let deps: Vec<&str> = deps
            .iter()
            .map(|d| if d.is_empty() { "(crate)" } else { d.as_str() })
            .collect();
        println!("  {name} -> {}", deps.join(", "));
    }
    let mut sizes: Vec<(usize, String)> = rust_files(&src)
        .iter()
        .map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n, f.strip_prefix(&src).unwrap().display().to_string())
        })
        .collect();
    sizes.sort_by(|a, b| b.cmp(a));
    println!("largest files:");
    for (n, f) in sizes.iter().take(10) {
        println!("  {n:>5} src/{f}");
    }
    let cs = cycles(&sibling_graph(&graph));
    for c in &cs {
        println!("cycle: {}", c.join(" <-> "));
    }
    assert!(
        cs.is_empty(),
        "import cycles between modules (move the shared types down into their own file): {cs:?}"
    );
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.insert("a::x".into(), ["a::y".to_string()].into());
    g.insert("a::y".into(), ["a::x".to_string()].into());
    g.insert("a".into(), ["a::x".to_string()].into());
    g.insert("b".into(), ["a".to_string(), "c::z".to_string()].into());
    g.insert("c::z".into(), ["d".to_string()].into());
    g.insert("d".into(), ["b".to_string()].into());
    assert_eq!(
        cycles(&sibling_graph(&g)),
        vec![
            vec!["a::x".to_string(), "a::y".to_string()],
            vec!["b".to_string(), "c".to_string(), "d".to_string()]
        ]
    );
    let refs = references(
        "kql::binder",
        false,
        &code_only("use super::catalog::{Type, Schema};\nuse crate::{diagnostics::code, kql::lints};\nfn f() { crate::engine::run(); } // crate::yaml\n"),
    );
    assert!(refs.contains(&"kql::catalog::Type".to_string()), "{refs:?}");
    assert!(refs.contains(&"diagnostics::code".to_string()), "{refs:?}");
    assert!(refs.contains(&"kql::lints".to_string()), "{refs:?}");
    assert!(refs.contains(&"engine::run".to_string()), "{refs:?}");
    assert!(!refs.iter().any(|r| r.starts_with("yaml")), "{refs:?}");
}

/// Every leaf command path of the CLI (`kql check`, `schema pull`, `schema`).
fn command_paths() -> Vec<(String, clap::Command)> {
    let mut cli = vigil::cli::Cli::command();
    cli.build();
    let mut out = Vec::new();
    fn walk(prefix: &str, c: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
        for s in c.get_subcommands().filter(|s| s.get_name() != "help") {
            let path = if prefix.is_empty() {
                s.get_name().to_string()
            } else {
                format!("{prefix} {}", s.get_name())
            };
            let has_args = s
                .get_arguments()
                .any(|a| !a.is_global_set() && a.get_id() != "help" && a.get_id() != "version");
            let subs = s
                .get_subcommands()
                .filter(|x| x.get_name() != "help")
                .count();
            if subs == 0 || has_args {
                out.push((path.clone(), s.clone()));
            }
            walk(&path, s, out);
        }
    }
    walk("", &cli, &mut out);
    out
}

#[test]
fn every_command_calls_an_operation() {
    let root = common::manifest_dir();
    let ops = vigil::cli::OPERATIONS;
    for (path, _) in command_paths() {
        let Some((_, op)) = ops.iter().find(|(p, _)| *p == path) else {
            panic!("`vigil {path}` has no operation in cli::OPERATIONS (add one in src/ops/)");
        };
        // ops::FILE::FUNCTION exists, and the command's file calls it.
        let parts: Vec<&str> = op.split("::").collect();
        assert_eq!(parts.len(), 3, "{op}");
        let (file, func) = (parts[1], parts[2]);
        let text = std::fs::read_to_string(root.join(format!("src/ops/{file}.rs")))
            .or_else(|_| std::fs::read_to_string(root.join(format!("src/ops/{file}/mod.rs"))))
            .unwrap_or_else(|_| {
                panic!("{op}: src/ops/{file}.rs (or {file}/mod.rs) does not exist")
            });
        assert!(
            text.contains(&format!("pub fn {func}(")),
            "{op}: no `pub fn {func}` in src/ops/{file}"
        );
        let calls = rust_files(&root.join("src/cli/commands")).iter().any(|f| {
            let t = std::fs::read_to_string(f).unwrap();
            t.contains(&format!("{file}::{func}("))
        });
        assert!(calls, "no command file calls {op}");
    }
    for (p, _) in ops {
        assert!(
            command_paths().iter().any(|(c, _)| c == p),
            "cli::OPERATIONS names `{p}`, which is not a command"
        );
    }
}

#[test]
fn the_cli_does_not_reach_past_its_edge() {
    // The CLI parses, renders and writes the report files asked for; reading the repository,
    // git and the network belong to the operations.
    let root = common::manifest_dir();
    let forbidden = [
        "std::fs::read",
        "fs::read_to_string(",
        "read_dir(",
        "crate::git::",
        "git2::",
        "reqwest",
        "TcpStream",
        "crate::azure::",
        "crate::workspace::",
        "crate::pipeline::",
        "std::env::var(",
        "std::process::exit",
    ];
    for f in rust_files(&root.join("src/cli")) {
        let code = code_only(&std::fs::read_to_string(&f).unwrap());
        for bad in forbidden {
            assert!(
                !code.contains(bad),
                "{} uses `{bad}`: move it into an operation (src/ops/)",
                f.display()
            );
        }
    }
    // Operations never print and never exit.
    for f in rust_files(&root.join("src/ops")) {
        let code = code_only(&std::fs::read_to_string(&f).unwrap());
        for bad in [
            "println!",
            "eprintln!",
            "print!(",
            "eprint!(",
            "std::process::exit",
            "std::io::stdout",
            "std::io::stderr",
        ] {
            assert!(!code.contains(bad), "{} uses `{bad}`", f.display());
        }
    }
}

/// The README section under `heading` (up to the next `## `).
fn readme_section(heading: &str) -> String {
    let text = std::fs::read_to_string(common::manifest_dir().join("README.md")).unwrap();
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("README has no `{heading}`"));
    let rest = &text[start + heading.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_string()
}

#[test]
fn the_readme_names_every_command_once_with_all_its_flags() {
    let commands = command_paths();
    let mut cli = vigil::cli::Cli::command();
    cli.build();
    let globals: BTreeSet<String> = cli
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    let section = readme_section("## Commands");
    let rows: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("| `vigil "))
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for row in &rows {
        let first = row.split(" | ").next().unwrap();
        // The backticked invocations of the row's first cell.
        let invocations: Vec<&str> = first
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, s)| s)
            .filter(|s| s.starts_with("vigil "))
            .collect();
        let mut row_cmds = BTreeSet::new();
        for inv in &invocations {
            let words: Vec<&str> = inv.split_whitespace().skip(1).collect();
            let path = commands
                .iter()
                .map(|(p, _)| p)
                .filter(|p| {
                    let pw: Vec<&str> = p.split(' ').collect();
                    words.len() >= pw.len() && words[..pw.len()] == pw[..]
                })
                .max_by_key(|p| p.len())
                .unwrap_or_else(|| panic!("README row names no command: {inv}"));
            row_cmds.insert(path.clone());
        }
        for path in &row_cmds {
            *seen.entry(path.clone()).or_default() += 1;
            let cmd = &commands.iter().find(|(p, _)| p == path).unwrap().1;
            let known: BTreeSet<String> = cmd
                .get_arguments()
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .filter(|f| !globals.contains(f) && f != "--help")
                .collect();
            let named: BTreeSet<String> = first
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .filter(|w| w.starts_with("--"))
                .map(String::from)
                .collect();
            for f in &named {
                assert!(
                    known.contains(f) || globals.contains(f),
                    "README names `{f}` for `vigil {path}`, which has no such flag"
                );
            }
            for f in &known {
                assert!(
                    named.contains(f),
                    "README's row for `vigil {path}` lacks `{f}`"
                );
            }
        }
    }
    for (path, _) in &commands {
        assert_eq!(
            seen.get(path).copied().unwrap_or(0),
            1,
            "`vigil {path}` must have exactly one row in README's command table"
        );
    }
}

#[test]
fn the_readme_code_tables_match_the_catalog() {
    let catalog: BTreeSet<&str> = vigil::diagnostics::CATALOG.iter().map(|c| c.code).collect();
    for (heading, prefix) in [
        ("## KQL checks", "KQL3"),
        ("## Policy: AI provenance", "POL"),
    ] {
        let section = readme_section(heading);
        let listed: BTreeSet<String> = section
            .lines()
            .filter(|l| l.starts_with(&format!("| {prefix}")))
            .map(|l| l[2..].split(' ').next().unwrap().to_string())
            .collect();
        for c in &listed {
            assert!(
                catalog.contains(c.as_str()),
                "README lists {c}, which the catalog lacks"
            );
        }
        for c in catalog.iter().filter(|c| c.starts_with(prefix)) {
            assert!(
                listed.contains(*c),
                "README's table under `{heading}` lacks {c}"
            );
        }
    }
}

/// Each command describes itself: its about text is its own (a doc comment on a flattened
/// argument struct would otherwise become the about of every command that flattens it).
#[test]
fn every_command_has_its_own_about() {
    let mut cli = vigil::cli::Cli::command();
    cli.build();
    let top = cli.get_about().map(|a| a.to_string()).unwrap_or_default();
    assert!(top.contains("Sentinel"), "vigil's about: {top:?}");
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    fn walk(prefix: &str, c: &clap::Command, seen: &mut BTreeMap<String, String>) {
        for s in c.get_subcommands().filter(|s| s.get_name() != "help") {
            let path = format!("{prefix}{} ", s.get_name());
            let about = s.get_about().map(|a| a.to_string()).unwrap_or_default();
            assert!(!about.is_empty(), "`{path}` has no about");
            if let Some(other) = seen.insert(about.clone(), path.clone()) {
                panic!("`{path}` and `{other}` share the about {about:?}");
            }
            walk(&path, s, seen);
        }
    }
    walk("", &cli, &mut seen);
}
