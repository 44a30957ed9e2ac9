//! The base tables, loaded once into plain Rust structures for the stages.

use std::collections::{BTreeMap, HashMap};

use flowmeter_store::{
    Store, COMMITS, DEPLOYMENTS, INCIDENTS, PULL_REQUESTS, REFS, REPOS, WORKFLOW_RUNS,
};

use crate::error::Result;
use crate::frame::Cols;

/// One repo's commit graph, indexed by position.
#[derive(Debug, Default)]
pub struct Graph {
    pub shas: Vec<String>,
    pub index: HashMap<String, u32>,
    /// Known parents only (a parent outside the store is dropped).
    pub parents: Vec<Vec<u32>>,
    pub authored: Vec<Option<i64>>,
    pub committed: Vec<Option<i64>>,
    pub summary: Vec<String>,
    pub is_merge: Vec<bool>,
    pub files: Vec<i64>,
    pub additions: Vec<i64>,
    pub deletions: Vec<i64>,
    pub reverts: Vec<Option<String>>,
    /// `name <email>` of the committer.
    pub committer: Vec<String>,
    pub patch_id: Vec<Option<String>>,
    /// The commit a "(cherry picked from commit X)" trailer names, when it is here.
    pub picked_from: Vec<Option<u32>>,
    /// Shas sorted, for prefix lookups.
    sorted: Vec<String>,
}

#[cfg(test)]
impl Graph {
    /// Appends a commit named `sha` with parents given by index and both times
    /// at `t` seconds (test graphs only; call [`Graph::finish_test`] after).
    pub(crate) fn push_test_commit(&mut self, sha: &str, parents: &[usize], t: i64) {
        let i = self.shas.len() as u32;
        self.shas.push(sha.to_string());
        self.index.insert(sha.to_string(), i);
        self.parents
            .push(parents.iter().map(|p| *p as u32).collect());
        self.authored.push(Some(t * 1_000_000));
        self.committed.push(Some(t * 1_000_000));
        self.summary.push(sha.to_string());
        self.is_merge.push(parents.len() > 1);
        self.files.push(1);
        self.additions.push(1);
        self.deletions.push(0);
        self.reverts.push(None);
        self.committer.push(String::new());
        self.patch_id.push(None);
        self.picked_from.push(None);
    }

    pub(crate) fn finish_test(&mut self) {
        self.sorted = self.shas.clone();
        self.sorted.sort();
    }
}

impl Graph {
    /// The commit a full sha or a unique prefix (7+ characters) names.
    pub fn resolve(&self, sha: &str) -> Option<u32> {
        let sha = sha.trim().to_ascii_lowercase();
        if let Some(i) = self.index.get(&sha) {
            return Some(*i);
        }
        if sha.len() < 7 {
            return None;
        }
        let start = self.sorted.partition_point(|s| s.as_str() < sha.as_str());
        let mut hits = self.sorted[start..]
            .iter()
            .take_while(|s| s.starts_with(&sha));
        let first = hits.next()?;
        if hits.next().is_some() {
            return None;
        }
        self.index.get(first).copied()
    }
}

#[derive(Debug, Clone)]
pub struct RefRow {
    pub name: String,
    pub kind: String,
    pub sha: String,
    pub tagged_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct DeployRow {
    pub repo: Option<String>,
    pub deployment_id: String,
    pub environment: String,
    pub sha: String,
    pub deployed_at: i64,
    pub status: String,
    pub source: String,
    pub ref_: Option<String>,
    /// Who or what started it (a deploy log's `actor`, a GitHub deployment's creator).
    pub actor: Option<String>,
    /// `automated` or `manual`, when the source says.
    pub trigger: Option<String>,
    /// Whether the tests passed on what it shipped, when the source says.
    pub tests_passed: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct RunRow {
    pub repo: String,
    pub run_id: i64,
    pub workflow_name: String,
    pub head_branch: Option<String>,
    pub head_sha: String,
    pub conclusion: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone)]
pub struct Pr {
    pub number: i64,
    pub created_at: Option<i64>,
    pub merged_at: Option<i64>,
    pub first_commit_at: Option<i64>,
    pub first_review_at: Option<i64>,
    pub head_ref: Option<String>,
    /// The PR's last commit (GitHub lists a PR's commits oldest first).
    pub head_sha: Option<String>,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Incident {
    pub repo: Option<String>,
    pub incident_id: String,
    pub title: Option<String>,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub caused_by_sha: Option<String>,
    pub deployment_id: Option<String>,
    pub severity: Option<String>,
    /// The tool it came from (`file`, `github_issue`, ...).
    pub source: Option<String>,
}

/// Everything the stages read, per repo where the table is per repo.
#[derive(Debug, Default)]
pub struct Inputs {
    pub graphs: BTreeMap<String, Graph>,
    pub refs: BTreeMap<String, Vec<RefRow>>,
    pub default_branch: BTreeMap<String, String>,
    pub deployments: Vec<DeployRow>,
    pub runs: Vec<RunRow>,
    /// Per repo: PRs, and sha -> index into that list (merge commit and PR commits).
    pub prs: BTreeMap<String, (Vec<Pr>, HashMap<String, usize>)>,
    pub incidents: Vec<Incident>,
}

impl Inputs {
    pub fn load(store: &Store) -> Result<Inputs> {
        let mut inp = Inputs::default();

        let df = store.read(&COMMITS)?;
        let c = Cols::new(&df, "commits");
        let repo = c.str("repo")?;
        let sha = c.str("sha")?;
        let parents = c.str_list("parents")?;
        let authored = c.int("authored_at")?;
        let committed = c.int("committed_at")?;
        let summary = c.str("summary")?;
        let is_merge = c.bool("is_merge")?;
        let files = c.int("files_changed")?;
        let adds = c.int("additions")?;
        let dels = c.int("deletions")?;
        let reverts = c.str("reverts")?;
        let (cn, ce, pid, cpf) = (
            c.str("committer_name")?,
            c.str("committer_email")?,
            c.str("patch_id")?,
            c.str("cherry_picked_from")?,
        );
        // Commits are rewritten on re-ingest; keep the last row per (repo, sha).
        let mut rows: BTreeMap<(String, String), usize> = BTreeMap::new();
        for i in 0..df.height() {
            if let (Some(r), Some(s)) = (&repo[i], &sha[i]) {
                rows.insert((r.clone(), s.clone()), i);
            }
        }
        for ((r, s), i) in &rows {
            let g = inp.graphs.entry(r.clone()).or_default();
            let idx = g.shas.len() as u32;
            g.index.insert(s.clone(), idx);
            g.shas.push(s.clone());
            g.authored.push(authored[*i]);
            g.committed.push(committed[*i]);
            g.summary.push(summary[*i].clone().unwrap_or_default());
            g.is_merge
                .push(is_merge[*i].unwrap_or(parents[*i].len() > 1));
            g.files.push(files[*i].unwrap_or(0));
            g.additions.push(adds[*i].unwrap_or(0));
            g.deletions.push(dels[*i].unwrap_or(0));
            g.reverts.push(reverts[*i].clone());
            g.committer.push(format!(
                "{} <{}>",
                cn[*i].as_deref().unwrap_or(""),
                ce[*i].as_deref().unwrap_or("")
            ));
            g.patch_id.push(pid[*i].clone().filter(|p| !p.is_empty()));
        }
        for ((r, _), i) in &rows {
            let g = inp.graphs.get_mut(r).expect("inserted above");
            let ps = parents[*i]
                .iter()
                .filter_map(|p| g.index.get(p).copied())
                .collect();
            g.parents.push(ps);
        }
        for g in inp.graphs.values_mut() {
            g.sorted = g.shas.clone();
            g.sorted.sort();
        }
        for ((r, _), i) in &rows {
            let g = inp.graphs.get_mut(r).expect("inserted above");
            let k = g.picked_from.len();
            let from = cpf[*i]
                .as_deref()
                .and_then(|p| g.resolve(p))
                .filter(|p| *p as usize != k);
            g.picked_from.push(from);
        }

        let df = store.read(&REFS)?;
        let c = Cols::new(&df, "refs");
        let (repo, name, kind, sha, tagged) = (
            c.str("repo")?,
            c.str("name")?,
            c.str("kind")?,
            c.str("sha")?,
            c.int("tagged_at")?,
        );
        for i in 0..df.height() {
            if let (Some(r), Some(n), Some(k), Some(s)) = (&repo[i], &name[i], &kind[i], &sha[i]) {
                inp.refs.entry(r.clone()).or_default().push(RefRow {
                    name: n.clone(),
                    kind: k.clone(),
                    sha: s.clone(),
                    tagged_at: tagged[i],
                });
            }
        }

        let df = store.read(&REPOS)?;
        let c = Cols::new(&df, "repos");
        let (repo, db) = (c.str("repo")?, c.str("default_branch")?);
        for i in 0..df.height() {
            if let (Some(r), Some(b)) = (&repo[i], &db[i]) {
                inp.default_branch.insert(r.clone(), b.clone());
            }
        }

        let df = store.read(&DEPLOYMENTS)?;
        let c = Cols::new(&df, "deployments");
        let (repo, id, env, sha, at, status, source, rf) = (
            c.str("repo")?,
            c.str("deployment_id")?,
            c.str("environment")?,
            c.str("sha")?,
            c.int("deployed_at")?,
            c.str("status")?,
            c.str("source")?,
            c.str("ref")?,
        );
        let (actor, trigger, tests) = (c.str("actor")?, c.str("trigger")?, c.bool("tests_passed")?);
        for i in 0..df.height() {
            let (Some(id), Some(env), Some(sha), Some(at)) = (&id[i], &env[i], &sha[i], at[i])
            else {
                continue;
            };
            inp.deployments.push(DeployRow {
                repo: repo[i].clone(),
                deployment_id: id.clone(),
                environment: env.clone(),
                sha: sha.clone(),
                deployed_at: at,
                status: status[i].clone().unwrap_or_else(|| "unknown".into()),
                source: source[i].clone().unwrap_or_else(|| "file".into()),
                ref_: rf[i].clone(),
                actor: actor[i].clone(),
                trigger: trigger[i].clone(),
                tests_passed: tests[i],
            });
        }

        let df = store.read(&WORKFLOW_RUNS)?;
        let c = Cols::new(&df, "workflow_runs");
        let (repo, run_id, wname, branch, sha, concl, updated, started, created) = (
            c.str("repo")?,
            c.int("run_id")?,
            c.str("workflow_name")?,
            c.str("head_branch")?,
            c.str("head_sha")?,
            c.str("conclusion")?,
            c.int("updated_at")?,
            c.int("run_started_at")?,
            c.int("created_at")?,
        );
        for i in 0..df.height() {
            let (Some(r), Some(id), Some(s)) = (&repo[i], run_id[i], &sha[i]) else {
                continue;
            };
            let Some(at) = updated[i].or(started[i]).or(created[i]) else {
                continue;
            };
            inp.runs.push(RunRow {
                repo: r.clone(),
                run_id: id,
                workflow_name: wname[i].clone().unwrap_or_default(),
                head_branch: branch[i].clone(),
                head_sha: s.clone(),
                conclusion: concl[i].clone(),
                at,
            });
        }

        let df = store.read(&PULL_REQUESTS)?;
        let c = Cols::new(&df, "pull_requests");
        let (repo, number, created, merged, first_commit, first_review, head, mcs, shas, labels) = (
            c.str("repo")?,
            c.int("number")?,
            c.int("created_at")?,
            c.int("merged_at")?,
            c.int("first_commit_at")?,
            c.int("first_review_at")?,
            c.str("head_ref")?,
            c.str("merge_commit_sha")?,
            c.str_list("commit_shas")?,
            c.str_list("labels")?,
        );
        // Earliest merge first, so that a sha in two PRs maps to the first to merge.
        let mut order: Vec<usize> = (0..df.height()).collect();
        order.sort_by_key(|&i| (repo[i].clone(), merged[i].unwrap_or(i64::MAX), number[i]));
        for i in order {
            let (Some(r), Some(n)) = (&repo[i], number[i]) else {
                continue;
            };
            if merged[i].is_none() {
                continue;
            }
            let (list, by_sha) = inp.prs.entry(r.clone()).or_default();
            if list.iter().any(|p| p.number == n) {
                continue;
            }
            let k = list.len();
            list.push(Pr {
                number: n,
                created_at: created[i],
                merged_at: merged[i],
                first_commit_at: first_commit[i],
                first_review_at: first_review[i],
                head_ref: head[i].clone(),
                head_sha: shas[i].last().cloned(),
                labels: labels[i].clone(),
            });
            for s in mcs[i].iter().chain(shas[i].iter()) {
                by_sha.entry(s.clone()).or_insert(k);
            }
        }

        let df = store.read(&INCIDENTS)?;
        let c = Cols::new(&df, "incidents");
        let (repo, id, title, opened, resolved, caused, dep) = (
            c.str("repo")?,
            c.str("incident_id")?,
            c.str("title")?,
            c.int("opened_at")?,
            c.int("resolved_at")?,
            c.str("caused_by_sha")?,
            c.str("deployment_id")?,
        );
        let (severity, source) = (c.str("severity")?, c.str("source")?);
        for i in 0..df.height() {
            let (Some(id), Some(opened)) = (&id[i], opened[i]) else {
                continue;
            };
            inp.incidents.push(Incident {
                repo: repo[i].clone(),
                incident_id: id.clone(),
                title: title[i].clone(),
                opened_at: opened,
                resolved_at: resolved[i],
                caused_by_sha: caused[i].clone(),
                deployment_id: dep[i].clone(),
                severity: severity[i].clone(),
                source: source[i].clone(),
            });
        }
        inp.incidents
            .sort_by(|a, b| (a.opened_at, &a.incident_id).cmp(&(b.opened_at, &b.incident_id)));
        Ok(inp)
    }
}
