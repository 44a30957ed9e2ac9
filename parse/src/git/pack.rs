//! A read-only commit reader over a repository's pack files.
//!
//! The metadata walk reads every commit once. On rust-lang/cargo (23,815
//! commits, two threads) reading them through libgit2's `odb.read` took
//! 0.20–0.25 s; mapping the packs and inflating with libdeflate takes
//! 0.10–0.11 s, and 0.14–0.15 s with zlib-rs in place of libdeflate (a
//! throwaway program, same run). On small objects such as commits, building
//! the Huffman tables is much of the inflate, and libdeflate's whole-buffer
//! decoder does that cheaper than a streaming one. There is also no global
//! pack lock and no object cache to fill. (Those times predate the hash
//! check every answer now gets, about 1.5 µs a commit: BENCHMARKS.md, "The
//! hash check".)
//!
//! It is a fast path only. Anything it does not find or does not fully
//! understand (loose objects, alternates, index v1, a malformed entry, a
//! delta whose base is elsewhere) comes back as `None`, and the caller asks
//! libgit2, whose answer and errors stay authoritative.

use std::fs::File;
use std::path::Path;

use libdeflater::Decompressor;
use memmap2::Mmap;

const HASH: usize = 20;
/// Delta chains longer than this are left to libgit2 (git's own default
/// limit is 50; aggressive repacks use 250).
const MAX_DEPTH: usize = 4096;

struct Pack {
    idx: Bytes,
    pack: Bytes,
    count: usize,
}

/// A pack or index: mapped from disk, or in memory (for the fuzzer).
enum Bytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// The repository's packs, ready for lookups from any thread.
pub struct Packs {
    packs: Vec<Pack>,
}

/// Per-thread scratch: the inflater and buffers for delta chains.
pub struct Reader {
    inflate: Decompressor,
    delta: Vec<u8>,
    base: Vec<u8>,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            inflate: Decompressor::new(),
            delta: Vec::new(),
            base: Vec::new(),
        }
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl Pack {
    /// Maps an index (v2, SHA-1) and its pack; `None` when either is not
    /// what we expect, so the pack is left to libgit2.
    fn open(idx_path: &Path) -> Option<Pack> {
        let map = |p: &Path| -> Option<Mmap> {
            let file = File::open(p).ok()?;
            // SAFETY: pack files are immutable once written; git replaces
            // them by rename and unlinks the old ones, which leaves this
            // mapping valid. Every read below is bounds-checked.
            #[allow(unsafe_code)]
            unsafe { Mmap::map(&file) }.ok()
        };
        let idx = map(idx_path)?;
        let pack = map(&idx_path.with_extension("pack"))?;
        Pack::new(Bytes::Mapped(idx), Bytes::Mapped(pack))
    }

    /// Checks the header and the layout; `None` when they are not ours.
    fn new(idx: Bytes, pack: Bytes) -> Option<Pack> {
        if idx.get(..8)? != b"\xfftOc\0\0\0\x02" || pack.get(..4)? != b"PACK" {
            return None;
        }
        let count = be32(&idx, 8 + 255 * 4)? as usize;
        // The layout for SHA-1: header, fanout, ids, CRCs, offsets, large
        // offsets, two trailing hashes. Any other size (SHA-256) is not ours.
        let small = 8 + 256 * 4 + count * (HASH + 8);
        let large = idx.len().checked_sub(small + 2 * HASH)?;
        if large % 8 != 0 || be32(&pack, 8)? as usize != count {
            return None;
        }
        // Pack version 2 only, as libgit2 reads (git also reads 3, which
        // no git writes).
        if be32(&pack, 4)? != 2 {
            return None;
        }
        // libgit2 refuses a pack whose trailing checksum is not the one its
        // index records (a truncated or rewritten pack), and an index whose
        // fanout ever decreases; the fast path must not read what libgit2
        // would refuse (both found by fuzz/pack).
        let recorded = idx.get(idx.len() - 2 * HASH..idx.len() - HASH)?;
        if pack.len() < 12 + HASH || pack.get(pack.len() - HASH..)? != recorded {
            return None;
        }
        let mut previous = 0;
        for i in 0..256 {
            let f = be32(&idx, 8 + i * 4)?;
            if f < previous {
                return None;
            }
            previous = f;
        }
        Some(Pack { idx, pack, count })
    }

    fn fanout(&self, i: usize) -> Option<usize> {
        be32(&self.idx, 8 + i * 4).map(|v| v as usize)
    }

    /// Where `oid` starts in the pack.
    fn offset(&self, oid: &[u8]) -> Option<usize> {
        let first = *oid.first()? as usize;
        let mut lo = if first == 0 {
            0
        } else {
            self.fanout(first - 1)?
        };
        let mut hi = self.fanout(first)?.min(self.count);
        let ids = 8 + 256 * 4;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let id = self.idx.get(ids + mid * HASH..ids + (mid + 1) * HASH)?;
            match id.cmp(oid) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    let offsets = ids + self.count * (HASH + 4);
                    let small = be32(&self.idx, offsets + mid * 4)?;
                    if small & 0x8000_0000 == 0 {
                        return Some(small as usize);
                    }
                    let at = offsets + self.count * 4 + (small & 0x7fff_ffff) as usize * 8;
                    let big = u64::from_be_bytes(self.idx.get(at..at + 8)?.try_into().ok()?);
                    return usize::try_from(big).ok();
                }
            }
        }
        None
    }

    /// The object at `offset`: its type (1 commit, 2 tree, 3 blob, 4 tag)
    /// with its bytes in `out`. Deltas are resolved within this pack.
    fn object(&self, offset: usize, out: &mut Vec<u8>, r: &mut Reader, depth: usize) -> Option<u8> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut at = offset;
        let mut byte = *self.pack.get(at)?;
        at += 1;
        let kind = (byte >> 4) & 7;
        let mut size = usize::from(byte & 15);
        let mut shift = 4;
        while byte & 0x80 != 0 {
            byte = *self.pack.get(at)?;
            at += 1;
            size |= usize::from(byte & 0x7f).checked_shl(shift)?;
            shift += 7;
        }
        match kind {
            1..=4 => {
                inflate(&mut r.inflate, self.pack.get(at..)?, size, out)?;
                Some(kind)
            }
            6 | 7 => {
                let base_offset = if kind == 6 {
                    // Offset encoding: big-endian base-128 with a +1 per continuation.
                    let mut byte = *self.pack.get(at)?;
                    at += 1;
                    let mut back = usize::from(byte & 0x7f);
                    while byte & 0x80 != 0 {
                        byte = *self.pack.get(at)?;
                        at += 1;
                        back = back.checked_add(1)?.checked_shl(7)? | usize::from(byte & 0x7f);
                    }
                    offset.checked_sub(back).filter(|&b| b > 0)?
                } else {
                    let base = self.pack.get(at..at + HASH)?;
                    at += HASH;
                    self.offset(base)?
                };
                let mut delta = std::mem::take(&mut r.delta);
                let mut base = std::mem::take(&mut r.base);
                let found = inflate(&mut r.inflate, self.pack.get(at..)?, size, &mut delta)
                    .and_then(|()| self.object(base_offset, &mut base, r, depth + 1))
                    .and_then(|kind| apply_delta(&base, &delta, out).map(|()| kind));
                r.delta = delta;
                r.base = base;
                found
            }
            _ => None,
        }
    }
}

/// Inflates one zlib stream that must come to exactly `size` bytes.
fn inflate(z: &mut Decompressor, input: &[u8], size: usize, out: &mut Vec<u8>) -> Option<()> {
    // Deflate expands at most ~1032:1; a bigger claim is a corrupt header,
    // not an allocation to attempt.
    if size > input.len().saturating_mul(1032) {
        return None;
    }
    out.clear();
    out.resize(size, 0);
    match z.zlib_decompress(input, out) {
        Ok(n) if n == size => Some(()),
        _ => None,
    }
}

/// Applies a git delta (copy and insert instructions) to `base`.
fn apply_delta(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> Option<()> {
    fn varint(d: &[u8], at: &mut usize) -> Option<usize> {
        let (mut v, mut shift) = (0usize, 0u32);
        loop {
            let b = *d.get(*at)?;
            *at += 1;
            v |= usize::from(b & 0x7f).checked_shl(shift)?;
            shift += 7;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
    }
    let mut at = 0;
    if varint(delta, &mut at)? != base.len() {
        return None;
    }
    let size = varint(delta, &mut at)?;
    out.clear();
    out.reserve(size);
    while at < delta.len() {
        let op = delta[at];
        at += 1;
        if op & 0x80 != 0 {
            let mut field = |bit: u8, shift: u32, v: &mut usize| -> Option<()> {
                if op & bit != 0 {
                    *v |= usize::from(*delta.get(at)?) << shift;
                    at += 1;
                }
                Some(())
            };
            let (mut off, mut len) = (0usize, 0usize);
            for (i, bit) in [1u8, 2, 4, 8].into_iter().enumerate() {
                field(bit, 8 * i as u32, &mut off)?;
            }
            for (i, bit) in [16u8, 32, 64].into_iter().enumerate() {
                field(bit, 8 * i as u32, &mut len)?;
            }
            if len == 0 {
                len = 0x10000;
            }
            out.extend_from_slice(base.get(off..off.checked_add(len)?)?);
        } else if op != 0 {
            let n = usize::from(op);
            out.extend_from_slice(delta.get(at..at + n)?);
            at += n;
        } else {
            return None;
        }
    }
    (out.len() == size).then_some(())
}

/// Whether `commit` hashes to `oid`, as libgit2 checks every object it
/// reads (strict hash verification): a corrupt index may point an id at
/// another object, and the fast path must then leave it to libgit2's error
/// rather than answer with the other commit (found by fuzz/pack).
fn hashes_to(commit: &[u8], oid: &[u8]) -> bool {
    git2::Oid::hash_object(git2::ObjectType::Commit, commit).is_ok_and(|h| h.as_bytes() == oid)
}

impl Packs {
    /// Maps every usable pack under `git_dir/objects/pack`. Never fails: a
    /// repository without usable packs just has no fast path.
    pub fn open(git_dir: &Path) -> Packs {
        let mut packs: Vec<Pack> = std::fs::read_dir(git_dir.join("objects/pack"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "idx"))
            .filter_map(|p| Pack::open(&p))
            .collect();
        // Biggest first: most objects live there.
        packs.sort_by_key(|p| std::cmp::Reverse(p.count));
        Packs { packs }
    }

    /// One pack and its index, from bytes in memory (the fuzzer's way in);
    /// `None` when they are not an index v2 and a pack it could describe.
    pub fn from_bytes(idx: Vec<u8>, pack: Vec<u8>) -> Option<Packs> {
        let p = Pack::new(Bytes::Owned(idx), Bytes::Owned(pack))?;
        Some(Packs { packs: vec![p] })
    }

    /// The object ids the indexes list, in index order (at most `limit`).
    pub fn ids(&self, limit: usize) -> Vec<[u8; HASH]> {
        let mut out = vec![];
        for p in &self.packs {
            for i in 0..p.count.min(limit.saturating_sub(out.len())) {
                let at = 8 + 256 * 4 + i * HASH;
                if let Some(id) = p.idx.get(at..at + HASH).and_then(|b| b.try_into().ok()) {
                    out.push(id);
                }
            }
        }
        out
    }

    /// Reads commit `oid` into `out`; `false` when it is not in a pack, not
    /// a commit, or not readable here (then ask libgit2).
    pub fn read_commit(&self, oid: &[u8], out: &mut Vec<u8>, r: &mut Reader) -> bool {
        self.packs.iter().any(|p| {
            p.offset(oid)
                .and_then(|off| p.object(off, out, r, 0))
                .is_some_and(|kind| kind == 1 && hashes_to(out, oid))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::test_git::git;

    /// Packed the ways git packs (offset deltas, ref deltas, 64-bit offsets)
    /// plus loose commits after the pack, every commit reads back
    /// byte-for-byte as libgit2 reads it, or is left to libgit2.
    #[test]
    fn reads_every_packed_commit_as_libgit2_does() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        git(d, &["config", "user.name", "Pack Test"]);
        git(d, &["config", "user.email", "pack@example.com"]);
        // Long, nearly identical messages: git deltifies such commits.
        let body = "All work and no play makes a dull commit message. ".repeat(40);
        for i in 0..60 {
            git(
                d,
                &[
                    "commit",
                    "-q",
                    "--allow-empty",
                    "-m",
                    &format!("change {i}\n\n{body}"),
                ],
            );
        }
        let loose_after = 3;
        for (name, config, index_version) in [
            ("offset deltas", "repack.useDeltaBaseOffset=true", None),
            ("ref deltas", "repack.useDeltaBaseOffset=false", None),
            (
                "64-bit offsets",
                "repack.useDeltaBaseOffset=true",
                Some("2,1000"),
            ),
        ] {
            git(
                d,
                &[
                    "-c",
                    config,
                    "repack",
                    "-q",
                    "-a",
                    "-d",
                    "-f",
                    "--window=60",
                    "--depth=50",
                ],
            );
            if let Some(v) = index_version {
                for e in std::fs::read_dir(d.join(".git/objects/pack")).unwrap() {
                    let p = e.unwrap().path();
                    if p.extension().is_some_and(|e| e == "pack") {
                        let idx = p.with_extension("idx");
                        std::fs::remove_file(&idx).unwrap();
                        git(
                            d,
                            &[
                                "index-pack",
                                &format!("--index-version={v}"),
                                p.to_str().unwrap(),
                            ],
                        );
                    }
                }
            }
            let verify = git(d, &["verify-pack", "-v", &find_idx(d)]);
            let deltas = verify
                .lines()
                .filter(|l| {
                    l.split_whitespace().nth(1) == Some("commit")
                        && l.split_whitespace().count() >= 7
                })
                .count();
            assert!(
                deltas > 10,
                "{name}: the fixture needs delta commits, got {deltas}"
            );
            for i in 0..loose_after {
                git(
                    d,
                    &[
                        "commit",
                        "-q",
                        "--allow-empty",
                        "-m",
                        &format!("loose {name} {i}"),
                    ],
                );
            }
            let repo = git2::Repository::open(d).unwrap();
            let odb = repo.odb().unwrap();
            let packs = Packs::open(&d.join(".git"));
            let mut reader = Reader::default();
            let (mut fast, mut left) = (0, 0);
            let mut buf = vec![];
            for sha in git(d, &["rev-list", "--all"]).lines() {
                let oid = git2::Oid::from_str(sha).unwrap();
                if packs.read_commit(oid.as_bytes(), &mut buf, &mut reader) {
                    assert_eq!(buf, odb.read(oid).unwrap().data(), "{name}: {sha}");
                    fast += 1;
                } else {
                    left += 1;
                }
            }
            assert_eq!(
                left, loose_after,
                "{name}: only loose commits are left to libgit2"
            );
            assert!(fast >= 60, "{name}: {fast} read from the pack");
            // A tree is not a commit: no answer, so libgit2 decides.
            let tree = repo.head().unwrap().peel_to_tree().unwrap().id();
            assert!(!packs.read_commit(tree.as_bytes(), &mut buf, &mut reader));
        }
    }

    fn find_idx(d: &Path) -> String {
        std::fs::read_dir(d.join(".git/objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// A repository of `commits` empty commits, packed: its directory, the
    /// pack index and the pack.
    fn one_pack(commits: usize) -> (tempfile::TempDir, Vec<u8>, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        for i in 0..commits {
            let msg = format!("c{i}");
            let who = ["-c", "user.name=P", "-c", "user.email=p@x"];
            git(
                d,
                &[&who[..], &["commit", "-q", "--allow-empty", "-m", &msg]].concat(),
            );
        }
        git(d, &["repack", "-q", "-a", "-d"]);
        let idx_path = find_idx(d);
        let idx = std::fs::read(&idx_path).unwrap();
        let pack = std::fs::read(Path::new(&idx_path).with_extension("pack")).unwrap();
        (dir, idx, pack)
    }

    /// An index whose id for a commit is off by one bit still finds the
    /// object, but the object hashes to the true id: the fast path says
    /// "ask libgit2" (whose error is then the user's), never the other
    /// commit's bytes. The other commits still read.
    #[test]
    fn an_index_id_that_does_not_match_its_object_is_left_to_libgit2() {
        let (dir, idx, pack) = one_pack(3);
        let d = dir.path();
        let head = git(d, &["rev-parse", "HEAD"]);
        let head = git2::Oid::from_str(head.trim()).unwrap();
        let others: Vec<git2::Oid> = git(d, &["rev-list", "HEAD~1"])
            .lines()
            .map(|s| git2::Oid::from_str(s).unwrap())
            .collect();
        let ids = 8 + 256 * 4;
        let at = (0..)
            .map(|i| ids + i * HASH)
            .find(|&at| &idx[at..at + HASH] == head.as_bytes())
            .unwrap();
        let mut bad = idx.clone();
        bad[at + HASH - 1] ^= 1;
        let mut wrong = *head.as_bytes().first_chunk::<HASH>().unwrap();
        wrong[HASH - 1] ^= 1;
        let (mut r, mut buf) = (Reader::default(), vec![]);
        let good = Packs::from_bytes(idx, pack.clone()).unwrap();
        assert!(good.read_commit(head.as_bytes(), &mut buf, &mut r));
        let packs = Packs::from_bytes(bad, pack).unwrap();
        assert!(packs.ids(10).contains(&wrong), "the id was changed");
        assert!(
            !packs.read_commit(&wrong, &mut buf, &mut r),
            "not the other commit's bytes"
        );
        for o in others {
            assert!(packs.read_commit(o.as_bytes(), &mut buf, &mut r), "{o}");
        }
    }

    /// A pack cut short or rewritten no longer ends with the checksum its
    /// index records, a pack of version 3 or 66 is not one libgit2 reads, and an
    /// index whose fanout goes down is corrupt: libgit2 refuses each, so the
    /// fast path leaves each to it (all found by fuzz/pack).
    #[test]
    fn packs_libgit2_would_refuse_are_left_to_it() {
        let (_dir, idx, pack) = one_pack(1);
        assert!(Packs::from_bytes(idx.clone(), pack.clone()).is_some());
        let mut truncated = pack.clone();
        truncated.truncate(pack.len() - 1);
        assert!(Packs::from_bytes(idx.clone(), truncated).is_none());
        let mut rewritten = pack.clone();
        *rewritten.last_mut().unwrap() ^= 1;
        assert!(Packs::from_bytes(idx.clone(), rewritten).is_none());
        for v in [3, 66] {
            let mut version = pack.clone();
            version[7] = v;
            assert!(
                Packs::from_bytes(idx.clone(), version).is_none(),
                "version {v}"
            );
        }
        let mut fanout = idx.clone();
        fanout[8 + 4 * 100 + 3] = 0xff; // bucket 100 above bucket 101
        assert!(Packs::from_bytes(fanout, pack).is_none());
    }

    #[test]
    fn applies_copy_and_insert_instructions() {
        let base = b"hello, world";
        // src 12, dst 11; copy 5 from 0, insert "!!", copy 4 from 8.
        let delta = [12u8, 11, 0x91, 0, 5, 2, b'!', b'!', 0x91, 8, 4];
        let mut out = vec![];
        apply_delta(base, &delta, &mut out).unwrap();
        assert_eq!(out, b"hello!!orld");
        // A wrong source size, a copy past the end, a zero opcode: refused.
        assert!(apply_delta(base, &[11, 5, 0x91, 0, 5], &mut out).is_none());
        assert!(apply_delta(base, &[12, 5, 0x91, 10, 5], &mut out).is_none());
        assert!(apply_delta(base, &[12, 5, 0], &mut out).is_none());
    }
}
