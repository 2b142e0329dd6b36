//! `vigil changed`: definitions added, modified and deleted between two git refs.

use super::{Context, OpError};

/// What changed between `base` and `head` (default: the work tree).
pub fn changed(
    cx: &Context,
    base: &str,
    head: Option<&str>,
) -> Result<crate::git::Changes, OpError> {
    Ok(crate::git::changed(&cx.root, base, head)?)
}
