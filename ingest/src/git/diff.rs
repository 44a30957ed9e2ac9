//! Diff stats against the first parent, the way `git log --numstat` counts them.
//!
//! The changed paths come from our own walk of the two trees, which skips
//! subtrees that did not change, as git's `tree-diff.c` does (libgit2 reads
//! trees and blobs); renames are paired the way
//! git pairs them (`rename.rs`: libgit2's own scoring differs); the lines are
//! counted with imara-diff's Myers on the two blobs, which is several times
//! faster than libgit2's patch generation. Counts of a
//! blob pair are cached, because merges and cherry-picks repeat pairs.

use std::collections::HashMap;

use git2::{Oid, Repository};
use imara_diff::{Algorithm, Diff, InternedInput, Token};
use xxhash_rust::xxh3::Xxh3;

use super::rename;

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
        let tree = commit.tree_id();
        let parent_tree = match commit.parent_ids().next() {
            Some(pid) => match self.repo.find_commit(pid) {
                Ok(p) => Some(p.tree_id()),
                Err(_) => {
                    out.complete = false;
                    return Ok(out);
                }
            },
            None => None,
        };
        drop(commit);
        let mut changed: Vec<(Side, Side, Vec<u8>)> = Vec::new();
        if self
            .diff_trees(parent_tree, Some(tree), &mut Vec::new(), &mut changed)
            .is_err()
        {
            // A tree that can't be read (partial clone, missing objects).
            out.complete = false;
            return Ok(out);
        }
        if !self.pair_renames(&mut changed) {
            // Similarity needs blob contents; without them renames stay add+delete.
            out.complete = false;
        }

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

    /// The changed non-tree paths between two trees, in path order, the way
    /// git's `tree-diff.c` finds them: both sorted entry lists are merged,
    /// subtrees with the same id are skipped without being read, and a type
    /// change between two non-trees (file, symlink, submodule) is one changed
    /// path. libgit2's tree-to-tree diff expands every subtree of both sides
    /// instead; on rust-lang/cargo, replacing it took the full ingest from
    /// 14.67 s to 11.22 s (medians of three, BENCHMARKS.md).
    fn diff_trees(
        &self,
        old: Option<Oid>,
        new: Option<Oid>,
        prefix: &mut Vec<u8>,
        out: &mut Vec<(Side, Side, Vec<u8>)>,
    ) -> Result<(), git2::Error> {
        let tree = |id: Option<Oid>| id.map(|id| self.repo.find_tree(id)).transpose();
        let (old_tree, new_tree) = (tree(old)?, tree(new)?);
        // Entries borrow their names from libgit2's parsed trees: no copy per entry.
        let (old_listed, new_listed) = (listed(old_tree.as_ref()), listed(new_tree.as_ref()));
        let (a, b) = (entries(&old_listed), entries(&new_listed));
        let (mut i, mut j) = (0, 0);
        let none = Side {
            id: Oid::ZERO_SHA1,
            mode: 0,
        };
        while i < a.len() || j < b.len() {
            let order = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) => tree_order(x, y),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            let (gone, came) = match order {
                std::cmp::Ordering::Less => (Some(&a[i]), None),
                std::cmp::Ordering::Greater => (None, Some(&b[j])),
                std::cmp::Ordering::Equal => (Some(&a[i]), Some(&b[j])),
            };
            if gone.is_some() {
                i += 1;
            }
            if came.is_some() {
                j += 1;
            }
            if let (Some(x), Some(y)) = (gone, came) {
                if x.id == y.id && x.mode == y.mode {
                    continue;
                }
            }
            let name = gone.or(came).map(|e| e.name).unwrap_or_default();
            let len = prefix.len();
            prefix.extend_from_slice(name);
            let tree_of = |e: Option<&Entry>| e.filter(|e| e.is_tree()).map(|e| e.id);
            let file_of = |e: Option<&Entry>| {
                e.filter(|e| !e.is_tree()).map_or(none, |e| Side {
                    id: e.id,
                    mode: e.mode,
                })
            };
            // Equal names are either both trees or both not (tree order
            // sorts a tree as `name/`), so this is a subtree or one path.
            if tree_of(gone).is_some() || tree_of(came).is_some() {
                prefix.push(b'/');
                self.diff_trees(tree_of(gone), tree_of(came), prefix, out)?;
            } else {
                out.push((file_of(gone), file_of(came), prefix.clone()));
            }
            prefix.truncate(len);
        }
        Ok(())
    }

    /// Turns deletions and creations that git would call renames into one
    /// changed path each, as git's rename detection does. `false` if a blob was unreadable.
    fn pair_renames(&mut self, changed: &mut Vec<(Side, Side, Vec<u8>)>) -> bool {
        let deleted: Vec<usize> = (0..changed.len())
            .filter(|&i| changed[i].1.id.is_zero())
            .collect();
        let created: Vec<usize> = (0..changed.len())
            .filter(|&i| changed[i].0.id.is_zero())
            .collect();
        if deleted.is_empty() || created.is_empty() {
            return true;
        }
        fn file<'a>(side: &Side, path: &'a [u8]) -> rename::File<'a> {
            rename::File {
                path,
                id: side.id,
                mode: side.mode,
            }
        }
        let sources: Vec<rename::File> = deleted
            .iter()
            .map(|&i| file(&changed[i].0, &changed[i].2))
            .collect();
        let dests: Vec<rename::File> = created
            .iter()
            .map(|&i| file(&changed[i].1, &changed[i].2))
            .collect();
        let repo = &self.repo;
        let mut blobs =
            rename::Blobs::new(|id| repo.find_blob(id).ok().map(|b| b.content().to_vec()));
        let from = rename::find_renames(&sources, &dests, &mut blobs);
        let mut gone = vec![false; changed.len()];
        for (d, s) in from.iter().enumerate() {
            if let Some(s) = s {
                let (src, dst) = (deleted[*s], created[d]);
                changed[dst].0 = changed[src].0;
                gone[src] = true;
            }
        }
        let mut i = 0;
        changed.retain(|_| {
            i += 1;
            !gone[i - 1]
        });
        !blobs.unreadable
    }

    /// Line counts of one blob pair; `None` when a blob can't be read.
    fn pair(&mut self, old: Side, new: Side) -> Option<PairStats> {
        let key = (old.id, new.id);
        if let Some(p) = self.cache.get(&key) {
            return Some(*p);
        }
        // Blobs are borrowed from libgit2, not copied.
        let old_data = Content::load(&self.repo, old)?;
        let new_data = Content::load(&self.repo, new)?;
        let p = count_lines(old_data.bytes(), new_data.bytes());
        self.cache.insert(key, p);
        Some(p)
    }
}

/// One side of a changed file: nothing, a blob, or a submodule's text.
enum Content<'r> {
    Empty,
    Blob(git2::Blob<'r>),
    Text(Vec<u8>),
}

impl<'r> Content<'r> {
    fn load(repo: &'r Repository, side: Side) -> Option<Content<'r>> {
        if side.id.is_zero() {
            return Some(Content::Empty);
        }
        if side.mode & 0o170000 == 0o160000 {
            // A submodule: git diffs the text "Subproject commit <sha>".
            return Some(Content::Text(
                format!("Subproject commit {}\n", side.id).into_bytes(),
            ));
        }
        repo.find_blob(side.id).ok().map(Content::Blob)
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Content::Empty => &[],
            Content::Blob(b) => b.content(),
            Content::Text(t) => t,
        }
    }
}

#[derive(Clone, Copy)]
struct Side {
    id: Oid,
    /// The raw git mode (`0o100644`, `0o120000`, `0o160000`...), 0 when absent.
    mode: u32,
}

/// The entries of a tree (none for an absent side).
fn listed<'t>(tree: Option<&'t git2::Tree<'_>>) -> Vec<git2::TreeEntry<'t>> {
    tree.iter().flat_map(|t| t.iter()).collect()
}

/// What the diff compares of each entry, names borrowed.
fn entries<'e>(listed: &'e [git2::TreeEntry<'_>]) -> Vec<Entry<'e>> {
    listed
        .iter()
        .map(|e| Entry {
            name: e.name_bytes(),
            id: e.id(),
            mode: e.filemode_raw() as u32,
        })
        .collect()
}

/// One entry of a tree, as read for the diff.
struct Entry<'a> {
    name: &'a [u8],
    id: Oid,
    mode: u32,
}

impl Entry<'_> {
    fn is_tree(&self) -> bool {
        self.mode & 0o170000 == 0o040000
    }
}

/// git's `base_name_compare`: names compare bytewise, and a tree's name as
/// if it ended in `/`, which is how trees are sorted.
fn tree_order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    let n = a.name.len().min(b.name.len());
    a.name[..n].cmp(&b.name[..n]).then_with(|| {
        let end = |e: &Entry| match e.name.get(n) {
            Some(c) => *c,
            None if e.is_tree() => b'/',
            None => 0,
        };
        end(a).cmp(&end(b))
    })
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
    let (removed, added) = git_line_diff(&input.before, &input.after, input.interner.num_tokens());
    // The patch id hashes the removed lines, then the added lines, in order:
    // context and positions are left out, so a cherry-pick keeps its id.
    let mut deletions = 0;
    for (t, _) in input.before.iter().zip(&removed).filter(|(_, r)| **r) {
        h.update(b"-");
        hash_stripped(&mut h, input.interner[*t]);
        deletions += 1;
    }
    let mut additions = 0;
    for (t, _) in input.after.iter().zip(&added).filter(|(_, a)| **a) {
        h.update(b"+");
        hash_stripped(&mut h, input.interner[*t]);
        additions += 1;
    }
    PairStats {
        additions,
        deletions,
        content_hash: h.digest128(),
    }
}

/// git's integer square-root approximation (a power of two).
fn bogosqrt(mut n: usize) -> usize {
    let mut i = 1;
    while n > 0 {
        i <<= 1;
        n >>= 2;
    }
    i
}

/// How a line of one file occurs in the other, whole file counted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Occurs {
    Never,
    Some,
    /// So often (blank lines, braces) that it only anchors a diff when it is not
    /// surrounded by lines that match nothing.
    Often,
}

/// Lines scanned around a frequent line when deciding whether to drop it.
const SCAN_WINDOW: usize = 100;
/// A frequent line inside a run of unmatched lines is dropped when the
/// unmatched lines outnumber the frequent ones by more than this factor minus one.
const KEEP_RUN_FACTOR: usize = 4;

/// Whether the frequent line at `i` of `occ` (within `lo..hi`) sits inside a
/// run that is mostly unmatched lines, so that matching it would only produce
/// a scattered, misleading diff. This is the rule that makes git's counts
/// differ from a minimal diff.
fn drop_frequent(occ: &[Occurs], i: usize, lo: usize, hi: usize) -> bool {
    let lo = lo.max(i.saturating_sub(SCAN_WINDOW));
    let hi = hi.min(i + SCAN_WINDOW + 1);
    let (mut never_before, mut often_before) = (0, 1);
    for o in occ[lo..i].iter().rev() {
        match o {
            Occurs::Never => never_before += 1,
            Occurs::Often => often_before += 1,
            Occurs::Some => break,
        }
    }
    if never_before == 0 {
        return false;
    }
    let (mut never_after, mut often_after) = (0, 1);
    for o in occ.get(i + 1..hi).unwrap_or(&[]) {
        match o {
            Occurs::Never => never_after += 1,
            Occurs::Often => often_after += 1,
            Occurs::Some => break,
        }
    }
    if never_after == 0 {
        return false;
    }
    let often = often_before + often_after;
    let never = never_before + never_after;
    often * KEEP_RUN_FACTOR < often + never
}

/// The largest edit cost for which an exact alignment is computed; above it
/// git's own Myers takes shortcuts too, and imara-diff's result is kept.
const EXACT_MAX_COST: usize = 256;

/// A minimal alignment of `a` and `b` (removed flags for `a`, added flags for
/// `b`) when one exists with at most `max` edits: the greedy O((N+M)·D) Myers
/// algorithm, keeping each round's frontier to trace the path back.
fn exact_alignment(a: &[Token], b: &[Token], max: usize) -> Option<(Vec<bool>, Vec<bool>)> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let offset = max as isize + 1;
    let mut v = vec![0isize; 2 * max + 3];
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let mut found = None;
    'outer: for d in 0..=max as isize {
        for k in (-d..=d).step_by(2) {
            let idx = (k + offset) as usize;
            let mut x = if k == -d || (k != d && v[idx - 1] < v[idx + 1]) {
                v[idx + 1]
            } else {
                v[idx - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[idx] = x;
            if x >= n && y >= m {
                trace.push(v.clone());
                found = Some(d);
                break 'outer;
            }
        }
        trace.push(v.clone());
    }
    let d_final = found?;
    let mut removed = vec![false; a.len()];
    let mut added = vec![false; b.len()];
    let (mut x, mut y) = (n, m);
    for d in (1..=d_final).rev() {
        let prev = &trace[(d - 1) as usize];
        let k = x - y;
        let down = k == -d
            || (k != d && prev[(k - 1 + offset) as usize] < prev[(k + 1 + offset) as usize]);
        let prev_k = if down { k + 1 } else { k - 1 };
        let prev_x = prev[(prev_k + offset) as usize];
        let prev_y = prev_x - prev_k;
        // Walk back along the snake, then over the one edit.
        while x > prev_x && y > prev_y && (if down { x > prev_x } else { x > prev_x + 1 }) {
            x -= 1;
            y -= 1;
        }
        if down {
            y -= 1;
            added[y as usize] = true;
        } else {
            x -= 1;
            removed[x as usize] = true;
        }
    }
    Some((removed, added))
}

/// Line diff with git's semantics: the common prefix and suffix are trimmed,
/// lines that cannot match (or are frequent lines inside unmatched runs) are
/// marked changed up front, and Myers runs on the rest. Returns the removed
/// and added flags per line.
fn git_line_diff(before: &[Token], after: &[Token], num_tokens: u32) -> (Vec<bool>, Vec<bool>) {
    let (n1, n2) = (before.len(), after.len());
    let mut removed = vec![false; n1];
    let mut added = vec![false; n2];
    let prefix = before.iter().zip(after).take_while(|(a, b)| a == b).count();
    let suffix = before[prefix..]
        .iter()
        .rev()
        .zip(after[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (r1, r2) = (prefix..n1 - suffix, prefix..n2 - suffix);
    if r1.is_empty() || r2.is_empty() {
        removed[r1].fill(true);
        added[r2].fill(true);
        return (removed, added);
    }
    // Occurrences over the whole files, as git counts them.
    let mut count1 = vec![0u32; num_tokens as usize];
    let mut count2 = vec![0u32; num_tokens as usize];
    for t in before {
        count1[t.0 as usize] += 1;
    }
    for t in after {
        count2[t.0 as usize] += 1;
    }
    let classify = |tokens: &[Token], other: &[u32], total: usize| -> Vec<Occurs> {
        let limit = bogosqrt(total).min(1024) as u32;
        tokens
            .iter()
            .map(|t| match other[t.0 as usize] {
                0 => Occurs::Never,
                n if n >= limit => Occurs::Often,
                _ => Occurs::Some,
            })
            .collect()
    };
    let occ1 = classify(&before[r1.clone()], &count2, n1);
    let occ2 = classify(&after[r2.clone()], &count1, n2);
    let reduce = |occ: &[Occurs], tokens: &[Token], changed: &mut [bool]| {
        let mut kept = Vec::with_capacity(tokens.len());
        let mut index = Vec::with_capacity(tokens.len());
        for (i, o) in occ.iter().enumerate() {
            let keep = match o {
                Occurs::Some => true,
                Occurs::Often => !drop_frequent(occ, i, 0, occ.len()),
                Occurs::Never => false,
            };
            if keep {
                kept.push(tokens[i]);
                index.push(i);
            } else {
                changed[i] = true;
            }
        }
        (kept, index)
    };
    let (kept1, index1) = reduce(&occ1, &before[r1.clone()], &mut removed[r1.clone()]);
    let (kept2, index2) = reduce(&occ2, &after[r2.clone()], &mut added[r2.clone()]);
    let mut diff = Diff::default();
    diff.compute_with(Algorithm::Myers, &kept1, &kept2, num_tokens);
    // imara-diff prunes and cuts corners of its own on top of the reduction
    // above; git's Myers is exact while the cost stays small. When the exact
    // distance is smaller, mark changes from an exact alignment instead.
    let heuristic = (diff.count_removals() + diff.count_additions()) as usize;
    if heuristic > 0 {
        if let Some(exact) = exact_alignment(&kept1, &kept2, heuristic.min(EXACT_MAX_COST)) {
            if exact.0.iter().filter(|r| **r).count() + exact.1.iter().filter(|a| **a).count()
                < heuristic
            {
                for (j, i) in index1.iter().enumerate() {
                    removed[r1.start + i] |= exact.0[j];
                }
                for (j, i) in index2.iter().enumerate() {
                    added[r2.start + i] |= exact.1[j];
                }
                return (removed, added);
            }
        }
    }
    for (j, i) in index1.iter().enumerate() {
        if diff.is_removed(j as u32) {
            removed[r1.start + i] = true;
        }
    }
    for (j, i) in index2.iter().enumerate() {
        if diff.is_added(j as u32) {
            added[r2.start + i] = true;
        }
    }
    (removed, added)
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
    fn frequent_lines_inside_unmatched_runs_count_as_changed() {
        // git reports +8 -2 here, not the minimal +7 -1: the blank line in the
        // new text sits in a run of seven unmatched lines, so it is not used as
        // an anchor (rust-lang/cargo b87ae61f, src/cargo/core/shell.rs, reduced).
        let mut base = String::new();
        for i in 0..40 {
            base.push_str(&format!("\nline {i}\n"));
        }
        let old = format!("{base}\nend_old\n}}\n");
        let new = format!("{base}new 1\nnew 2\nnew 3\nnew 4\nnew 5\nnew 6\n\nend_new\n}}\n");
        let p = count_lines(old.as_bytes(), new.as_bytes());
        assert_eq!((p.additions, p.deletions), (8, 2));
    }

    #[test]
    fn exact_alignment_is_minimal_and_consistent() {
        let t = |s: &str| s.bytes().map(|b| Token(u32::from(b))).collect::<Vec<_>>();
        for (a, b, edits) in [
            ("abcabba", "cbabac", 5),
            ("", "abc", 3),
            ("abc", "", 3),
            ("abc", "abc", 0),
            ("xaxbxc", "abc", 3),
        ] {
            let (a, b) = (t(a), t(b));
            let (rem, add) = exact_alignment(&a, &b, 64).unwrap();
            let n = rem.iter().filter(|r| **r).count() + add.iter().filter(|r| **r).count();
            assert_eq!(n, edits);
            // What is kept on both sides is the same sequence.
            let ka: Vec<_> = a
                .iter()
                .zip(&rem)
                .filter(|(_, r)| !**r)
                .map(|(t, _)| *t)
                .collect();
            let kb: Vec<_> = b
                .iter()
                .zip(&add)
                .filter(|(_, r)| !**r)
                .map(|(t, _)| *t)
                .collect();
            assert_eq!(ka, kb);
        }
        assert!(exact_alignment(&t("aaaa"), &t("bbbb"), 7).is_none());
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
