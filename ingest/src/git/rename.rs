//! Rename detection the way `git log` does it (git's `diffcore-rename.c`),
//! so that the per-commit file and line counts agree with `git log --numstat`.
//!
//! libgit2's `find_similar` scores similarity differently, so near the 50%
//! threshold and for symlinks it pairs other files than git does. This module
//! follows git 2.47 with `git log`'s defaults (renames only, no copies, no
//! break detection):
//!
//! 1. **Exact renames.** A created file whose blob equals a deleted file's is
//!    a rename. Among several such sources the first one with the same
//!    basename wins; symlinks and submodules must also keep their mode.
//! 2. **Basename matches.** A source and a destination whose basename is
//!    unique on both sides are paired if they are at least 75% similar.
//! 3. **The matrix.** Unless there are more than 1000 × 1000 candidates, every
//!    remaining destination is scored against every remaining source, the
//!    best four per destination are kept, and pairs are taken greedily from
//!    the highest score down to 50%. Ties go to the same basename, then to
//!    the earlier destination and source.
//!
//! Similarity is git's estimate, not a line diff: both blobs are cut into
//! chunks that end at a newline or after 64 bytes, chunks are hashed into
//! 107,927 buckets, and the score is the bytes of the destination that the
//! source has, over the larger size. Only regular files get an inexact score.

use std::cmp::Ordering;
use std::collections::HashMap;

use git2::Oid;

/// git's `MAX_SCORE`: a score is a fraction of this.
const MAX_SCORE: u64 = 60_000;
/// `DEFAULT_RENAME_SCORE`: 50%.
const MIN_SCORE: u64 = 30_000;
/// Basename matches need the minimum plus half of the rest: 75%.
const BASENAME_SCORE: u64 = MIN_SCORE + (MAX_SCORE - MIN_SCORE) / 2;
/// `diff.renameLimit`'s default: inexact detection is skipped above 1000².
const RENAME_LIMIT: usize = 1000;
const CANDIDATES_PER_DST: usize = 4;
/// The prime git hashes chunks into.
const HASHBASE: u32 = 107_927;
/// Bytes git inspects to decide that a blob is binary.
const BINARY_PROBE: usize = 8000;

/// One side of a created or deleted path.
#[derive(Debug, Clone, Copy)]
pub(super) struct File<'a> {
    pub path: &'a [u8],
    pub id: Oid,
    /// The git file mode (`0o100644`, `0o120000`, ...).
    pub mode: u32,
}

fn is_regular(mode: u32) -> bool {
    mode & 0o170000 == 0o100000
}

/// Blob contents for the similarity estimate, loaded at most once per pairing.
pub(super) struct Blobs<F> {
    load: F,
    cache: HashMap<Oid, Option<Sketch>>,
    /// Set when a blob that was needed could not be read.
    pub unreadable: bool,
}

/// What the estimate needs of a blob: its size and its chunk counts.
struct Sketch {
    size: u64,
    spans: Vec<(u32, u32)>,
}

impl<F: FnMut(Oid) -> Option<Vec<u8>>> Blobs<F> {
    pub fn new(load: F) -> Self {
        Blobs {
            load,
            cache: HashMap::new(),
            unreadable: false,
        }
    }

    fn load(&mut self, id: Oid) {
        if !self.cache.contains_key(&id) {
            let sketch = (self.load)(id).map(|data| Sketch {
                size: data.len() as u64,
                spans: spans(&data),
            });
            self.unreadable |= sketch.is_none();
            self.cache.insert(id, sketch);
        }
    }

    /// git's `estimate_similarity`: 0 to [`MAX_SCORE`].
    fn similarity(&mut self, src: &File, dst: &File, minimum: u64) -> u64 {
        if !is_regular(src.mode) || !is_regular(dst.mode) {
            return 0;
        }
        // Sketching is cheap next to reading the blob, so unlike git we
        // don't read the sizes first: the result is the same.
        self.load(src.id);
        self.load(dst.id);
        let (Some(Some(src)), Some(Some(dst))) = (self.cache.get(&src.id), self.cache.get(&dst.id))
        else {
            return 0;
        };
        let max = src.size.max(dst.size);
        let delta = max - src.size.min(dst.size);
        // Edits that change the size this much are never renames.
        if max * (MAX_SCORE - minimum) < delta * MAX_SCORE || dst.size == 0 {
            return 0;
        }
        copied(&src.spans, &dst.spans) * MAX_SCORE / max
    }
}

/// git's `hash_chars`: byte counts per chunk hash, sorted by hash. A chunk
/// ends after a newline or 64 bytes; a CR before LF is skipped in text.
fn spans(data: &[u8]) -> Vec<(u32, u32)> {
    let is_text = !data[..data.len().min(BINARY_PROBE)].contains(&0);
    let mut counts: HashMap<u32, u32> = HashMap::new();
    let (mut accum1, mut accum2, mut n) = (0u32, 0u32, 0u32);
    let mut finish = |accum1: u32, accum2: u32, n: u32| {
        let hash = accum1.wrapping_add(accum2.wrapping_mul(0x61)) % HASHBASE;
        *counts.entry(hash).or_default() += n;
    };
    for (i, &c) in data.iter().enumerate() {
        if is_text && c == b'\r' && data.get(i + 1) == Some(&b'\n') {
            continue;
        }
        let old1 = accum1;
        accum1 = (accum1 << 7) ^ (accum2 >> 25);
        accum2 = (accum2 << 7) ^ (old1 >> 25);
        accum1 = accum1.wrapping_add(u32::from(c));
        n += 1;
        if n < 64 && c != b'\n' {
            continue;
        }
        finish(accum1, accum2, n);
        (accum1, accum2, n) = (0, 0, 0);
    }
    if n > 0 {
        finish(accum1, accum2, n);
    }
    let mut v: Vec<(u32, u32)> = counts.into_iter().collect();
    v.sort_unstable();
    v
}

/// git's `diffcore_count_changes`: bytes of `dst` that `src` also has.
fn copied(src: &[(u32, u32)], dst: &[(u32, u32)]) -> u64 {
    let mut sum = 0u64;
    let mut d = dst.iter().peekable();
    for &(hash, src_count) in src {
        while d.next_if(|(h, _)| *h < hash).is_some() {}
        let dst_count = d.next_if(|(h, _)| *h == hash).map_or(0, |(_, c)| *c);
        sum += u64::from(src_count.min(dst_count));
    }
    sum
}

/// git's `basename_same`: the paths end in the same file name.
fn basename_same(a: &[u8], b: &[u8]) -> bool {
    basename(a) == basename(b)
}

fn basename(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&c| c == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

#[derive(Clone, Copy)]
struct Candidate {
    /// `None` sorts last (an empty slot).
    dst: Option<usize>,
    src: usize,
    score: u64,
    same_name: bool,
}

/// git's `score_compare`: best first.
fn rank(a: &Candidate, b: &Candidate) -> Ordering {
    match (a.dst, b.dst) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        _ => (b.score, b.same_name).cmp(&(a.score, a.same_name)),
    }
}

/// git's `record_if_better`: replace the worst of the kept candidates.
fn keep_if_better(kept: &mut [Candidate; CANDIDATES_PER_DST], c: Candidate) {
    let mut worst = 0;
    for i in 1..CANDIDATES_PER_DST {
        if rank(&kept[i], &kept[worst]) == Ordering::Greater {
            worst = i;
        }
    }
    if rank(&kept[worst], &c) == Ordering::Greater {
        kept[worst] = c;
    }
}

/// Pairs created files (`dests`) with deleted files (`sources`), both in
/// git's path order. Returns, for each destination, the source it was renamed
/// from.
pub(super) fn find_renames<F>(
    sources: &[File],
    dests: &[File],
    blobs: &mut Blobs<F>,
) -> Vec<Option<usize>>
where
    F: FnMut(Oid) -> Option<Vec<u8>>,
{
    let mut from = vec![None; dests.len()];
    if sources.is_empty() || dests.is_empty() {
        return from;
    }
    let mut used = vec![false; sources.len()];

    // 1. Exact renames: the first unused source with the same blob, and the
    // same basename if there is one (git gives up after 100 alternatives).
    for (di, d) in dests.iter().enumerate() {
        let mut best: Option<(usize, bool)> = None;
        let mut alternatives = 100;
        for (si, s) in sources.iter().enumerate() {
            if s.id != d.id
                || ((!is_regular(s.mode) || !is_regular(d.mode)) && s.mode != d.mode)
                || used[si]
            {
                continue;
            }
            let same = basename_same(s.path, d.path);
            if best.is_none_or(|(_, b)| same && !b) {
                best = Some((si, same));
                if same {
                    break;
                }
            }
            alternatives -= 1;
            if alternatives == 0 {
                break;
            }
        }
        if let Some((si, _)) = best {
            used[si] = true;
            from[di] = Some(si);
        }
    }

    // 2. Basename matches: unique on both sides and at least 75% similar.
    let mut source_names: HashMap<&[u8], Option<usize>> = HashMap::new();
    for (si, s) in sources.iter().enumerate().filter(|(si, _)| !used[*si]) {
        source_names
            .entry(basename(s.path))
            .and_modify(|e| *e = None)
            .or_insert(Some(si));
    }
    let mut dest_names: HashMap<&[u8], Option<usize>> = HashMap::new();
    for (di, d) in dests
        .iter()
        .enumerate()
        .filter(|(di, _)| from[*di].is_none())
    {
        dest_names
            .entry(basename(d.path))
            .and_modify(|e| *e = None)
            .or_insert(Some(di));
    }
    for si in 0..sources.len() {
        if used[si] {
            continue;
        }
        let name = basename(sources[si].path);
        let (Some(Some(_)), Some(Some(di))) = (source_names.get(name), dest_names.get(name)) else {
            continue;
        };
        let di = *di;
        if from[di].is_some() {
            continue;
        }
        if blobs.similarity(&sources[si], &dests[di], BASENAME_SCORE) >= BASENAME_SCORE {
            used[si] = true;
            from[di] = Some(si);
        }
    }

    // 3. The matrix of what is left, unless it is too big.
    let left_sources: Vec<usize> = (0..sources.len()).filter(|s| !used[*s]).collect();
    let left_dests: Vec<usize> = (0..dests.len()).filter(|d| from[*d].is_none()).collect();
    if left_sources.is_empty()
        || left_dests.is_empty()
        || left_sources.len() * left_dests.len() > RENAME_LIMIT * RENAME_LIMIT
    {
        return from;
    }
    let empty = Candidate {
        dst: None,
        src: 0,
        score: 0,
        same_name: false,
    };
    let mut matrix = Vec::with_capacity(left_dests.len() * CANDIDATES_PER_DST);
    for &di in &left_dests {
        let mut kept = [empty; CANDIDATES_PER_DST];
        for &si in &left_sources {
            let c = Candidate {
                dst: Some(di),
                src: si,
                score: blobs.similarity(&sources[si], &dests[di], MIN_SCORE),
                same_name: basename_same(sources[si].path, dests[di].path),
            };
            keep_if_better(&mut kept, c);
        }
        matrix.extend(kept);
    }
    matrix.sort_by(rank);
    for c in matrix {
        let Some(di) = c.dst else { break };
        if c.score < MIN_SCORE {
            break;
        }
        if from[di].is_some() || used[c.src] {
            continue;
        }
        used[c.src] = true;
        from[di] = Some(c.src);
    }
    from
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    fn file(path: &str, id: u8) -> File<'_> {
        File {
            path: path.as_bytes(),
            id: oid(id),
            mode: 0o100644,
        }
    }

    fn blobs(contents: Vec<(u8, String)>) -> Blobs<impl FnMut(Oid) -> Option<Vec<u8>>> {
        let map: HashMap<Oid, Vec<u8>> = contents
            .into_iter()
            .map(|(i, c)| (oid(i), c.into_bytes()))
            .collect();
        Blobs::new(move |id| map.get(&id).cloned())
    }

    fn lines(range: std::ops::Range<u32>) -> String {
        range.map(|i| format!("line {i:03}\n")).collect()
    }

    #[test]
    fn chunks_end_at_newlines_and_after_64_bytes() {
        // "a\n" is one 2-byte chunk; 70 x's are a 64-byte and a 6-byte chunk.
        let s = spans(format!("a\n{}", "x".repeat(70)).as_bytes());
        assert_eq!(s.iter().map(|(_, n)| n).sum::<u32>(), 72);
        assert_eq!(s.len(), 3);
        // CR before LF is ignored in text, so CRLF and LF files are identical.
        assert_eq!(spans(b"a\r\nb\r\n"), spans(b"a\nb\n"));
        // ...but not in binary content.
        assert_ne!(spans(b"\0a\r\nb\r\n"), spans(b"\0a\nb\n"));
    }

    #[test]
    fn similarity_is_shared_bytes_over_the_larger_size() {
        // 10 lines of 9 bytes; the destination keeps 6 and adds 4 new ones:
        // 54 of 90 bytes copied, 60% of MAX_SCORE.
        let mut b = blobs(vec![(1, lines(0..10)), (2, lines(0..6) + &lines(100..104))]);
        let s = b.similarity(&file("a", 1), &file("b", 2), MIN_SCORE);
        assert_eq!(s, 54 * MAX_SCORE / 90);
        // Symlinks never get an inexact score.
        let link = File {
            mode: 0o120000,
            ..file("b", 2)
        };
        assert_eq!(b.similarity(&file("a", 1), &link, MIN_SCORE), 0);
        // A size change beyond the minimum score is rejected without scoring.
        let mut b = blobs(vec![(1, lines(0..10)), (2, lines(0..3))]);
        assert_eq!(b.similarity(&file("a", 1), &file("b", 2), MIN_SCORE), 0);
    }

    #[test]
    fn exact_renames_prefer_the_same_basename() {
        let sources = [file("x/one.txt", 1), file("y/two.txt", 1)];
        let dests = [file("z/two.txt", 1), file("z/other.txt", 1)];
        let mut b = blobs(vec![(1, lines(0..5))]);
        assert_eq!(find_renames(&sources, &dests, &mut b), [Some(1), Some(0)]);
    }

    #[test]
    fn a_unique_basename_wins_over_a_better_match() {
        let sources = [file("old/a.rs", 1), file("old/b.rs", 2)];
        let dests = [file("new/a.rs", 3)];
        // a.rs keeps 16 of 20 lines (80%, enough for a basename match);
        // b.rs would score 95% in the matrix, but the basename pass comes first.
        let mut b = blobs(vec![
            (1, lines(0..16) + &lines(200..204)),
            (2, lines(0..19) + "y\n"),
            (3, lines(0..20)),
        ]);
        assert_eq!(find_renames(&sources, &dests, &mut b), [Some(0)]);
        // Below 75% the basename gives no preference: the matrix picks b.rs.
        let mut b = blobs(vec![
            (1, lines(0..14) + &lines(200..206)),
            (2, lines(0..19) + "y\n"),
            (3, lines(0..20)),
        ]);
        assert_eq!(find_renames(&sources, &dests, &mut b), [Some(1)]);
    }

    #[test]
    fn the_matrix_pairs_greedily_from_the_best_score() {
        let sources = [file("s1", 1), file("s2", 2)];
        let dests = [file("d1", 3), file("d2", 4)];
        let mut b = blobs(vec![
            (1, lines(0..10)),
            (2, lines(50..60)),
            (3, lines(0..6) + &lines(300..304)), // 60% like s1
            (4, lines(0..9) + &lines(400..401)), // 90% like s1, 0% like s2
        ]);
        // d2 takes s1 first; d1 is left with nothing above 50%.
        assert_eq!(find_renames(&sources, &dests, &mut b), [None, Some(0)]);
    }

    #[test]
    fn below_half_is_no_rename() {
        let sources = [file("s", 1)];
        let dests = [file("d", 2)];
        let mut b = blobs(vec![(1, lines(0..10)), (2, lines(0..4) + &lines(500..506))]);
        assert_eq!(find_renames(&sources, &dests, &mut b), [None]);
        let mut b = blobs(vec![(1, lines(0..10)), (2, lines(0..5) + &lines(500..505))]);
        assert_eq!(find_renames(&sources, &dests, &mut b), [Some(0)]);
    }
}
