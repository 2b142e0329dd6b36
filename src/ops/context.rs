//! The one context a command runs in, built once per run: the repository root, its
//! configuration (read and checked once), the process environment as a function, the
//! credentials and deploy sessions of environments, the embedded emulator, and the reporter
//! that carries notes and progress to the edge.
//!
//! Operations take a `&Context` and never read `vigil.toml`, the process environment or the
//! current folder themselves.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::azure::{self, Credential};
use crate::config::Config;
use crate::deploy::env::{self, Auth, Environment};
use crate::deploy::{DeployError, Session};
use crate::diagnostics::code;
use crate::model::load::FsReader;
use crate::source::SourceDb;
use crate::workspace::{self, Workspace};

use super::{Failure, OpError};

/// Reads a process environment variable.
pub type EnvReader = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A progress indicator of a long operation.
pub trait Progress: Send + Sync {
    fn inc(&self, n: u64);
    fn finish(&self);
}

/// Where operations send what is not their result: notes (shown with `--verbose`), warnings,
/// and progress. The CLI implements it on stderr; [`Silent`] drops everything.
pub trait Reporter: Send + Sync {
    /// Something the user asked to see with `--verbose`.
    fn note(&self, message: &str);
    /// Something the user should see even without `--verbose` (unless `--quiet`).
    fn warn(&self, message: &str);
    /// A progress indicator for `total` steps of `label`.
    fn progress(&self, label: &str, total: u64) -> Box<dyn Progress>;
}

/// A reporter that shows nothing (tests, library use).
pub struct Silent;

struct NoProgress;

impl Progress for NoProgress {
    fn inc(&self, _: u64) {}
    fn finish(&self) {}
}

impl Reporter for Silent {
    fn note(&self, _: &str) {}
    fn warn(&self, _: &str) {}
    fn progress(&self, _: &str, _: u64) -> Box<dyn Progress> {
        Box::new(NoProgress)
    }
}

/// Where the trusted side's files are.
#[derive(Clone, Debug)]
pub enum TrustedRoot {
    /// A folder (the base branch's checkout, holding the trusted vigil.toml).
    Dir(PathBuf),
    /// A git ref of the repository (the base commit).
    GitRef(String),
}

/// Read and check a configuration file named by the user or the workflow (a trusted
/// configuration): any problem is an `Invalid` error located in that file.
pub fn load_config_file(p: &Path) -> Result<Config, OpError> {
    let text = std::fs::read_to_string(p).map_err(|e| {
        OpError::usage(format!(
            "cannot read the configuration {}: {e}",
            p.display()
        ))
    })?;
    let (config, diags) = crate::config::parse(crate::source::FileId(0), &text);
    if !diags.is_empty() {
        let mut db = SourceDb::new();
        db.add(p.to_path_buf(), text.as_str());
        let n = diags.len();
        return Err(OpError::invalid(
            format!("{} has {n} problem(s); nothing was run", p.display()),
            db,
            diags,
        )
        .with_code(code::CONFIG_ERROR));
    }
    Ok(config)
}

/// How to build a [`Context`].
pub struct ContextOptions {
    /// The folder relative paths are resolved against (the process's current folder, or `-C DIR`).
    pub cwd: PathBuf,
    /// Show notes (`--verbose`).
    pub verbose: bool,
    /// Show only findings and errors (`--quiet`): no warnings, no progress.
    pub quiet: bool,
    pub env: EnvReader,
    pub reporter: Arc<dyn Reporter>,
}

impl ContextOptions {
    /// Options for a repository folder, reading the real process environment, reporting nothing.
    pub fn new(cwd: impl Into<PathBuf>) -> ContextOptions {
        ContextOptions {
            cwd: cwd.into(),
            verbose: false,
            quiet: false,
            env: Arc::new(|k: &str| std::env::var(k).ok()),
            reporter: Arc::new(Silent),
        }
    }
}

/// The context of one run.
pub struct Context {
    cwd: PathBuf,
    /// The repository root: the nearest folder holding `vigil.toml`, from `cwd` up.
    pub root: PathBuf,
    /// The configuration this run uses, checked (a broken file never gets this far): the
    /// repository's, with every trust-deciding key from the trusted configuration when one is
    /// given (`config::with_trusted`).
    pub config: Config,
    /// The repository's own configuration, as its `vigil.toml` says.
    pub repo_config: Config,
    /// Where the trusted configuration came from (a file, a base ref), when there is one.
    pub trusted_from: Option<String>,
    /// Where trusted templates are read (the trusted configuration's folder, or the base
    /// ref): the PR comment the trusted job publishes is not the pull request's to shape.
    trusted_root: Option<TrustedRoot>,
    /// The repository's trust-deciding keys that differ from the trusted configuration: reported
    /// by the gate, never applied.
    pub trust_changes: Vec<crate::config::TrustChange>,
    /// The text of `vigil.toml`, when there is one (file 0 of every workspace's source db).
    config_text: Option<Arc<str>>,
    pub verbose: bool,
    pub quiet: bool,
    env: EnvReader,
    reporter: Arc<dyn Reporter>,
    embedded: OnceLock<crate::emulator::Emulator>,
    started: std::time::Instant,
}

impl Context {
    /// Find the repository from `o.cwd`, read and check its `vigil.toml`. Any problem in the
    /// file is an [`Failure::Invalid`] error with located diagnostics: no command runs over a
    /// configuration it cannot read exactly.
    pub fn open(o: ContextOptions) -> Result<Context, OpError> {
        if !o.cwd.is_dir() {
            return Err(OpError::usage(format!(
                "{} is not a folder",
                o.cwd.display()
            )));
        }
        let root = workspace::find_root(&o.cwd);
        let (config, config_text) = match std::fs::read_to_string(root.join("vigil.toml")) {
            Ok(text) => {
                let text: Arc<str> = text.into();
                let (config, diags) = crate::config::parse(crate::source::FileId(0), &text);
                if !diags.is_empty() {
                    let mut db = SourceDb::new();
                    db.add("vigil.toml", text.clone());
                    let n = diags.len();
                    return Err(OpError::invalid(
                        format!("vigil.toml has {n} problem(s); nothing was run (fix them, then run again)"),
                        db,
                        diags,
                    )
                    .with_code(code::CONFIG_ERROR));
                }
                (config, Some(text))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Config::default(), None),
            Err(e) => {
                return Err(OpError::new(
                    Failure::Invalid,
                    format!("cannot read {}: {e}", root.join("vigil.toml").display()),
                )
                .with_code(code::CONFIG_ERROR))
            }
        };
        let mut cx = Context {
            cwd: o.cwd,
            root,
            repo_config: config.clone(),
            config,
            trusted_from: None,
            trusted_root: None,
            trust_changes: Vec::new(),
            config_text,
            verbose: o.verbose,
            quiet: o.quiet,
            env: o.env,
            reporter: o.reporter,
            embedded: OnceLock::new(),
            started: std::time::Instant::now(),
        };
        // The workflow names the trusted configuration (the base branch's vigil.toml) for
        // every command of a run.
        if let Some(p) = cx.var("VIGIL_TRUSTED_CONFIG").filter(|p| !p.is_empty()) {
            let trusted = load_config_file(Path::new(&p))?;
            let dir = Path::new(&p)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            cx.set_trusted(trusted, p, TrustedRoot::Dir(dir));
        }
        crate::engine::budget::set_default(cx.config.engine.budget());
        Ok(cx)
    }

    /// Take every trust-deciding key from `trusted` (see `config::with_trusted`); `from` says
    /// where it came from.
    pub fn set_trusted(&mut self, trusted: Config, from: String, root: TrustedRoot) {
        self.trusted_root = Some(root);
        let (eff, changes) =
            crate::config::with_trusted(&self.repo_config, self.config_text.as_deref(), &trusted);
        self.config = eff;
        self.trust_changes = changes;
        self.trusted_from = Some(from);
        crate::engine::budget::set_default(self.config.engine.budget());
    }

    /// Whether this run has used up its time budget (`[engine] run_timeout_secs`): the rules
    /// and tests not yet run are reported "not run", never passed.
    /// When the run's time budget (`[engine] run_timeout_secs`) ends.
    pub fn run_deadline(&self) -> std::time::Instant {
        self.started + std::time::Duration::from_secs(self.config.engine.run_timeout_secs)
    }

    pub fn out_of_run_time(&self) -> bool {
        self.started.elapsed().as_secs() >= self.config.engine.run_timeout_secs
    }

    /// The message for work skipped because the run is out of time.
    pub fn out_of_run_time_message(&self) -> String {
        format!(
            "not run: the run exceeded its time budget ({} s, [engine] run_timeout_secs)",
            self.config.engine.run_timeout_secs
        )
    }

    /// A copy of this context (its own embedded emulator), to change the configuration of.
    pub fn derive(&self) -> Context {
        Context {
            cwd: self.cwd.clone(),
            root: self.root.clone(),
            config: self.config.clone(),
            repo_config: self.repo_config.clone(),
            trusted_from: self.trusted_from.clone(),
            trusted_root: self.trusted_root.clone(),
            trust_changes: self.trust_changes.clone(),
            config_text: self.config_text.clone(),
            verbose: self.verbose,
            quiet: self.quiet,
            env: self.env.clone(),
            reporter: self.reporter.clone(),
            embedded: OnceLock::new(),
            started: self.started,
        }
    }

    /// The text of the repository's `vigil.toml`, when there is one.
    pub fn config_text(&self) -> Option<&str> {
        self.config_text.as_deref()
    }

    /// A user-given path, resolved against the folder the command runs in.
    pub fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        }
    }

    /// User-given paths, resolved.
    pub fn paths(&self, ps: &[PathBuf]) -> Vec<PathBuf> {
        ps.iter().map(|p| self.path(p)).collect()
    }

    /// A process environment variable.
    pub fn var(&self, key: &str) -> Option<String> {
        (self.env)(key)
    }

    /// The environment reader, for code that takes one.
    pub fn env_reader(&self) -> EnvReader {
        self.env.clone()
    }

    pub fn note(&self, message: &str) {
        if self.verbose {
            self.reporter.note(message);
        }
    }

    pub fn warn(&self, message: &str) {
        if !self.quiet {
            self.reporter.warn(message);
        }
    }

    pub fn progress(&self, label: &str, total: u64) -> Box<dyn Progress> {
        if self.quiet {
            return Box::new(NoProgress);
        }
        self.reporter.progress(label, total)
    }

    /// The whole repository, with `extra` files (paths given on the command line that
    /// discovery would not find) added. Paths narrow what a command reports, never what it
    /// knows: the repository's functions, watchlists and configuration are always loaded.
    pub fn workspace_with(&self, extra: &[PathBuf]) -> Workspace {
        let mut paths = vec![self.root.clone()];
        paths.extend(
            extra
                .iter()
                .filter(|p| !p.is_dir())
                .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone())),
        );
        workspace::open_with(
            &self.root,
            &paths,
            &self.config,
            self.config_text.as_deref(),
        )
    }

    /// The whole repository.
    pub fn workspace(&self) -> Workspace {
        self.workspace_with(&[])
    }

    /// Reads files beside definitions (watchlist CSVs) from the work tree.
    pub fn siblings(&self) -> FsReader {
        FsReader {
            root: self.root.clone(),
        }
    }

    /// The `[ai.redact]` rules (the configuration check has compiled them already).
    pub fn redactor(&self) -> crate::redact::Redactor {
        crate::redact::Redactor::new(&self.config.ai.redact).unwrap_or_default()
    }

    /// Resolved `[sandbox]` settings.
    pub fn sandbox(&self) -> crate::sandbox::SandboxConfig {
        crate::sandbox::SandboxConfig::from_config(&self.config)
    }

    /// The repository's sandbox data folder (`[sandbox] data`): relative, inside the repository
    /// after symbolic links (it need not exist yet).
    pub fn sandbox_dir(&self) -> Result<PathBuf, OpError> {
        let data = self.sandbox().data;
        let named = data.to_string_lossy().into_owned();
        match crate::paths::contained(&self.root, Path::new(""), &named) {
            Ok(p) => Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(self.root.join(&data)),
            Err(e) => Err(OpError::new(
                Failure::Invalid,
                format!("vigil.toml [sandbox] data: {e}"),
            )
            .with_code(code::PATH_OUTSIDE_REPOSITORY)),
        }
    }

    /// Templates with the repository's overrides (`templates/<name>`); with a trusted
    /// configuration, the trusted side's overrides instead (the base branch's templates).
    pub fn templates(&self) -> Result<crate::compile::templates::Templates, OpError> {
        let mut t = crate::compile::templates::Templates::new();
        for name in [
            crate::compile::templates::ARM_TEMPLATE,
            crate::compile::templates::SUMMARY,
            crate::compile::templates::GATE_COMMENT,
            crate::compile::templates::PLAN,
        ] {
            let rel = format!("templates/{name}");
            let text = match &self.trusted_root {
                None => crate::paths::read_contained(&self.root, Path::new(""), &rel, 1 << 20).ok(),
                Some(TrustedRoot::Dir(d)) => std::fs::read_to_string(self.path(d).join(&rel)).ok(),
                Some(TrustedRoot::GitRef(r)) => {
                    crate::git::file_at(&self.root, r, &rel).ok().flatten()
                }
            };
            if let Some(text) = text {
                t.set(name, &text)
                    .map_err(|e| OpError::new(Failure::Invalid, format!("{rel}: {e}")))?;
            }
        }
        Ok(t)
    }

    /// An environment of vigil.toml (or the built-in `local`), with the embedded emulator
    /// started when it points at an emulator nobody runs.
    pub fn environment(&self, name: &str) -> Result<Environment, OpError> {
        let get = |k: &str| self.var(k);
        let mut envr = env::resolve(&self.config, name, &self.root, &get)
            .map_err(|m| OpError::from(DeployError::new(code::DEP_ENVIRONMENT, m)))?;
        self.ensure_emulator(&mut envr)?;
        Ok(envr)
    }

    /// The credential an environment uses.
    pub fn credential(&self, envr: &Environment) -> Result<Credential, OpError> {
        let get = |k: &str| self.var(k);
        Ok(match envr.auth {
            Auth::None => match self.var("VIGIL_AZURE_TOKEN").filter(|t| !t.is_empty()) {
                Some(t) => Credential::Static(azure::auth::Secret::new(t)),
                None => Credential::None,
            },
            Auth::Azure => azure::auth::from_env(&get)
                .map_err(|m| OpError::from(DeployError::new(code::DEP_CREDENTIAL, m)))?,
        })
    }

    /// A deploy session on an environment.
    pub fn session(&self, name: &str) -> Result<Session, OpError> {
        let envr = self.environment(name)?;
        let credential = self.credential(&envr)?;
        self.note(&format!(
            "vigil: environment `{}`: {} workspace(s) at {} ({})",
            envr.name,
            envr.workspaces.len(),
            envr.endpoint,
            credential.name()
        ));
        let owner = format!("vigil:{}", self.config.project.id);
        let hosts = envr.token_hosts.clone();
        let mut s = Session::new(envr, self.root.clone(), owner, credential);
        s.arm = s.arm.clone().with_token_hosts(hosts);
        if let Some(k) = self
            .var("VIGIL_TEST_KILL_AFTER_STEP")
            .and_then(|v| v.parse::<u64>().ok())
        {
            s.on_step = Some(Arc::new(move |n| {
                if n == k {
                    // SAFETY: sending SIGKILL to ourselves; a test hook that simulates kill -9.
                    unsafe {
                        libc::kill(libc::getpid(), libc::SIGKILL);
                    }
                }
            }));
        }
        Ok(s)
    }

    /// A Log Analytics query API client for an environment.
    pub fn query_client(&self, envr: &Environment) -> Result<azure::Client, OpError> {
        let credential = self.credential(envr)?;
        Ok(azure::Client::new(
            &envr.query_endpoint,
            azure::query::SCOPE,
            credential,
            envr.concurrency.max(1),
            azure::RetryPolicy::default(),
        )
        .with_token_hosts(envr.token_hosts.clone()))
    }

    /// The embedded default: when an environment points at the emulator, no emulator answers
    /// there and `VIGIL_EMULATOR` is not set, start one inside this process for the command
    /// (same state folder, `.vigil/emulator`, so state persists between commands; the query API
    /// answers from the sandbox). A running `vigil emulate` is always preferred.
    fn ensure_emulator(&self, envr: &mut Environment) -> Result<(), OpError> {
        if !envr.emulator || self.var("VIGIL_EMULATOR").is_some_and(|v| !v.is_empty()) {
            return Ok(());
        }
        let addr = envr
            .endpoint
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_string();
        let reachable = std::net::ToSocketAddrs::to_socket_addrs(&addr.as_str())
            .ok()
            .and_then(|mut a| a.next())
            .is_some_and(|sa| {
                std::net::TcpStream::connect_timeout(&sa, std::time::Duration::from_millis(300))
                    .is_ok()
            });
        if reachable {
            return Ok(());
        }
        let emu = match self.embedded.get() {
            Some(e) => e,
            None => {
                let opts = crate::emulator::Options {
                    state: Some(self.root.join(env::EMULATOR_STATE)),
                    engine: self.sandbox_engine(),
                    ..crate::emulator::Options::default()
                };
                let e = crate::emulator::start("127.0.0.1:0", opts).map_err(|e| {
                    OpError::from(DeployError::new(
                        code::DEP_ENVIRONMENT,
                        format!("starting the embedded emulator: {e}"),
                    ))
                })?;
                let _ = self.embedded.set(e);
                self.embedded.get().expect("just set")
            }
        };
        self.note(&format!(
            "vigil: no emulator at {addr}; using an embedded one on {} (state in {})",
            emu.url(),
            env::EMULATOR_STATE
        ));
        envr.endpoint = emu.url();
        envr.query_endpoint = emu.url();
        Ok(())
    }

    /// The embedded engine over the repository's sandbox (data folder, functions,
    /// watchlists), for the emulator's query API.
    pub fn sandbox_engine(&self) -> Arc<dyn crate::emulator::QueryEngine> {
        self.sandbox_engine_over(None)
    }

    /// [`Context::sandbox_engine`] over another data folder (`vigil emulate --data DIR`: a
    /// folder the user names, not contained in the repository).
    pub fn sandbox_engine_over(
        &self,
        data: Option<&Path>,
    ) -> Arc<dyn crate::emulator::QueryEngine> {
        let ws = self.workspace();
        let cfg = self.sandbox();
        let checked = crate::pipeline::check(&ws, &self.siblings(), None);
        let dir = match data {
            Some(d) => self.path(d),
            None => self
                .sandbox_dir()
                .unwrap_or_else(|_| self.root.join("sandbox")),
        };
        // The repository's folder is read only inside the repository; a folder the user names
        // on the command line is theirs.
        let data = match data {
            Some(_) => crate::sandbox::with_geoip(
                crate::sandbox::for_definitions(&dir, &checked.definitions, &self.config.schemas),
                &self.root,
                &self.config,
            ),
            None => {
                crate::sandbox::for_repository(&self.root, &dir, &checked.definitions, &self.config)
            }
        };
        Arc::new(crate::sandbox::SandboxEngine::new(data, cfg.now))
    }
}
