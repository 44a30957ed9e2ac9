//! Diff stats against the first parent, the way `git log --numstat` counts them.
//!
//! libgit2 finds the changed paths (tree-to-tree, with git's default rename
//! detection); the lines are counted with imara-diff's Myers on the two blobs,
//! which is several times faster than libgit2's patch generation. Counts of a
//! blob pair are cached, because merges and cherry-picks repeat pairs.

use std::collections::HashMap;

use git2::{Delta, DiffFindOptions, DiffOptions, FileMode, Oid, Repository};
use imara_diff::{Algorithm, Diff, InternedInput};
use xxhash_rust::xxh3::Xxh3;

/// The numbers `git log --numstat --diff-merges=first-parent` gives for one commit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitStats {
    pub files_changed: i64,
    pub additions: i64,
    pub deletions: i64,
    /// A hash of the changed lines per path, stable across cherry-picks
    /// (context and line numbers are left out, as in `git patch-id --stable`).
    /// `None` for merges and for commits that change nothing.
    pub patch_id: Option<String>,
    /// `false` when a tree or blob could not be read (partial clone, missing objects).
    pub complete: bool,
    /// Blobs that could not be read.
    pub unreadable_blobs: u32,
}

#[derive(Clone, Copy)]
struct PairStats {
    additions: u32,
    deletions: u32,
    content_hash: u128,
}

/// Computes [`CommitStats`]; one per worker thread, since it owns a repository handle.
pub struct Differ {
    repo: Repository,
    cache: HashMap<(Oid, Oid), PairStats>,
}

/// Bytes git inspects to decide that a blob is binary.
const BINARY_PROBE: usize = 8000;

impl Differ {
    pub fn new(repo: Repository) -> Differ {
        Differ {
            repo,
            cache: HashMap::new(),
        }
    }

    /// The repository this differ reads.
    pub fn repo(&self) -> &Repository {
        &self.repo
    }

    /// Stats of `commit` against its first parent (the empty tree for a root commit).
    pub fn stats(&mut self, commit: Oid) -> Result<CommitStats, git2::Error> {
        let commit = self.repo.find_commit(commit)?;
        let is_merge = commit.parent_count() > 1;
        let mut out = CommitStats {
            complete: true,
            ..Default::default()
        };
        let tree = match commit.tree() {
            Ok(t) => t,
            Err(_) => {
                out.complete = false;
                return Ok(out);
            }
        };
        let parent_tree = match commit.parent_ids().next() {
            Some(pid) => match self.repo.find_commit(pid).and_then(|p| p.tree()) {
                Ok(t) => Some(t),
                Err(_) => {
                    out.complete = false;
                    return Ok(out);
                }
            },
            None => None,
        };
        let mut opts = DiffOptions::new();
        opts.skip_binary_check(true).ignore_submodules(false);
        let mut diff =
            self.repo
                .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut opts))?;
        // git's defaults for `git log`: renames only, 50% similarity, limit 1000.
        let mut find = DiffFindOptions::new();
        find.renames(true).rename_threshold(50).rename_limit(1000);
        if diff.find_similar(Some(&mut find)).is_err() {
            // Similarity needs blob contents; without them renames stay add+delete.
            out.complete = false;
        }

        // Collect the changed paths first: the diff borrows the repository,
        // and counting lines needs the cache mutably.
        let mut changed = Vec::new();
        for delta in diff.deltas() {
            if matches!(
                delta.status(),
                Delta::Unmodified | Delta::Ignored | Delta::Untracked
            ) {
                continue;
            }
            let old = delta.old_file();
            let new = delta.new_file();
            let path = new
                .path_bytes()
                .or(old.path_bytes())
                .unwrap_or(b"")
                .to_vec();
            changed.push((
                Side {
                    id: old.id(),
                    mode: old.mode(),
                },
                Side {
                    id: new.id(),
                    mode: new.mode(),
                },
                path,
            ));
        }
        drop(diff);
        drop(parent_tree);
        drop(tree);
        drop(commit);

        let mut id_hasher = Xxh3::new();
        for (old_side, new_side, path) in changed {
            out.files_changed += 1;
            let pair = match self.pair(old_side, new_side) {
                Some(p) => p,
                None => {
                    out.complete = false;
                    out.unreadable_blobs += 1;
                    PairStats {
                        additions: 0,
                        deletions: 0,
                        content_hash: u128::from_le_bytes(pad16(old_side.id.as_bytes()))
                            ^ u128::from_le_bytes(pad16(new_side.id.as_bytes())).rotate_left(1),
                    }
                }
            };
            out.additions += i64::from(pair.additions);
            out.deletions += i64::from(pair.deletions);
            id_hasher.update(&path);
            id_hasher.update(&[0]);
            id_hasher.update(&pair.content_hash.to_le_bytes());
        }
        if !is_merge && out.files_changed > 0 {
            out.patch_id = Some(format!("{:032x}", id_hasher.digest128()));
        }
        Ok(out)
    }

    /// Line counts of one blob pair; `None` when a blob can't be read.
    fn pair(&mut self, old: Side, new: Side) -> Option<PairStats> {
        let key = (old.id, new.id);
        if let Some(p) = self.cache.get(&key) {
            return Some(*p);
        }
        let old_data = self.content(old)?;
        let new_data = self.content(new)?;
        let p = count_lines(&old_data, &new_data);
        self.cache.insert(key, p);
        Some(p)
    }

    fn content(&self, side: Side) -> Option<Vec<u8>> {
        if side.id.is_zero() {
            return Some(Vec::new());
        }
        if side.mode == FileMode::Commit {
            // A submodule: git diffs the text "Subproject commit <sha>".
            return Some(format!("Subproject commit {}\n", side.id).into_bytes());
        }
        self.repo
            .find_blob(side.id)
            .ok()
            .map(|b| b.content().to_vec())
    }
}

#[derive(Clone, Copy)]
struct Side {
    id: Oid,
    mode: FileMode,
}

fn pad16(b: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let n = b.len().min(16);
    out[..n].copy_from_slice(&b[..n]);
    out
}

fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(BINARY_PROBE)].contains(&0)
}

/// Counts added and removed lines between two blobs as git does: Myers diff
/// over lines including their terminators, and 0/0 for binary content.
fn count_lines(old: &[u8], new: &[u8]) -> PairStats {
    let mut h = Xxh3::new();
    if is_binary(old) || is_binary(new) {
        h.update(b"binary\0");
        h.update(&xxhash_rust::xxh3::xxh3_64(old).to_le_bytes());
        h.update(&xxhash_rust::xxh3::xxh3_64(new).to_le_bytes());
        return PairStats {
            additions: 0,
            deletions: 0,
            content_hash: h.digest128(),
        };
    }
    let input = InternedInput::new(old, new);
    let diff = Diff::compute(Algorithm::Myers, &input);
    for hunk in diff.hunks() {
        for t in &input.before[hunk.before.start as usize..hunk.before.end as usize] {
            h.update(b"-");
            hash_stripped(&mut h, input.interner[*t]);
        }
        for t in &input.after[hunk.after.start as usize..hunk.after.end as usize] {
            h.update(b"+");
            hash_stripped(&mut h, input.interner[*t]);
        }
    }
    PairStats {
        additions: diff.count_additions(),
        deletions: diff.count_removals(),
        content_hash: h.digest128(),
    }
}

/// Hashes a line with all whitespace removed, like `git patch-id`.
fn hash_stripped(h: &mut Xxh3, line: &[u8]) {
    let mut buf = [0u8; 256];
    let mut n = 0;
    for &b in line {
        if b.is_ascii_whitespace() {
            continue;
        }
        buf[n] = b;
        n += 1;
        if n == buf.len() {
            h.update(&buf);
            n = 0;
        }
    }
    h.update(&buf[..n]);
    h.update(b"\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_like_git() {
        let p = count_lines(b"a\nb\nc\n", b"a\nB\nc\nd\n");
        assert_eq!((p.additions, p.deletions), (2, 1));
        // A missing final newline changes the last line.
        let p = count_lines(b"a\nb", b"a\nb\n");
        assert_eq!((p.additions, p.deletions), (1, 1));
        // Added file: every line, the unterminated last one included.
        let p = count_lines(b"", b"x\ny");
        assert_eq!((p.additions, p.deletions), (2, 0));
        // Binary on either side counts no lines.
        let p = count_lines(b"a\n", b"a\0b\n");
        assert_eq!((p.additions, p.deletions), (0, 0));
    }

    #[test]
    fn content_hash_ignores_context_and_whitespace() {
        let a = count_lines(b"one\ntwo\nthree\n", b"one\ntwo  changed\nthree\n");
        let b = count_lines(
            b"zero\none\ntwo\nthree\nfour\n",
            b"zero\none\ntwo changed\nthree\nfour\n",
        );
        assert_eq!(a.content_hash, b.content_hash);
        let c = count_lines(b"one\ntwo\n", b"one\ntwo other\n");
        assert_ne!(a.content_hash, c.content_hash);
    }
}
