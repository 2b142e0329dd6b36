//! The content model: what a definition file means.
//!
//! Stage entry: [`load::load`] turns one file's text into a [`Definition`] (the typed item next
//! to its span-bearing YAML tree) plus diagnostics. The model does not parse KQL and does no
//! IO of its own: sibling files (watchlist CSVs) come in through [`load::SiblingReader`].

pub mod classify;

pub mod duration;
pub mod footer;
pub mod load;
pub mod schema;
pub mod types;

use std::path::PathBuf;

use crate::source::{FileId, Span};
use crate::yaml::Node;

pub use types::*;

/// The five kinds of content vigil manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContentKind {
    Rule = 0,
    Hunt = 1,
    Function = 2,
    Anomaly = 3,
    Watchlist = 4,
}

impl ContentKind {
    pub const ALL: [ContentKind; 5] = [
        ContentKind::Rule,
        ContentKind::Hunt,
        ContentKind::Function,
        ContentKind::Anomaly,
        ContentKind::Watchlist,
    ];

    /// Short name used in file names, JSON and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Rule => "rule",
            ContentKind::Hunt => "hunt",
            ContentKind::Function => "function",
            ContentKind::Anomaly => "anomaly",
            ContentKind::Watchlist => "watchlist",
        }
    }

    /// Plural folder name used in compiled output.
    pub fn plural(self) -> &'static str {
        match self {
            ContentKind::Rule => "rules",
            ContentKind::Hunt => "hunts",
            ContentKind::Function => "functions",
            ContentKind::Anomaly => "anomalies",
            ContentKind::Watchlist => "watchlists",
        }
    }

    pub fn parse(s: &str) -> Option<ContentKind> {
        ContentKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Watchlist rows, read from inline `items` or the CSV file named by `source`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct WatchlistItems {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A loaded item of one kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Rule(Box<Rule>),
    Hunt(Box<Hunt>),
    Function(Box<Function>),
    Anomaly(Box<Anomaly>),
    Watchlist(Box<Watchlist>, WatchlistItems),
}

/// Spans of the keys that repository-wide checks point at; kept when the tree is released.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct KeySpans {
    pub id: Span,
    pub name: Span,
    pub kind: Span,
    /// `functionAlias` or `alias`.
    pub alias: Span,
}

/// One definition: the typed item, where it came from, and its YAML tree for spans.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    pub file: FileId,
    pub path: PathBuf,
    /// The YAML tree; empty once released after validation (see `pipeline::check`).
    pub doc: Node,
    pub spans: KeySpans,
    pub item: Item,
}

impl Definition {
    pub fn kind(&self) -> ContentKind {
        match &self.item {
            Item::Rule(_) => ContentKind::Rule,
            Item::Hunt(_) => ContentKind::Hunt,
            Item::Function(_) => ContentKind::Function,
            Item::Anomaly(_) => ContentKind::Anomaly,
            Item::Watchlist(..) => ContentKind::Watchlist,
        }
    }

    /// The resource name in Sentinel: the id (the alias for watchlists).
    pub fn resource_name(&self) -> &str {
        match &self.item {
            Item::Rule(r) => &r.id,
            Item::Hunt(h) => &h.id,
            Item::Function(f) => &f.id,
            Item::Anomaly(a) => &a.id,
            Item::Watchlist(w, _) => &w.alias,
        }
    }

    /// The GUID id, where the kind has one.
    pub fn id(&self) -> Option<&str> {
        match &self.item {
            Item::Rule(r) => Some(&r.id),
            Item::Hunt(h) => Some(&h.id),
            Item::Function(f) => Some(&f.id),
            Item::Anomaly(a) => Some(&a.id),
            Item::Watchlist(w, _) => w.id.as_deref(),
        }
    }

    pub fn name(&self) -> &str {
        match &self.item {
            Item::Rule(r) => &r.name,
            Item::Hunt(h) => &h.name,
            Item::Function(f) => &f.name,
            Item::Anomaly(a) => &a.name,
            Item::Watchlist(w, _) => &w.name,
        }
    }

    /// The KQL query, for kinds that have one.
    pub fn query(&self) -> Option<&str> {
        match &self.item {
            Item::Rule(r) => Some(&r.query),
            Item::Hunt(h) => Some(&h.query),
            Item::Function(f) => Some(&f.query),
            Item::Anomaly(_) | Item::Watchlist(..) => None,
        }
    }

    pub fn provenance(&self) -> Option<&Provenance> {
        match &self.item {
            Item::Rule(r) => r.provenance.as_ref(),
            Item::Hunt(h) => h.provenance.as_ref(),
            Item::Function(f) => f.provenance.as_ref(),
            Item::Anomaly(a) => a.provenance.as_ref(),
            Item::Watchlist(w, _) => w.provenance.as_ref(),
        }
    }

    /// The provenance block, to replace (the gate governs a relabelled definition by its base's
    /// provenance).
    pub fn provenance_mut(&mut self) -> &mut Option<Provenance> {
        match &mut self.item {
            Item::Rule(r) => &mut r.provenance,
            Item::Hunt(h) => &mut h.provenance,
            Item::Function(f) => &mut f.provenance,
            Item::Anomaly(a) => &mut a.provenance,
            Item::Watchlist(w, _) => &mut w.provenance,
        }
    }

    pub fn review(&self) -> Option<&Review> {
        match &self.item {
            Item::Rule(r) => r.review.as_ref(),
            Item::Hunt(h) => h.review.as_ref(),
            Item::Function(f) => f.review.as_ref(),
            Item::Anomaly(a) => a.review.as_ref(),
            Item::Watchlist(w, _) => w.review.as_ref(),
        }
    }

    /// `rollout`, where the kind has one (rules and hunts).
    pub fn rollout(&self) -> Option<Rollout> {
        match &self.item {
            Item::Rule(r) => r.rollout,
            Item::Hunt(h) => h.rollout,
            _ => None,
        }
    }

    pub fn environments(&self) -> Option<&indexmap::IndexMap<String, EnvOverride>> {
        match &self.item {
            Item::Rule(r) => r.environments.as_ref(),
            Item::Hunt(h) => h.environments.as_ref(),
            Item::Anomaly(a) => a.environments.as_ref(),
            Item::Function(_) | Item::Watchlist(..) => None,
        }
    }

    /// `version`, where the kind has one.
    pub fn version(&self) -> Option<&str> {
        match &self.item {
            Item::Rule(r) => r.version.as_deref(),
            Item::Hunt(h) => h.version.as_deref(),
            Item::Function(f) => f.version.as_deref(),
            Item::Anomaly(a) => Some(&a.anomaly_version),
            Item::Watchlist(..) => None,
        }
    }
}
