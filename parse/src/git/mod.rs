//! Git's object formats, read where libgit2 would be slower: commit objects
//! ([`commit`]), pack files and their indexes ([`pack`]), and the links
//! between commits that messages carry ([`message`]). Each answers `None`
//! where it is not sure, and the caller then asks libgit2.

use git2::Oid;

pub mod commit;
pub mod message;
pub mod pack;
#[doc(hidden)]
pub mod test_git;

pub use message::{cherry_picked_from, reverts};

/// 40 hex digits (either case) as an object id.
pub fn oid_from_hex(hex: &[u8]) -> Option<Oid> {
    if hex.len() != 40 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut bytes = [0u8; 20];
    for (b, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        *b = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Oid::from_bytes(&bytes).ok()
}
