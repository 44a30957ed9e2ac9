//! The commit-object parser against libgit2's parse of the same bytes.
//!
//! Where `commit::parse` answers, libgit2 must read the same object and give
//! the same parents, signatures, times, raw message and summary. Where it
//! says `None` the ingest asks libgit2, so there is nothing to compare.
#![no_main]

use flowmeter_parse::git::commit;
use git2::{ObjectType, Odb, Repository};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    let Some(ours) = commit::parse(raw) else {
        return;
    };
    // An in-memory object database: nothing touches the disk.
    let odb = Odb::new().expect("odb");
    let _mempack = odb.add_new_mempack_backend(1).expect("mempack");
    let oid = odb.write(ObjectType::Commit, raw).expect("mempack write");
    let repo = Repository::from_odb(odb).expect("repo");
    let theirs = match repo.find_commit(oid) {
        Ok(c) => c,
        Err(e) => panic!(
            "we parsed a commit libgit2 refuses ({e}): {:?}",
            String::from_utf8_lossy(raw)
        ),
    };
    let parents: Vec<git2::Oid> = theirs.parent_ids().collect();
    assert_eq!(ours.parents, parents, "parents");
    let (a, c) = (theirs.author(), theirs.committer());
    assert_eq!(ours.author.name, a.name_bytes(), "author name");
    assert_eq!(ours.author.email, a.email_bytes(), "author email");
    assert_eq!(ours.author.seconds, a.when().seconds(), "author time");
    assert_eq!(ours.committer.name, c.name_bytes(), "committer name");
    assert_eq!(ours.committer.email, c.email_bytes(), "committer email");
    assert_eq!(ours.committer.seconds, c.when().seconds(), "committer time");
    assert_eq!(ours.message, theirs.message_raw_bytes(), "raw message");
    assert_eq!(
        commit::summary(ours.message),
        theirs.summary_bytes().unwrap_or_default(),
        "summary"
    );
});
