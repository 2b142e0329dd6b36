//! Deterministic classification: the folder decides the content kind.
//!
//! The deepest directory of a file's path that matches a configured folder name (compared
//! case-insensitively) decides. Outside every configured folder, a file whose `kind` is
//! `Scheduled` or `NRT` is a rule; anything else is unclassified (VG112).

use std::path::Path;

use super::ContentKind;
use crate::config::ContentFolders;

/// The kind given by the folders of `path`, if any.
pub fn by_folder(path: &Path, folders: &ContentFolders) -> Option<ContentKind> {
    let dirs: Vec<String> = path
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(s) => Some(s.to_string_lossy().to_lowercase()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    for dir in dirs.iter().rev() {
        let kinds = [
            (ContentKind::Rule, &folders.rules),
            (ContentKind::Hunt, &folders.hunts),
            (ContentKind::Function, &folders.functions),
            (ContentKind::Anomaly, &folders.anomalies),
            (ContentKind::Watchlist, &folders.watchlists),
        ];
        for (kind, names) in kinds {
            if names.iter().any(|n| n.to_lowercase() == *dir) {
                return Some(kind);
            }
        }
    }
    None
}

/// Whether a path looks like a content file (`.yaml`/`.yml`, not a `*.tests.yaml` sidecar).
pub fn is_content_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    (name.ends_with(".yaml") || name.ends_with(".yml"))
        && !name.ends_with(".tests.yaml")
        && !name.ends_with(".tests.yml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepest_folder_wins() {
        let f = ContentFolders::default();
        let k = |p: &str| by_folder(Path::new(p), &f);
        assert_eq!(k("detections/a.yaml"), Some(ContentKind::Rule));
        assert_eq!(
            k("Solutions/X/Analytic Rules/a.yaml"),
            Some(ContentKind::Rule)
        );
        assert_eq!(
            k("Hunting Queries/Microsoft 365 Defender/AV Detections/a.yaml"),
            Some(ContentKind::Hunt)
        );
        assert_eq!(
            k("Detections/Hunting Queries/a.yaml"),
            Some(ContentKind::Hunt)
        );
        assert_eq!(k("watchlists/a.yaml"), Some(ContentKind::Watchlist));
        assert_eq!(k("misc/a.yaml"), None);
        // The file name never decides.
        assert_eq!(k("misc/Detections.yaml"), None);
    }
}
