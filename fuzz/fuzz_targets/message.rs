//! The revert and cherry-pick trailer parsers against a plain scan.
//!
//! `reverts` and `cherry_picked_from` take the first place where the trailer
//! text is followed by 7 or more hex digits, and keep at most 64 of them in
//! lower case. The oracle does that with a loop instead of a regex.
#![no_main]

use flowmeter_parse::git::{cherry_picked_from, reverts};
use libfuzzer_sys::fuzz_target;

fn scan(message: &[u8], before: &[u8], after: &[u8]) -> Option<String> {
    (0..message.len()).find_map(|at| {
        let rest = message[at..].strip_prefix(before)?;
        let run = rest.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if run < 7 {
            return None;
        }
        // The regex takes up to 64 digits; with a closing text, the digits
        // must end right before it (so a longer run does not match there).
        let take = run.min(64);
        if !after.is_empty() && !(run <= 64 && rest[run..].starts_with(after)) {
            return None;
        }
        Some(String::from_utf8_lossy(&rest[..take]).to_ascii_lowercase())
    })
}

fuzz_target!(|message: &[u8]| {
    assert_eq!(
        reverts(message),
        scan(message, b"This reverts commit ", b""),
        "reverts"
    );
    assert_eq!(
        cherry_picked_from(message),
        scan(message, b"(cherry picked from commit ", b")"),
        "cherry-pick"
    );
});
