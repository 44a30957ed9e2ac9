//! The pack reader against libgit2 reading the same pack and index.
//!
//! The input is a pack index and a pack: four bytes (little-endian) give the
//! index's length, the index follows, then the pack. For every id the index
//! lists, whatever `Packs::read_commit` returns must be what libgit2 reads
//! from the same two files, and libgit2 must read it: the fast path may say
//! "ask libgit2", never answer where libgit2 would refuse.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use flowmeter_parse::git::pack::{Packs, Reader};
use git2::{ObjectType, Odb, Oid};
use libfuzzer_sys::fuzz_target;

static RUN: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let len = u32::from_le_bytes(*len) as usize;
    if len > rest.len() {
        return;
    }
    let (idx, pack) = rest.split_at(len);
    let Some(packs) = Packs::from_bytes(idx.to_vec(), pack.to_vec()) else {
        return;
    };
    let ids = packs.ids(64);
    let mut reader = Reader::default();
    let mut buf = vec![];
    let mut answers: Vec<(Oid, Vec<u8>)> = vec![];
    for id in &ids {
        if packs.read_commit(&id[..], &mut buf, &mut reader) {
            answers.push((Oid::from_bytes(id).expect("20 bytes"), buf.clone()));
        }
    }
    if answers.is_empty() {
        return;
    }
    // libgit2 reads the same files from a directory of their own (a fresh
    // name each run: libgit2 caches packs by path).
    let dir = std::env::temp_dir().join(format!(
        "flowmeter-fuzz-pack-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let objects = dir.join("objects");
    std::fs::create_dir_all(objects.join("pack")).expect("temp dir");
    std::fs::write(objects.join("pack/pack-fuzz.idx"), idx).expect("write idx");
    std::fs::write(objects.join("pack/pack-fuzz.pack"), pack).expect("write pack");
    {
        let odb = Odb::new().expect("odb");
        odb.add_disk_alternate(objects.to_str().expect("utf-8 temp dir"))
            .expect("alternate");
        for (oid, ours) in &answers {
            match odb.read(*oid) {
                Ok(o) => {
                    assert_eq!(
                        o.kind(),
                        ObjectType::Commit,
                        "{oid}: libgit2 reads a {:?}",
                        o.kind()
                    );
                    assert_eq!(o.data(), &ours[..], "{oid}: libgit2 reads other bytes");
                }
                Err(e) => panic!("{oid}: we read a commit libgit2 refuses: {e}"),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
});
