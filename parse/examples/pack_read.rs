//! Reads every commit named on stdin (40-hex ids, one a line) through the
//! pack fast path of the git dir in argv[1], and says how much of that time
//! is the hash check that every answer gets (BENCHMARKS.md, "Pack reader").
//!
//! git -C REPO rev-list --all | cargo run --release -p flowmeter-parse --example pack_read -- REPO

use std::io::BufRead;
use std::time::Instant;

use flowmeter_parse::git::pack::{Packs, Reader};
use git2::{ObjectType, Oid};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: pack_read GIT_DIR < ids");
    let ids: Vec<Oid> = std::io::stdin()
        .lock()
        .lines()
        .map(|l| Oid::from_str(l.expect("stdin").trim()).expect("a 40-hex id"))
        .collect();
    let packs = Packs::open(dir.as_ref());
    let mut reader = Reader::default();
    let mut best = (f64::MAX, f64::MAX, 0usize, 0usize);
    for _ in 0..5 {
        let mut buf = vec![];
        let mut bodies = Vec::with_capacity(ids.len());
        let started = Instant::now();
        for id in &ids {
            if packs.read_commit(id.as_bytes(), &mut buf, &mut reader) {
                bodies.push(buf.clone());
            }
        }
        let read = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let bytes: usize = bodies.iter().map(Vec::len).sum();
        for b in &bodies {
            std::hint::black_box(Oid::hash_object(ObjectType::Commit, b).expect("hash"));
        }
        let hash = started.elapsed().as_secs_f64();
        if read < best.0 {
            best = (read, hash, bodies.len(), bytes);
        }
    }
    let (read, hash, n, bytes) = best;
    println!(
        "{n} of {} commits read from packs ({bytes} bytes) in {:.1} ms, of which the hash check is {:.1} ms ({:.0}%)",
        ids.len(),
        read * 1e3,
        hash * 1e3,
        100.0 * hash / read
    );
}
