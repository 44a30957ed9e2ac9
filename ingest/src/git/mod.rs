//! Git history into the store: refs, commits with diff stats, links between commits.

mod diff;
mod rename;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flowmeter_store::{WriteGuard, COMMITS, REFS, REF_HISTORY, REPOS};
use git2::{Oid, Repository, RepositoryOpenFlags};
use globset::{Glob, GlobSetBuilder};
use polars::prelude::*;
use rayon::prelude::*;

pub use diff::{CommitStats, Differ};
pub use flowmeter_parse::git::{cherry_picked_from, reverts};
use flowmeter_parse::git::{commit, message, oid_from_hex, pack};

use crate::error::{polars_err, Error, Result};

/// What to ingest from one repository.
#[derive(Debug, Clone)]
pub struct GitOptions {
    /// The repo's name in the store.
    pub name: String,
    /// Extra ref globs on full ref names (`refs/pull/*`); branches and tags are always in.
    pub extra_refs: Vec<String>,
    /// Compute diff stats and patch ids.
    pub stats: bool,
    /// Worker threads for stats (0: rayon's default).
    pub threads: usize,
}

/// Receives progress from a long ingest. Called from worker threads.
pub trait Progress: Sync {
    /// `total` commits are about to be processed for `repo`.
    fn start(&self, _repo: &str, _total: u64) {}
    /// `n` more commits are done.
    fn advance(&self, _n: u64) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl Progress for NoProgress {}

/// What an ingest did.
#[derive(Debug, Clone, Default)]
pub struct GitReport {
    pub repo: String,
    pub location: PathBuf,
    /// Refs unchanged since the last run: nothing was read or written.
    pub up_to_date: bool,
    pub refs: usize,
    pub commits_total: usize,
    pub commits_new: usize,
    /// Stored commits no ref reaches any more.
    pub commits_unreachable: usize,
    pub unreadable_blobs: u64,
    /// Branches and tags left out, each as its name and why: it points at a
    /// tree or a blob, or its name is not UTF-8.
    pub skipped_refs: Vec<String>,
    pub elapsed: Duration,
}

/// A ref as ingested.
#[derive(Debug, Clone, PartialEq)]
struct RefRow {
    name: String,
    kind: &'static str,
    sha: String,
    tagged_at: Option<i64>,
}

/// The repo name to use when none is given: the directory name without `.git`.
pub fn default_name(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repo".into());
    if name == ".git" {
        if let Some(parent) = path.parent().and_then(|p| p.file_name()) {
            name = parent.to_string_lossy().into_owned();
        }
    }
    name.strip_suffix(".git").map(str::to_owned).unwrap_or(name)
}

/// Opens `path` as a repository (work tree or bare), refusing shallow and empty ones.
pub fn open_repo(path: &Path) -> Result<Repository> {
    let repo = Repository::open_ext(path, RepositoryOpenFlags::NO_SEARCH, &[] as &[&str])
        .map_err(|_| Error::NotARepo { path: path.into() })?;
    if repo.is_shallow() {
        return Err(Error::Shallow { path: path.into() });
    }
    // libgit2's is_empty() only recognises an unborn `master`; look for any
    // reference that reaches a commit instead.
    // A ref whose object cannot be read is damage, not emptiness.
    let mut has_commit = repo.head().and_then(|h| h.peel_to_commit()).is_ok();
    let mut damaged = None;
    if !has_commit {
        for r in repo
            .references()
            .map_err(git_err(path, "listing references"))?
            .flatten()
        {
            let Some(id) = r.resolve().ok().and_then(|t| t.target()) else {
                continue;
            };
            match repo.find_object(id, None) {
                Ok(o) if o.peel_to_commit().is_ok() => {
                    has_commit = true;
                    break;
                }
                Ok(_) => {}
                Err(_) => {
                    damaged.get_or_insert((lossy(r.name_bytes()), id));
                }
            }
        }
    }
    match (has_commit, damaged) {
        (true, _) => Ok(repo),
        (false, Some((name, id))) => Err(damaged_ref(path, &name, id)),
        (false, None) => Err(Error::EmptyRepo { path: path.into() }),
    }
}

/// A ref whose object is missing or unreadable (a corrupt loose object, a
/// truncated pack): the repository is damaged, and git would say so too.
fn damaged_ref(path: &Path, name: &str, id: Oid) -> Error {
    Error::Input {
        path: path.into(),
        message: format!(
            "{name} points at {id}, an object that is missing or unreadable: \
             the repository is damaged (`git fsck` says more)"
        ),
    }
}

fn micros(t: git2::Time) -> i64 {
    t.seconds() * 1_000_000
}

fn git_err(path: &Path, context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error + '_ {
    let context = context.into();
    move |e| {
        // An object that does not inflate or is not where its index says is a
        // damaged repository; say so, with the way to find out more.
        let damaged = matches!(e.class(), git2::ErrorClass::Zlib | git2::ErrorClass::Odb);
        let mut message = e.message().to_owned();
        if damaged {
            message.push_str(": an object could not be read, so the repository is damaged (`git fsck` says more)");
        }
        Error::Git {
            path: path.into(),
            context,
            message,
        }
    }
}

/// Reads the refs to ingest: local branches, tags (peeled, with tagger dates),
/// and whatever `extra` globs match. Refs that are not history come back
/// apart, each as its name and why, so that the run can say so; a ref whose
/// object is missing is an error, as it is to git.
fn read_refs(
    repo: &Repository,
    path: &Path,
    extra: &[String],
) -> Result<(Vec<RefRow>, Vec<String>)> {
    let mut globs = GlobSetBuilder::new();
    for g in extra {
        globs.add(Glob::new(g).map_err(|source| Error::Glob {
            glob: g.clone(),
            source,
        })?);
    }
    let globs = globs.build().map_err(|source| Error::Glob {
        glob: extra.join(","),
        source,
    })?;
    let mut skipped = vec![];
    // `--refs` globs reach beyond branches and tags: libgit2 lists those.
    let fast = extra
        .is_empty()
        .then(|| files_backend_refs(repo, &mut skipped))
        .flatten();
    let targets = match fast {
        Some(t) => t,
        None => {
            skipped.clear();
            libgit2_refs(repo, path, extra, &globs, &mut skipped)?
        }
    };
    let mut out = vec![];
    for (full, target) in targets {
        match ref_row(repo, &full, target) {
            Ok(row) => out.push(row),
            Err(RefSkip::NotHistory(kind)) => skipped.push(format!("{full} (points at a {kind})")),
            Err(RefSkip::Missing) => return Err(damaged_ref(path, &full, target)),
        }
    }
    out.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    skipped.sort();
    Ok((out, skipped))
}

/// Every branch and tag with its target, read the way git reads the files
/// backend: `packed-refs`, then loose ref files, which win. libgit2 loads all
/// of `packed-refs` into a sorted cache to list any of it; where thousands
/// of `refs/pull/*` are packed (rust-lang/cargo: 9,426), that was most of
/// the ref reading. `None` for anything else (reftable, an odd line or
/// file), and libgit2 lists them instead.
fn files_backend_refs(repo: &Repository, skipped: &mut Vec<String>) -> Option<Vec<(String, Oid)>> {
    let common = repo.commondir();
    if common.join("reftable").exists() {
        return None;
    }
    let wanted = |name: &str| name.starts_with("refs/heads/") || name.starts_with("refs/tags/");
    let mut refs: std::collections::BTreeMap<String, Oid> = Default::default();
    match std::fs::read(common.join("packed-refs")) {
        Ok(bytes) => {
            for line in bytes.split(|&b| b == b'\n') {
                if line.is_empty() || line[0] == b'#' || line[0] == b'^' {
                    continue;
                }
                if line.get(40) != Some(&b' ') {
                    return None;
                }
                let Ok(name) = std::str::from_utf8(&line[41..]) else {
                    skipped.push(format!("{} (its name is not UTF-8)", lossy(&line[41..])));
                    continue;
                };
                if wanted(name) {
                    refs.insert(name.to_owned(), oid_from_hex(&line[..40])?);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => return None,
    }
    let mut dirs = vec![common.join("refs/heads"), common.join("refs/tags")];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) => return None,
        };
        for entry in entries {
            let path = entry.ok()?.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let Some(name) = path
                .strip_prefix(common)
                .ok()
                .and_then(|p| p.to_str())
                .map(|p| p.replace(std::path::MAIN_SEPARATOR, "/"))
            else {
                skipped.push(format!(
                    "{} (its name is not UTF-8)",
                    path.strip_prefix(common).unwrap_or(&path).to_string_lossy()
                ));
                continue;
            };
            if name.ends_with(".lock") {
                continue; // a ref being written, as git and libgit2 skip it
            }
            let content = std::fs::read(&path).ok()?;
            let content = content.strip_suffix(b"\n").unwrap_or(&content);
            if content.starts_with(b"ref: ") {
                // A symbolic ref: libgit2 resolves it; a dangling one is not history.
                match repo.refname_to_id(&name) {
                    Ok(id) => refs.insert(name, id),
                    Err(_) => refs.remove(&name),
                };
            } else {
                refs.insert(name, oid_from_hex(content)?);
            }
        }
    }
    Some(refs.into_iter().collect())
}

/// Branches, tags and refs matching `globs`, with their targets, as libgit2
/// lists them.
fn libgit2_refs(
    repo: &Repository,
    path: &Path,
    extra: &[String],
    globs: &globset::GlobSet,
    skipped: &mut Vec<String>,
) -> Result<Vec<(String, Oid)>> {
    let mut out = vec![];
    for r in repo
        .references()
        .map_err(git_err(path, "listing references"))?
    {
        let r = r.map_err(git_err(path, "reading a reference"))?;
        let Ok(full) = r.name().map(str::to_owned) else {
            let bytes = lossy(r.name_bytes());
            if bytes.starts_with("refs/heads/") || bytes.starts_with("refs/tags/") {
                skipped.push(format!("{bytes} (its name is not UTF-8)"));
            }
            continue;
        };
        let branch_or_tag = full.starts_with("refs/heads/") || full.starts_with("refs/tags/");
        if !branch_or_tag && (extra.is_empty() || !globs.is_match(&full)) {
            continue;
        }
        // A dangling symbolic ref is not history.
        if let Some(target) = r.resolve().ok().and_then(|r| r.target()) {
            out.push((full, target));
        }
    }
    Ok(out)
}

/// Why a listed ref has no row.
enum RefSkip {
    /// It points at a tree or a blob: not history.
    NotHistory(&'static str),
    /// Its object is not in the repository.
    Missing,
}

/// A ref's row (the lists hold only branches, tags and refs a `--refs` glob
/// matched).
fn ref_row(repo: &Repository, full: &str, target: Oid) -> std::result::Result<RefRow, RefSkip> {
    let (kind, name) = match (
        full.strip_prefix("refs/heads/"),
        full.strip_prefix("refs/tags/"),
    ) {
        (Some(n), _) => ("branch", n.to_owned()),
        (_, Some(n)) => ("tag", n.to_owned()),
        (None, None) => ("other", full.to_owned()),
    };
    let object = repo
        .find_object(target, None)
        .map_err(|_| RefSkip::Missing)?;
    // An annotated tag keeps its own date.
    let tagged_at = match (kind, object.as_tag()) {
        ("tag", Some(tag)) => tag.tagger().map(|s| micros(s.when())),
        _ => None,
    };
    let commit = object.peel_to_commit().map_err(|_| {
        // What the ref names once its tags are peeled; a tag whose target is
        // missing is a damaged repository.
        let mut o = object.clone();
        while let Some(tag) = o.as_tag() {
            match tag.target() {
                Ok(t) => o = t,
                Err(_) => return RefSkip::Missing,
            }
        }
        match o.kind() {
            Some(git2::ObjectType::Tree) => RefSkip::NotHistory("tree"),
            Some(git2::ObjectType::Blob) => RefSkip::NotHistory("blob"),
            _ => RefSkip::Missing,
        }
    })?;
    Ok(RefRow {
        name,
        kind,
        sha: commit.id().to_string(),
        tagged_at,
    })
}

/// One commit's metadata, read in parallel.
struct CommitRow {
    sha: String,
    parents: Vec<String>,
    author_name: String,
    author_email: String,
    authored_at: i64,
    committer_name: String,
    committer_email: String,
    committed_at: i64,
    summary: String,
    reverts: Option<String>,
    cherry_picked_from: Option<String>,
    stats: Option<CommitStats>,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn commit_row(c: &git2::Commit, sha: String) -> CommitRow {
    let author = c.author();
    let committer = c.committer();
    let message = c.message_raw_bytes();
    CommitRow {
        sha,
        parents: c.parent_ids().map(|p| p.to_string()).collect(),
        author_name: lossy(author.name_bytes()),
        author_email: lossy(author.email_bytes()),
        authored_at: micros(author.when()),
        committer_name: lossy(committer.name_bytes()),
        committer_email: lossy(committer.email_bytes()),
        committed_at: micros(c.time()),
        summary: c.summary_bytes().map(lossy).unwrap_or_default(),
        reverts: message::reverts(message),
        cherry_picked_from: message::cherry_picked_from(message),
        stats: None,
    }
}

/// The same row from the fast parser's view of the raw object.
fn parsed_row(c: &commit::Parsed, sha: String) -> CommitRow {
    CommitRow {
        sha,
        parents: c.parents.iter().map(Oid::to_string).collect(),
        author_name: lossy(c.author.name),
        author_email: lossy(c.author.email),
        authored_at: c.author.seconds * 1_000_000,
        committer_name: lossy(c.committer.name),
        committer_email: lossy(c.committer.email),
        committed_at: c.committer.seconds * 1_000_000,
        summary: lossy(&commit::summary(c.message)),
        reverts: message::reverts(c.message),
        cherry_picked_from: message::cherry_picked_from(c.message),
        stats: None,
    }
}

/// What the walkers share: the frontier, the commits seen, and the results.
struct Walk {
    frontier: Vec<Oid>,
    seen: HashSet<Oid>,
    /// Workers reading a batch: the walk is over when none are and the frontier is empty.
    reading: usize,
    rows: Vec<(Oid, CommitRow)>,
    error: Option<git2::Error>,
}

/// Every reachable commit, and rows for the wanted ones.
type Walked = (HashSet<Oid>, Vec<(Oid, CommitRow)>);

/// Every commit reachable from `tips`, each read exactly once: a walk whose
/// frontier `threads` workers share. The commits `wanted` returns true for
/// come back as rows (parents are read from the same parsed commit, so no
/// revwalk reads them a second time). Commits are read from the packs by
/// [`pack::Packs`] and parsed by [`commit::parse`]; whatever those leave
/// (loose objects, odd layouts) goes through the worker's libgit2 handle.
fn walk_commits(
    git_dir: &Path,
    tips: &[Oid],
    threads: usize,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> std::result::Result<Walked, git2::Error> {
    let mut seen = HashSet::new();
    let frontier: Vec<Oid> = tips.iter().copied().filter(|t| seen.insert(*t)).collect();
    let state = std::sync::Mutex::new(Walk {
        frontier,
        seen,
        reading: 0,
        rows: Vec::new(),
        error: None,
    });
    let more = std::sync::Condvar::new();
    let packs = pack::Packs::open(git_dir);
    let work = || -> std::result::Result<(), git2::Error> {
        let repo = Repository::open_bare(git_dir)?;
        let mut reader = pack::Reader::default();
        let mut raw = Vec::new();
        let mut batch: Vec<Oid> = Vec::new();
        let mut parents: Vec<Oid> = Vec::new();
        let mut rows: Vec<(Oid, CommitRow)> = Vec::new();
        loop {
            {
                let mut s = state.lock().expect("walk lock");
                loop {
                    if s.error.is_some() {
                        return Ok(());
                    }
                    if !s.frontier.is_empty() {
                        // Take up to half the frontier, so the others have work too.
                        let n = s.frontier.len().div_ceil(2).min(32);
                        let at = s.frontier.len() - n;
                        batch.extend(s.frontier.drain(at..));
                        s.reading += 1;
                        break;
                    }
                    if s.reading == 0 {
                        more.notify_all();
                        return Ok(());
                    }
                    s = more.wait(s).expect("walk lock");
                }
            }
            let mut failed = None;
            for oid in batch.drain(..) {
                let sha = oid.to_string();
                let want = wanted(&sha);
                let fast = packs
                    .read_commit(oid.as_bytes(), &mut raw, &mut reader)
                    .then(|| commit::parse(&raw))
                    .flatten();
                if let Some(c) = fast {
                    parents.extend_from_slice(&c.parents);
                    if want {
                        rows.push((oid, parsed_row(&c, sha)));
                    }
                    continue;
                }
                match repo.find_commit(oid) {
                    Ok(c) => {
                        parents.extend(c.parent_ids());
                        if want {
                            rows.push((oid, commit_row(&c, sha)));
                        }
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            batch.clear();
            let mut s = state.lock().expect("walk lock");
            s.reading -= 1;
            if let Some(e) = failed {
                s.error = Some(e);
            }
            s.rows.append(&mut rows);
            let before = s.frontier.len();
            for p in parents.drain(..) {
                if s.seen.insert(p) {
                    s.frontier.push(p);
                }
            }
            // Wake the waiting walkers for new work, an error, or the end.
            let wake = s.frontier.len() > before
                || s.error.is_some()
                || (s.reading == 0 && s.frontier.is_empty());
            drop(s);
            if wake {
                more.notify_all();
            }
        }
    };
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.max(1)).map(|_| scope.spawn(work)).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("walker thread"))
            .collect()
    });
    let walk = state.into_inner().expect("walk lock");
    if let Some(e) = walk.error {
        return Err(e);
    }
    results
        .into_iter()
        .collect::<std::result::Result<(), _>>()?;
    Ok((walk.seen, walk.rows))
}

/// Ingests one repository into the store. Incremental: unchanged refs cost one
/// ref listing; new commits are the only ones read and diffed.
pub fn ingest_git(
    guard: &WriteGuard,
    path: &Path,
    opts: &GitOptions,
    progress: &dyn Progress,
) -> Result<GitReport> {
    let started = Instant::now();
    // git does not re-hash objects it reads; libgit2 does unless told not to.
    // Reads stay checked by zlib's CRC and pack index; this only skips SHA-1.
    git2::opts::strict_hash_verification(false);
    let repo = open_repo(path)?;
    let location = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let name = opts.name.as_str();
    let store = guard.store();
    let mut report = GitReport {
        repo: name.into(),
        location: location.clone(),
        ..Default::default()
    };

    let (refs, skipped_refs) = read_refs(&repo, path, &opts.extra_refs)?;
    report.refs = refs.len();
    report.skipped_refs = skipped_refs;
    if refs.is_empty() {
        return Err(Error::Input {
            path: path.into(),
            message: "no branches or tags to ingest".into(),
        });
    }

    // What the store knows already.
    let old_refs = store.read_repo(&REFS, name)?;
    let old_ref_map = ref_map(&old_refs)?;
    let new_ref_map: HashMap<(String, String), String> = refs
        .iter()
        .map(|r| ((r.kind.to_string(), r.name.clone()), r.sha.clone()))
        .collect();
    let old_commits = store.read_repo(&COMMITS, name)?;
    let need_stats_again: HashSet<String> = if opts.stats {
        // Commits ingested with --no-stats earlier get their stats now.
        let mask = old_commits
            .column("files_changed")
            .map_err(polars_err("reading commits"))?
            .is_null();
        let shas = old_commits
            .column("sha")
            .map_err(polars_err("reading commits"))?
            .filter(&mask)
            .map_err(polars_err("reading commits"))?;
        str_values(&shas).into_iter().collect()
    } else {
        HashSet::new()
    };
    if old_ref_map == new_ref_map && old_commits.height() > 0 && need_stats_again.is_empty() {
        report.up_to_date = true;
        report.commits_total = old_commits.height();
        report.elapsed = started.elapsed();
        return Ok(report);
    }

    // Every commit reachable from the refs, each read once; the new ones
    // come back as rows.
    let known: HashSet<String> = str_values(
        old_commits
            .column("sha")
            .map_err(polars_err("reading commits"))?,
    )
    .into_iter()
    .collect();
    let tips: Vec<Oid> = refs
        .iter()
        .map(|r| Oid::from_str(&r.sha).expect("sha from git"))
        .collect();
    let git_dir = repo.path().to_path_buf();
    let threads = if opts.threads == 0 {
        rayon::current_num_threads()
    } else {
        opts.threads
    };
    let wanted = |s: &str| !known.contains(s) || need_stats_again.contains(s);
    let (reachable, mut walked) = walk_commits(&git_dir, &tips, threads, &wanted)
        .map_err(git_err(path, "walking history"))?;
    let is_reachable = |sha: &str| Oid::from_str(sha).is_ok_and(|o| reachable.contains(&o));
    if opts.stats {
        // Newest first, as a revwalk gives them: neighbours share trees and blobs,
        // so each worker's caches stay warm (in walk order the full ingest is 30% slower).
        walked.sort_by_key(|(oid, row)| std::cmp::Reverse((row.committed_at, *oid)));
    }

    progress.start(name, walked.len() as u64);
    let stats = opts.stats;
    let mut new_rows: Vec<CommitRow> = if stats {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .build()
            .map_err(|e| Error::Input {
                path: path.into(),
                message: format!("starting worker threads: {e}"),
            })?;
        pool.install(|| {
            walked
                .par_drain(..)
                .with_min_len(64)
                .map_init(
                    || Repository::open_bare(&git_dir).map(Differ::new),
                    |worker, (oid, mut row)| {
                        let worker = worker
                            .as_mut()
                            .map_err(|e| git2::Error::from_str(&e.to_string()))?;
                        row.stats = Some(worker.stats(oid)?);
                        progress.advance(1);
                        Ok(row)
                    },
                )
                .collect::<std::result::Result<_, git2::Error>>()
        })
        .map_err(git_err(path, "reading a commit"))?
    } else {
        progress.advance(walked.len() as u64);
        walked.into_iter().map(|(_, row)| row).collect()
    };
    // Shas are unique, so an unstable sort gives one order.
    new_rows.sort_unstable_by(|a, b| (a.committed_at, &a.sha).cmp(&(b.committed_at, &b.sha)));
    report.unreadable_blobs = new_rows
        .iter()
        .filter_map(|r| r.stats.as_ref())
        .map(|s| u64::from(s.unreadable_blobs))
        .sum();
    report.commits_new = new_rows.iter().filter(|r| !known.contains(&r.sha)).count();

    // Commits: append the new ones, or rewrite when reachability changed or
    // stats were filled in.
    let new_df = commits_frame(name, &new_rows)?;
    let old_unreachable_now = known.iter().filter(|s| !is_reachable(s)).count();
    let reach_col = old_commits
        .column("reachable")
        .map_err(polars_err("reading commits"))?;
    let old_flags_false = reach_col
        .bool()
        .map_err(polars_err("reading commits"))?
        .iter()
        .filter(|v| *v == Some(false))
        .count();
    if need_stats_again.is_empty() && old_unreachable_now == old_flags_false {
        guard.append(&COMMITS, Some(name), new_df)?;
    } else {
        let flags: BooleanChunked = str_values(
            old_commits
                .column("sha")
                .map_err(polars_err("reading commits"))?,
        )
        .iter()
        .map(|s| Some(is_reachable(s)))
        .collect();
        let mut old = old_commits.clone();
        old.with_column(flags.with_name("reachable".into()).into_column())
            .map_err(polars_err("updating reachability"))?;
        // Rows re-read for stats replace their old versions.
        let keep: BooleanChunked =
            str_values(old.column("sha").map_err(polars_err("reading commits"))?)
                .iter()
                .map(|s| Some(!need_stats_again.contains(s)))
                .collect();
        let mut merged = old.filter(&keep).map_err(polars_err("updating commits"))?;
        merged
            .vstack_mut(&flowmeter_store::conform(&COMMITS, new_df)?)
            .map_err(polars_err("updating commits"))?;
        guard.replace(&COMMITS, Some(name), merged)?;
    }
    report.commits_unreachable = old_unreachable_now;
    report.commits_total = known.len() + report.commits_new;

    // Refs: history gets one row per change, then the repo row, and the
    // current set replaces the old one last: `refs` is what the next run
    // compares with, so a run killed before it is redone whole. History
    // rows the killed run already appended are not appended twice.
    let now = chrono::Utc::now().timestamp_micros();
    let recorded = last_recorded_refs(&store.read_repo(&REF_HISTORY, name)?)?;
    let mut hist = vec![];
    for r in &refs {
        let key = (r.kind.to_string(), r.name.clone());
        match old_ref_map.get(&key) {
            Some(old) if *old == r.sha => {}
            Some(old) => {
                let forced = match (Oid::from_str(old), Oid::from_str(&r.sha)) {
                    (Ok(o), Ok(n)) => !repo.graph_descendant_of(n, o).unwrap_or(false),
                    _ => true,
                };
                hist.push((r.name.clone(), r.kind, Some(r.sha.clone()), forced));
            }
            None => hist.push((r.name.clone(), r.kind, Some(r.sha.clone()), false)),
        }
    }
    for ((kind, rname), _) in old_ref_map.iter() {
        if !new_ref_map.contains_key(&(kind.clone(), rname.clone())) {
            let kind: &'static str = match kind.as_str() {
                "branch" => "branch",
                "tag" => "tag",
                _ => "other",
            };
            hist.push((rname.clone(), kind, None, true));
        }
    }
    hist.retain(|h| recorded.get(&(h.1.to_string(), h.0.clone())) != Some(&h.2));
    hist.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let n = hist.len();
    let hist_df = df!(
        "repo" => vec![name; n],
        "name" => hist.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(),
        "kind" => hist.iter().map(|h| h.1).collect::<Vec<_>>(),
        "sha" => hist.iter().map(|h| h.2.as_deref()).collect::<Vec<_>>(),
        "observed_at" => vec![now; n],
        "forced" => hist.iter().map(|h| h.3).collect::<Vec<_>>(),
    )
    .map_err(polars_err("building ref_history"))?;
    guard.append(
        &REF_HISTORY,
        Some(name),
        time_cols(hist_df, &["observed_at"])?,
    )?;

    let default_branch = repo.find_reference("HEAD").ok().and_then(|h| {
        h.symbolic_target()
            .ok()
            .flatten()
            .map(|t| t.trim_start_matches("refs/heads/").to_owned())
    });
    let repos_df = df!(
        "repo" => [name],
        "source" => ["git"],
        "location" => [location.to_string_lossy().into_owned()],
        "default_branch" => [default_branch],
        "ingested_at" => [now],
        "commit_count" => [report.commits_total as i64],
        "unreadable_blobs" => [report.unreadable_blobs as i64],
    )
    .map_err(polars_err("building repos"))?;
    guard.upsert(
        &REPOS,
        Some(name),
        time_cols(repos_df, &["ingested_at"])?,
        &["repo", "source"],
    )?;
    guard.replace(&REFS, Some(name), refs_frame(name, &refs, now)?)?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The newest `ref_history` row of each (kind, name): the sha it recorded,
/// or `None` for a deletion.
fn last_recorded_refs(hist: &DataFrame) -> Result<HashMap<(String, String), Option<String>>> {
    let col = |n: &str| {
        hist.column(n)
            .map_err(polars_err("reading ref_history"))
            .and_then(|c| c.str().map_err(polars_err("reading ref_history")).cloned())
    };
    let (kind, rname, sha) = (col("kind")?, col("name")?, col("sha")?);
    let at = hist
        .column("observed_at")
        .map_err(polars_err("reading ref_history"))?
        .cast(&DataType::Int64)
        .map_err(polars_err("reading ref_history"))?;
    let at = at.i64().map_err(polars_err("reading ref_history"))?;
    let mut last: HashMap<(String, String), (i64, Option<String>)> = HashMap::new();
    for i in 0..hist.height() {
        let (Some(k), Some(n)) = (kind.get(i), rname.get(i)) else {
            continue;
        };
        let t = at.get(i).unwrap_or(i64::MIN);
        let e = last
            .entry((k.to_owned(), n.to_owned()))
            .or_insert((i64::MIN, None));
        if t >= e.0 {
            *e = (t, sha.get(i).map(str::to_owned));
        }
    }
    Ok(last.into_iter().map(|(k, (_, v))| (k, v)).collect())
}

fn str_values(col: &Column) -> Vec<String> {
    col.str()
        .map(|ca| ca.iter().flatten().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn ref_map(df: &DataFrame) -> Result<HashMap<(String, String), String>> {
    let get = |c: &str| -> Result<Vec<Option<String>>> {
        Ok(df
            .column(c)
            .map_err(polars_err("reading refs"))?
            .str()
            .map_err(polars_err("reading refs"))?
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect())
    };
    let (kinds, names, shas) = (get("kind")?, get("name")?, get("sha")?);
    Ok(kinds
        .into_iter()
        .zip(names)
        .zip(shas)
        .filter_map(|((k, n), s)| Some(((k?, n?), s?)))
        .collect())
}

/// Casts microsecond integer columns to the store's datetime type.
fn time_cols(mut df: DataFrame, cols: &[&str]) -> Result<DataFrame> {
    let dt = DataType::Datetime(TimeUnit::Microseconds, None);
    for c in cols {
        let s = df
            .column(c)
            .map_err(polars_err("building times"))?
            .cast(&dt)
            .map_err(polars_err("building times"))?;
        df.with_column(s).map_err(polars_err("building times"))?;
    }
    Ok(df)
}

fn refs_frame(repo: &str, refs: &[RefRow], now: i64) -> Result<DataFrame> {
    let n = refs.len();
    let df = df!(
        "repo" => vec![repo; n],
        "name" => refs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        "kind" => refs.iter().map(|r| r.kind).collect::<Vec<_>>(),
        "sha" => refs.iter().map(|r| r.sha.as_str()).collect::<Vec<_>>(),
        "tagged_at" => refs.iter().map(|r| r.tagged_at).collect::<Vec<_>>(),
        "observed_at" => vec![now; n],
    )
    .map_err(polars_err("building refs"))?;
    time_cols(df, &["tagged_at", "observed_at"])
}

fn commits_frame(repo: &str, rows: &[CommitRow]) -> Result<DataFrame> {
    let n = rows.len();
    let mut parents = ListStringChunkedBuilder::new(
        "parents".into(),
        n,
        rows.iter().map(|r| r.parents.len()).sum(),
    );
    for r in rows {
        parents.append_values_iter(r.parents.iter().map(String::as_str));
    }
    let parents = parents.finish();
    let stat = |f: fn(&CommitStats) -> i64| -> Vec<Option<i64>> {
        rows.iter().map(|r| r.stats.as_ref().map(f)).collect()
    };
    let mut df = df!(
        "repo" => vec![repo; n],
        "sha" => rows.iter().map(|r| r.sha.as_str()).collect::<Vec<_>>(),
        "author_name" => rows.iter().map(|r| r.author_name.as_str()).collect::<Vec<_>>(),
        "author_email" => rows.iter().map(|r| r.author_email.as_str()).collect::<Vec<_>>(),
        "authored_at" => rows.iter().map(|r| r.authored_at).collect::<Vec<_>>(),
        "committer_name" => rows.iter().map(|r| r.committer_name.as_str()).collect::<Vec<_>>(),
        "committer_email" => rows.iter().map(|r| r.committer_email.as_str()).collect::<Vec<_>>(),
        "committed_at" => rows.iter().map(|r| r.committed_at).collect::<Vec<_>>(),
        "summary" => rows.iter().map(|r| r.summary.as_str()).collect::<Vec<_>>(),
        "is_merge" => rows.iter().map(|r| r.parents.len() > 1).collect::<Vec<_>>(),
        "files_changed" => stat(|s| s.files_changed),
        "additions" => stat(|s| s.additions),
        "deletions" => stat(|s| s.deletions),
        "reverts" => rows.iter().map(|r| r.reverts.as_deref()).collect::<Vec<_>>(),
        "cherry_picked_from" => rows.iter().map(|r| r.cherry_picked_from.as_deref()).collect::<Vec<_>>(),
        "patch_id" => rows.iter().map(|r| r.stats.as_ref().and_then(|s| s.patch_id.as_deref())).collect::<Vec<_>>(),
        "stats_complete" => rows.iter().map(|r| r.stats.as_ref().is_some_and(|s| s.complete)).collect::<Vec<_>>(),
        "reachable" => vec![true; n],
    )
    .map_err(polars_err("building commits"))?;
    df.with_column(parents.into_column())
        .map_err(polars_err("building commits"))?;
    time_cols(df, &["authored_at", "committed_at"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowmeter_parse::git::test_git::git;

    /// Packed refs, loose refs that override them, nested names, symbolic
    /// and dangling refs, a lock file and thousands of packed pull refs: the
    /// files-backend reader lists exactly what libgit2 lists.
    #[test]
    fn branch_and_tag_listing_agrees_with_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        git(d, &["config", "user.name", "Refs Test"]);
        git(d, &["config", "user.email", "refs@example.com"]);
        git(d, &["commit", "-q", "--allow-empty", "-m", "one"]);
        git(d, &["branch", "feature/deep/name"]);
        git(d, &["branch", "moved"]);
        git(d, &["tag", "light"]);
        git(d, &["tag", "-a", "annotated", "-m", "release"]);
        let tree = git(d, &["rev-parse", "HEAD^{tree}"]);
        git(d, &["tag", "a-tree", tree.trim()]);
        let head = git(d, &["rev-parse", "HEAD"]);
        let mut pulls = String::new();
        for i in 0..3000 {
            pulls.push_str(&format!("create refs/pull/{i}/head {}\n", head.trim()));
        }
        let mut child = std::process::Command::new("git")
            .args(["update-ref", "--stdin"])
            .current_dir(d)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(pulls.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        git(d, &["pack-refs", "--all"]);
        // After packing: a loose ref overrides its packed one, new loose refs.
        git(d, &["commit", "-q", "--allow-empty", "-m", "two"]);
        git(d, &["branch", "-f", "moved", "HEAD"]);
        git(d, &["branch", "loose/only"]);
        git(d, &["symbolic-ref", "refs/heads/alias", "refs/heads/main"]);
        git(
            d,
            &["symbolic-ref", "refs/heads/dangling", "refs/heads/nowhere"],
        );
        std::fs::write(d.join(".git/refs/heads/main.lock"), "junk\n").unwrap();

        let repo = Repository::open(d).unwrap();
        let (mut ours_skipped, mut theirs_skipped) = (vec![], vec![]);
        let ours = files_backend_refs(&repo, &mut ours_skipped).expect("files backend");
        let globs = GlobSetBuilder::new().build().unwrap();
        let mut theirs = libgit2_refs(&repo, d, &[], &globs, &mut theirs_skipped).unwrap();
        theirs.sort();
        assert_eq!(ours, theirs);
        assert_eq!(ours_skipped, theirs_skipped);
        let names: Vec<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "refs/heads/alias",
                "refs/heads/feature/deep/name",
                "refs/heads/loose/only",
                "refs/heads/main",
                "refs/heads/moved",
                "refs/tags/a-tree",
                "refs/tags/annotated",
                "refs/tags/light",
            ]
        );
        let moved = ours
            .iter()
            .find(|(n, _)| n == "refs/heads/moved")
            .unwrap()
            .1;
        assert_eq!(moved.to_string(), git(d, &["rev-parse", "HEAD"]).trim());
        // The rows: the tree tag is not history, the annotated tag keeps its date.
        let (rows, skipped) = read_refs(&repo, d, &[]).unwrap();
        assert_eq!(skipped, ["refs/tags/a-tree (points at a tree)"]);
        assert_eq!(rows.len(), 7);
        let annotated = rows.iter().find(|r| r.name == "annotated").unwrap();
        assert_eq!(annotated.tagged_at, Some(1_704_164_645_000_000));
        assert!(rows.iter().all(|r| r.name != "a-tree"));
    }
}
