//! Links between commits found in commit messages.

use std::sync::LazyLock;

use regex::bytes::Regex;

static REVERTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"This reverts commit ([0-9a-fA-F]{7,64})").expect("valid regex"));
static CHERRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\(cherry picked from commit ([0-9a-fA-F]{7,64})\)").expect("valid regex")
});

/// The sha named by git's revert message, "This reverts commit <sha>."
/// Takes bytes: messages need not be UTF-8, and the sha is ASCII either way.
pub fn reverts(message: impl AsRef<[u8]>) -> Option<String> {
    first_sha(&REVERTS, message.as_ref())
}

fn first_sha(re: &Regex, message: &[u8]) -> Option<String> {
    // `captures` allocates; most messages have no match, and `is_match` doesn't.
    if !re.is_match(message) {
        return None;
    }
    let sha = re.captures(message)?.get(1)?.as_bytes();
    Some(String::from_utf8_lossy(sha).to_ascii_lowercase())
}

/// The sha named by `git cherry-pick -x`'s trailer. With a chain of
/// cherry-picks the first trailer, the original commit, wins.
pub fn cherry_picked_from(message: impl AsRef<[u8]>) -> Option<String> {
    first_sha(&CHERRY, message.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_revert_message() {
        let msg = "Revert \"Add login\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.\n";
        assert_eq!(
            reverts(msg).as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(reverts("Revert the thing"), None);
    }

    #[test]
    fn parses_cherry_pick_trailer_first_wins() {
        let msg = "Fix\n\n(cherry picked from commit AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)\n(cherry picked from commit bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb)\n";
        assert_eq!(
            cherry_picked_from(msg).as_deref(),
            Some("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        );
        assert_eq!(cherry_picked_from("cherry picked from nowhere"), None);
    }
}
