//! Review confirmation (POL010): a `review.approved_by` login counts only when GitHub's record
//! of the pull request shows that person's approving review on the head commit, the person is
//! allowed to approve the file (CODEOWNERS of the base commit, or `[policy.review] reviewers`),
//! and is neither the pull request's author nor the content's generator.
//!
//! Pure: the pull request comes in as data ([`PullRequest`]); `gate::github` fetches it.

use serde::{Deserialize, Serialize};

use super::codeowners::{self, CodeOwners};
use crate::config::ReviewPolicy;
use crate::model::{Provenance, Review};

/// What the gate needs to know about the pull request.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct PullRequest {
    pub number: u64,
    /// The login that opened it.
    pub author: String,
    pub head_sha: String,
    pub base_sha: String,
    /// Every review, in the order GitHub returns them (oldest first).
    pub reviews: Vec<PrReview>,
    /// CODEOWNERS text at the base commit, if the repository has one.
    pub codeowners: Option<String>,
    /// Members of the teams CODEOWNERS names (`org/team`, lowercase → logins), as GitHub
    /// listed them; a team missing here could not be read (the token lacks `read:org`).
    #[serde(default)]
    pub team_members: std::collections::BTreeMap<String, Vec<String>>,
}

/// Whether `login` is `owner`, or a member of the team `owner` names.
fn owns(pr: &PullRequest, owner: &str, login: &str) -> bool {
    if codeowners::names_login(owner, login) {
        return true;
    }
    codeowners::is_team(owner)
        && pr
            .team_members
            .get(&owner.trim_start_matches('@').to_ascii_lowercase())
            .is_some_and(|m| m.iter().any(|x| x.eq_ignore_ascii_case(login)))
}

/// One submitted review.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct PrReview {
    pub login: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
    /// The commit the review was made on.
    pub commit_id: String,
    #[serde(default)]
    pub submitted_at: Option<String>,
    /// `OWNER`, `MEMBER`, `COLLABORATOR`, `CONTRIBUTOR`, `NONE`, ...
    #[serde(default)]
    pub author_association: String,
}

/// The outcome for one login of `review.approved_by`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Confirmation {
    pub login: String,
    pub confirmed: bool,
    /// Why, in a sentence.
    pub reason: String,
    /// The approving review that confirms it (commit and time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<String>,
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// Confirm each login of a definition's `review.approved_by` against the pull request.
/// `path` is the definition's repository-relative path (for CODEOWNERS).
pub fn confirm(
    path: &str,
    review: &Review,
    provenance: Option<&Provenance>,
    pr: &PullRequest,
    policy: &ReviewPolicy,
) -> Vec<Confirmation> {
    let owners_file = if policy.codeowners {
        pr.codeowners.as_deref().map(CodeOwners::parse)
    } else {
        None
    };
    let owners: Vec<String> = owners_file
        .as_ref()
        .map(|c| c.owners(path).to_vec())
        .unwrap_or_default();
    let generator = provenance.and_then(|p| p.generator.as_deref());
    review
        .approved_by
        .to_vec()
        .into_iter()
        .map(|login| {
            let login = login.trim().trim_start_matches('@').to_string();
            let no = |reason: String| Confirmation {
                login: login.clone(),
                confirmed: false,
                reason,
                commit: None,
                submitted_at: None,
            };
            if login.eq_ignore_ascii_case(&pr.author) {
                return no(format!(
                    "{login} opened the pull request and cannot approve their own change"
                ));
            }
            if generator.is_some_and(|g| g.eq_ignore_ascii_case(&login)) {
                return no(format!(
                    "{login} is the generator of this content and cannot approve it"
                ));
            }
            // GitHub's rule: a reviewer's latest approving or change-requesting review counts;
            // comments do not change it, a dismissal removes it.
            let latest = pr.reviews.iter().rfind(|r| {
                r.login.eq_ignore_ascii_case(&login)
                    && matches!(
                        r.state.as_str(),
                        "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED"
                    )
            });
            let Some(r) = latest else {
                return no(format!(
                    "{login} has not approved pull request #{}",
                    pr.number
                ));
            };
            if r.state != "APPROVED" {
                return no(format!(
                    "{login}'s latest review of pull request #{} is {}",
                    pr.number,
                    r.state.to_lowercase().replace('_', " ")
                ));
            }
            if !r.commit_id.eq_ignore_ascii_case(&pr.head_sha) {
                return no(format!(
                    "{login} approved commit {}, not the head commit {}: approve again after the last push",
                    short(&r.commit_id),
                    short(&pr.head_sha)
                ));
            }
            let listed = policy
                .reviewers
                .iter()
                .any(|p| p.trim_start_matches('@').eq_ignore_ascii_case(&login));
            let owner = owners.iter().any(|o| owns(pr, o, &login));
            let allowed = if listed || owner {
                true
            } else if policy.reviewers.is_empty() && owners.is_empty() {
                // Nobody is named: anyone with write access may approve.
                matches!(
                    r.author_association.as_str(),
                    "OWNER" | "MEMBER" | "COLLABORATOR"
                )
            } else {
                false
            };
            if !allowed {
                let mut who: Vec<String> = owners.clone();
                who.extend(policy.reviewers.iter().cloned());
                let mut reason = if who.is_empty() {
                    format!(
                        "{login} approved, but has no write access to the repository ({})",
                        r.author_association
                    )
                } else {
                    format!(
                        "{login} approved, but may not approve {path} (allowed: {})",
                        who.join(", ")
                    )
                };
                let unread: Vec<&String> = owners
                    .iter()
                    .filter(|o| codeowners::is_team(o))
                    .filter(|o| {
                        !pr.team_members
                            .contains_key(&o.trim_start_matches('@').to_ascii_lowercase())
                    })
                    .collect();
                if !unread.is_empty() {
                    reason.push_str(&format!(
                        "; the members of {} could not be read (the token needs read:org), or list them in [policy.review] reviewers",
                        unread.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ));
                }
                return no(reason);
            }
            Confirmation {
                login: login.clone(),
                confirmed: true,
                reason: format!(
                    "{login} approved the head commit {}{}",
                    short(&pr.head_sha),
                    if owner { " (code owner)" } else if listed { " (policy reviewer)" } else { "" }
                ),
                commit: Some(r.commit_id.clone()),
                submitted_at: r.submitted_at.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OneOrMany;

    fn pr(reviews: Vec<(&str, &str, &str, &str)>) -> PullRequest {
        PullRequest {
            number: 7,
            author: "drafter".into(),
            head_sha: "h".repeat(40),
            base_sha: "b".repeat(40),
            reviews: reviews
                .into_iter()
                .map(|(l, s, c, a)| PrReview {
                    login: l.into(),
                    state: s.into(),
                    commit_id: c.repeat(40),
                    submitted_at: None,
                    author_association: a.into(),
                })
                .collect(),
            codeowners: Some("* @alice\n/hunts/ @carol\n".into()),
            team_members: Default::default(),
        }
    }

    #[test]
    fn team_owners_count_through_their_members() {
        let policy = ReviewPolicy::default();
        let mut p = pr(vec![
            ("tina", "APPROVED", "h", "MEMBER"),
            ("omar", "APPROVED", "h", "MEMBER"),
        ]);
        p.codeowners = Some("/detections/ @Contoso/SecOps\n/hunts/ @contoso/hunters\n".into());
        p.team_members
            .insert("contoso/secops".into(), vec!["Tina".into(), "uma".into()]);
        // tina is a member of the owning team; omar is not.
        let c = confirm(
            "detections/a.yaml",
            &review(&["tina", "omar"]),
            None,
            &p,
            &policy,
        );
        assert!(c[0].confirmed, "{c:?}");
        assert!(c[0].reason.contains("(code owner)"), "{c:?}");
        assert!(!c[1].confirmed, "{c:?}");
        // A team whose members could not be read says so.
        let c = confirm("hunts/h.yaml", &review(&["tina"]), None, &p, &policy);
        assert!(!c[0].confirmed);
        assert!(
            c[0].reason
                .contains("the members of @contoso/hunters could not be read"),
            "{c:?}"
        );
    }

    fn review(by: &[&str]) -> Review {
        Review {
            approved_by: OneOrMany::Many(by.iter().map(|s| s.to_string()).collect()),
            approved_at: None,
            query_sha256: "0".repeat(64),
        }
    }

    fn reasons(c: &[Confirmation]) -> Vec<(bool, String)> {
        c.iter().map(|c| (c.confirmed, c.reason.clone())).collect()
    }

    #[test]
    fn each_rule_of_confirmation() {
        let policy = ReviewPolicy::default();
        let p = pr(vec![
            ("alice", "APPROVED", "h", "MEMBER"),
            ("bob", "APPROVED", "h", "MEMBER"),
            ("carol", "APPROVED", "o", "MEMBER"),
            ("dave", "APPROVED", "h", "MEMBER"),
            ("dave", "CHANGES_REQUESTED", "h", "MEMBER"),
            ("dave", "COMMENTED", "h", "MEMBER"),
        ]);
        let c = confirm(
            "detections/a.yaml",
            &review(&["alice", "bob", "drafter", "erin", "dave"]),
            None,
            &p,
            &policy,
        );
        let r = reasons(&c);
        assert!(r[0].0, "{r:?}");
        assert!(
            !r[1].0
                && r[1]
                    .1
                    .contains("may not approve detections/a.yaml (allowed: @alice)")
        );
        assert!(!r[2].0 && r[2].1.contains("cannot approve their own change"));
        assert!(!r[3].0 && r[3].1.contains("has not approved"));
        assert!(!r[4].0 && r[4].1.contains("changes requested"), "{r:?}");
        // Carol owns hunts/ but approved an older commit.
        let c = confirm("hunts/x.yaml", &review(&["carol"]), None, &p, &policy);
        assert!(c[0].reason.contains("not the head commit"), "{c:?}");
    }

    #[test]
    fn generator_and_association_rules() {
        let mut p = pr(vec![
            ("bot", "APPROVED", "h", "MEMBER"),
            ("ext", "APPROVED", "h", "CONTRIBUTOR"),
            ("mem", "APPROVED", "h", "COLLABORATOR"),
        ]);
        p.codeowners = None;
        let prov = Provenance {
            origin: crate::model::Origin::Ai,
            model: None,
            model_version: None,
            prompt_sha256: None,
            generated_at: None,
            generator: Some("bot".into()),
            sources: None,
            confidence: None,
            rewritten_by: None,
            derived_from: None,
        };
        let c = confirm(
            "d.yaml",
            &review(&["bot", "ext", "mem"]),
            Some(&prov),
            &p,
            &ReviewPolicy::default(),
        );
        let r = reasons(&c);
        assert!(r[0].1.contains("generator"));
        assert!(!r[1].0 && r[1].1.contains("no write access"));
        assert!(r[2].0);
        // A policy list replaces the write-access fallback.
        let policy = ReviewPolicy {
            reviewers: vec!["ext".into()],
            ..ReviewPolicy::default()
        };
        let c = confirm("d.yaml", &review(&["ext", "mem"]), None, &p, &policy);
        assert!(c[0].confirmed && !c[1].confirmed);
    }
}
