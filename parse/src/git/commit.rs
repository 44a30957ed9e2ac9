//! A commit object parser for the metadata walk, faithful to libgit2's.
//!
//! libgit2's `git_commit` allocates and copies every field and goes through
//! its object cache. This parser borrows from the raw object instead. It accepts
//! only the canonical layout that git writes (`tree`, `parent`s, one
//! `author`, `committer`, other headers, a blank line, the message) and says
//! `None` for anything else, so the caller falls back to libgit2 for odd
//! objects and its errors stay the ones users already get. Where it answers,
//! it answers exactly what libgit2 would: the tests compare the two field by
//! field, on fixtures and on hand-made odd objects.

use git2::Oid;

use super::oid_from_hex;

/// A commit's fields, borrowed from its raw object.
#[derive(Debug, PartialEq)]
pub struct Parsed<'a> {
    /// The parents, in order.
    pub parents: Vec<Oid>,
    pub author: Signature<'a>,
    pub committer: Signature<'a>,
    /// The raw message, as `git_commit_message_raw` gives it (cut at a NUL).
    pub message: &'a [u8],
}

/// A name, an email and a time in seconds since the epoch.
#[derive(Debug, PartialEq)]
pub struct Signature<'a> {
    pub name: &'a [u8],
    pub email: &'a [u8],
    pub seconds: i64,
}

/// Parses a commit object's bytes; `None` when the layout is not the
/// canonical one (the caller then asks libgit2).
pub fn parse(raw: &[u8]) -> Option<Parsed<'_>> {
    let mut rest = raw;
    rest = oid_header(rest, b"tree ")?.1;
    let mut parents = Vec::with_capacity(1);
    while rest.starts_with(b"parent ") {
        let (id, r) = oid_header(rest, b"parent ")?;
        parents.push(id);
        rest = r;
    }
    let (author, r) = signature(rest, b"author ")?;
    rest = r;
    if rest.starts_with(b"author ") {
        return None; // libgit2 parses and drops extra authors; leave it to it
    }
    let (committer, r) = signature(rest, b"committer ")?;
    rest = r;
    // Other headers (encoding, gpgsig and its continuation lines, mergetag)
    // run to the first empty line; the message follows it.
    let message = if let Some(after) = rest.strip_prefix(b"\n") {
        after
    } else {
        match memchr::memmem::find(rest, b"\n\n") {
            Some(at) => &rest[at + 2..],
            None => &rest[..0],
        }
    };
    // libgit2 copies the message as a C string: it ends at the first NUL.
    let message = match memchr::memchr(0, message) {
        Some(nul) => &message[..nul],
        None => message,
    };
    Some(Parsed {
        parents,
        author,
        committer,
        message,
    })
}

/// `header` + 40 hex digits + newline: the id and what follows.
fn oid_header<'a>(buf: &'a [u8], header: &[u8]) -> Option<(Oid, &'a [u8])> {
    let rest = buf.strip_prefix(header)?;
    if rest.get(40) != Some(&b'\n') {
        return None;
    }
    Some((oid_from_hex(&rest[..40])?, &rest[41..]))
}

/// libgit2's `is_crud`: what `extract_trimmed` strips from names and emails.
fn is_crud(c: u8) -> bool {
    c <= 32 || matches!(c, b',' | b':' | b';' | b'<' | b'>' | b'"' | b'\\' | b'\'')
}

fn trim_crud(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_crud(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_crud(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// `header` + `Name <email> 1234567890 +0100` + newline, as
/// `git_signature__parse` reads it: the last `<` and `>` on the line delimit
/// the email, both parts are trimmed of "crud". Only a plain decimal time is
/// accepted here; anything else goes to libgit2.
fn signature<'a>(buf: &'a [u8], header: &[u8]) -> Option<(Signature<'a>, &'a [u8])> {
    let eol = memchr::memchr(b'\n', buf)?;
    let line = buf[..eol].strip_prefix(header)?;
    // libgit2 copies the name and email as C strings, cut at a NUL: leave
    // such a line to it rather than copy its truncation rules.
    if memchr::memchr(0, line).is_some() {
        return None;
    }
    let lt = memchr::memrchr(b'<', line)?;
    let gt = memchr::memrchr(b'>', line)?;
    if gt <= lt {
        return None;
    }
    // libgit2 starts the time two bytes after `>`: require "> " + digits.
    let after = line.get(gt + 1..)?;
    let digits_etc = after.strip_prefix(b" ")?;
    let ndigits = digits_etc.iter().take_while(|c| c.is_ascii_digit()).count();
    if ndigits == 0 || ndigits > 18 {
        return None;
    }
    let tail = &digits_etc[ndigits..];
    if !(tail.is_empty() || tail.first() == Some(&b' ')) {
        return None;
    }
    let seconds = digits_etc[..ndigits]
        .iter()
        .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
    Some((
        Signature {
            name: trim_crud(&line[..lt]),
            email: trim_crud(&line[lt + 1..gt]),
            seconds,
        },
        &buf[eol + 1..],
    ))
}

/// `git_commit_summary`: the first paragraph of the message (leading blank
/// lines skipped), its lines joined with a space, other whitespace runs kept
/// as they are and trailing whitespace dropped.
pub fn summary(raw_message: &[u8]) -> Vec<u8> {
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let is_space_nonlf = |c: u8| matches!(c, b' ' | b'\t' | 0x0b | 0x0c | b'\r');
    let start = raw_message
        .iter()
        .position(|&c| c != b'\n')
        .unwrap_or(raw_message.len());
    let msg = &raw_message[start..];
    let mut out = Vec::with_capacity(msg.len().min(96));
    let mut space: Option<usize> = None;
    let mut space_has_newline = false;
    for (i, &c) in msg.iter().enumerate() {
        if c == b'\n' {
            match msg.get(i + 1) {
                None | Some(b'\n') => break,
                Some(_) => {
                    let next = msg[i + 1..].iter().position(|&c| !is_space_nonlf(c));
                    match next.map(|n| msg[i + 1 + n]) {
                        None | Some(b'\n') => break,
                        Some(_) => {}
                    }
                }
            }
        }
        if is_space(c) {
            if space.is_none() {
                space = Some(i);
                space_has_newline = false;
            }
            space_has_newline |= c == b'\n';
        } else {
            if let Some(s) = space.take() {
                if space_has_newline {
                    out.push(b' ');
                } else {
                    out.extend_from_slice(&msg[s..i]);
                }
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::{ObjectType, Repository};

    /// Parents; author name and email, committer name and email, raw
    /// message; author and committer seconds.
    type View = (Vec<String>, [Vec<u8>; 5], i64, i64);

    /// Writes `raw` as a commit object and reads it back through libgit2.
    fn libgit2_view(repo: &Repository, raw: &[u8]) -> Option<View> {
        let oid = repo.odb().ok()?.write(ObjectType::Commit, raw).ok()?;
        let c = repo.find_commit(oid).ok()?;
        let (a, m) = (c.author(), c.committer());
        Some((
            c.parent_ids().map(|p| p.to_string()).collect(),
            [
                a.name_bytes().to_vec(),
                a.email_bytes().to_vec(),
                m.name_bytes().to_vec(),
                m.email_bytes().to_vec(),
                c.message_raw_bytes().to_vec(),
            ],
            a.when().seconds(),
            m.when().seconds(),
        ))
        .map(|v| {
            assert_eq!(
                c.summary_bytes().unwrap_or_default(),
                summary(&v.1[4]).as_slice(),
                "summary of {:?}",
                String::from_utf8_lossy(raw)
            );
            v
        })
    }

    fn ours(raw: &[u8]) -> Option<View> {
        let p = parse(raw)?;
        Some((
            p.parents.iter().map(Oid::to_string).collect(),
            [
                p.author.name.to_vec(),
                p.author.email.to_vec(),
                p.committer.name.to_vec(),
                p.committer.email.to_vec(),
                p.message.to_vec(),
            ],
            p.author.seconds,
            p.committer.seconds,
        ))
    }

    const TREE: &str = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n";
    const P1: &str = "parent 0123456789abcdef0123456789abcdef01234567\n";
    const P2: &str = "parent 89abcdef0123456789abcdef0123456789abcdef\n";

    /// Every case: where ours answers, it must equal libgit2's answer.
    /// `expect_ours` says whether the fast path should take it at all.
    #[test]
    fn agrees_with_libgit2_field_by_field() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let sig = "A U Thor <a@example.com> 1700000000 +0100\n";
        let cases: Vec<(Vec<u8>, bool)> = vec![
            (format!("{TREE}author {sig}committer {sig}\nSubject\n\nBody\n").into(), true),
            (format!("{TREE}{P1}{P2}author {sig}committer C <c@x> 1 -0500\n\nMerge\n").into(), true),
            // Leading blank lines, a second paragraph after a whitespace-only line,
            // tabs kept inside the summary and a wrapped first paragraph.
            (format!("{TREE}author {sig}committer {sig}\n\n\nfirst\tline\n  wrapped here  \n \t\nnext").into(), true),
            // Headers after committer: encoding and a multi-line gpgsig.
            (format!("{TREE}author {sig}committer {sig}encoding ISO-8859-1\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\nSigned\n").into(), true),
            // Crud around names and emails, `<` inside the name, no timezone.
            (format!("{TREE}author  \"Quoted, Name\" ; <<weird@x>> 5\ncommitter x<y <z> 7\n\nm").into(), true),
            // A name that isn't UTF-8, a message with a NUL in it.
            ([TREE.as_bytes(), b"author J\xf6rg <j@x> 9 +0000\ncommitter J\xf6rg <j@x> 9 +0000\n\nbefore\0after\n"].concat(), true),
            // No message at all, and no blank line.
            (format!("{TREE}author {sig}committer {sig}").into(), true),
            (format!("{TREE}author {sig}committer {sig}\n").into(), true),
            // Odd objects go to libgit2: two authors, a signed time, no time, a bad parent.
            (format!("{TREE}author {sig}author {sig}committer {sig}\nm").into(), false),
            (format!("{TREE}author A <a> -5 +0000\ncommitter {sig}\nm").into(), false),
            (format!("{TREE}author A <a>\ncommitter {sig}\nm").into(), false),
            (format!("{TREE}parent 123\nauthor {sig}committer {sig}\nm").into(), false),
            (format!("{TREE}author A a@b 5 +0000\ncommitter {sig}\nm").into(), false),
            // A NUL in a signature: libgit2 copies names and emails as C
            // strings and cuts them there (found by fuzz/commit).
            (format!("{TREE}author {sig}committer F <f@x.co\0\0m> 1 -0500\n\nm").into(), false),
            (format!("{TREE}author A\0B <a@x> 1 +0000\ncommitter {sig}\nm").into(), false),
        ];
        for (raw, expect_ours) in cases {
            let shown = String::from_utf8_lossy(&raw).into_owned();
            let ours = ours(&raw);
            assert_eq!(ours.is_some(), expect_ours, "fast path taken? {shown:?}");
            if let Some(ours) = ours {
                assert_eq!(Some(ours), libgit2_view(&repo, &raw), "{shown:?}");
            }
        }
    }

    #[test]
    fn summary_matches_git_commit_summary_by_hand() {
        assert_eq!(summary(b"\n\nfix: a\n b\n\nbody"), b"fix: a b");
        assert_eq!(summary(b"one  two\t\n"), b"one  two");
        assert_eq!(summary(b"a\n   \nb"), b"a");
        assert_eq!(summary(b""), b"");
    }
}
