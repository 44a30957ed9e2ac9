//! Builds one service's repository with git2, event by event in time order:
//! feature commits and pull-request merges into develop, promotion merges
//! develop → test → beta → production, hotfixes, reverts and cherry-picks.
//! Production failures are planted here, from the batch each deployment ships.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

use crate::error::{Context, Result};
use git2::{FileFavor, MergeOptions, Oid, Repository, RepositoryInitOptions, Signature, Time};

use super::calendar::{self, DAY};
use super::people::{code_line, Person, Service, SERVICES};
use super::plan::Feature;
use super::rng::Rng;
use super::{Timeline, FAIL_INTERCEPT, FAIL_SLOPE};

pub const ENVS: [&str; 4] = ["develop", "test", "beta", "production"];
const DEVELOP: usize = 0;
const TEST: usize = 1;
const BETA: usize = 2;
const PROD: usize = 3;

/// Why a deployment happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A pull request merged into develop.
    PullRequest,
    /// A scheduled promotion: the two-week train or the daily deploy.
    Promotion,
    /// An unscheduled promotion that ships a revert or a fix forward.
    Urgent,
    /// A commit straight on production, never merged back.
    Hotfix,
    /// A fix cherry-picked onto beta.
    CherryPick,
    /// A revert committed straight on develop.
    Revert,
    /// A redeploy of the previous production sha (in the deploy log only).
    Rollback,
}

#[derive(Debug, Clone)]
pub struct Deployment {
    pub repo: &'static str,
    pub environment: &'static str,
    pub sha: String,
    pub deployed_at: i64,
    pub status: &'static str,
    pub deployment_id: String,
    pub kind: Kind,
    /// Non-merge commits shipped (production merges only).
    pub batch_commits: Option<usize>,
    /// The planted failure probability and outcome (production merges only).
    pub p_fail: Option<f64>,
    pub failed: bool,
}

#[derive(Debug, Clone)]
pub struct Incident {
    pub opened_at: i64,
    pub resolved_at: i64,
    pub title: String,
    pub severity: &'static str,
    pub repo: &'static str,
    pub caused_by_sha: Option<String>,
    pub deployment_id: Option<String>,
}

/// What one repository's build produced.
#[derive(Debug, Default)]
pub struct RepoOut {
    pub deployments: Vec<Deployment>,
    pub incidents: Vec<Incident>,
    pub commits: usize,
    pub hotfixes: usize,
    pub cherry_picks: usize,
    pub reverts: usize,
    pub pull_requests: usize,
}

#[derive(Debug, Clone)]
enum Ev {
    FeatureCommit {
        f: usize,
        k: usize,
    },
    PullBeta {
        f: usize,
    },
    Merge {
        f: usize,
    },
    Promote {
        from: usize,
        to: usize,
        urgent: bool,
    },
    CherryPick,
    Hotfix {
        inc: usize,
    },
    Revert {
        culprit: Oid,
        inc: Option<usize>,
        chain: bool,
    },
    FixForward {
        inc: usize,
    },
    Rollback {
        inc: usize,
        sha: String,
    },
    Background,
}

struct Sim<'a> {
    repo: &'a Repository,
    svc: &'static Service,
    people: &'a [Person],
    team: Vec<usize>,
    features: Vec<&'a Feature>,
    feature_tips: Vec<Option<Oid>>,
    tips: [Oid; 4],
    tl: &'a Timeline,
    rng: Rng,
    heap: BinaryHeap<Reverse<(i64, u64)>>,
    events: Vec<Ev>,
    paths: Vec<String>,
    next_file: usize,
    deploy_seq: [usize; 4],
    /// Commits already cherry-picked onto beta: each fix is picked once.
    picked: std::collections::BTreeSet<Oid>,
    out: RepoOut,
}

fn sig(name: &str, email: &str, t: i64, offset: i32) -> Result<Signature<'static>> {
    Ok(Signature::new(name, email, &Time::new(t, offset))?)
}

/// Builds the repository of service `idx` in `dir` (which must not exist).
pub fn build(
    dir: &Path,
    idx: usize,
    people: &[Person],
    features: &[Feature],
    tl: &Timeline,
    seed: u64,
) -> Result<RepoOut> {
    let svc = &SERVICES[idx];
    let repo = Repository::init_opts(
        dir,
        RepositoryInitOptions::new()
            .bare(true)
            .initial_head("develop")
            .no_reinit(true),
    )
    .with_context(|| format!("creating repository {}", dir.display()))?;
    let team: Vec<usize> = (0..people.len())
        .filter(|&i| people[i].team == idx)
        .collect();
    let features: Vec<&Feature> = features.iter().filter(|f| f.repo == idx).collect();
    let n = features.len();
    // Objects go to memory first and to disk as one pack at the end: loose
    // objects would cost a file each.
    let odb = repo.odb()?;
    let mempack = odb.add_new_mempack_backend(1000)?;
    let mut sim = Sim {
        repo: &repo,
        svc,
        people,
        team,
        features,
        feature_tips: vec![None; n],
        tips: [Oid::ZERO_SHA1; 4],
        tl,
        rng: Rng::stream(seed, svc.name),
        heap: BinaryHeap::new(),
        events: Vec::new(),
        paths: Vec::new(),
        next_file: 0,
        deploy_seq: [0; 4],
        picked: Default::default(),
        out: RepoOut::default(),
    };
    sim.initial_commit()?;
    sim.schedule()?;
    sim.run()?;
    let out = std::mem::take(&mut sim.out);
    // One pack of everything the branches reach, built on one thread: the
    // multi-threaded delta search (and so `Mempack::dump`) is not deterministic.
    let mut buf = git2::Buf::new();
    {
        let mut pb = repo.packbuilder()?;
        pb.set_threads(1);
        let mut walk = repo.revwalk()?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
        for tip in sim.tips.iter().chain(sim.feature_tips.iter().flatten()) {
            walk.push(*tip)?;
        }
        pb.insert_walk(&mut walk)?;
        pb.write_buf(&mut buf)?;
    }
    mempack.reset()?;
    let mut writer = odb.packwriter()?;
    std::io::Write::write_all(&mut writer, &buf)
        .with_context(|| format!("writing the pack of {}", dir.display()))?;
    writer.commit()?;
    drop(writer);
    sim.finish()?;
    Ok(out)
}

impl<'a> Sim<'a> {
    fn push(&mut self, t: i64, ev: Ev) {
        if t > self.tl.end {
            return;
        }
        self.heap.push(Reverse((t, self.events.len() as u64)));
        self.events.push(ev);
    }

    /// Schedules `ev` between `lo` and `hi` minutes after `t`.
    fn after(&mut self, t: i64, lo: i64, hi: i64, ev: Ev) {
        let at = t + self.rng.range(lo, hi) * 60;
        self.push(at, ev);
    }

    fn person(&self, i: usize) -> &'a Person {
        &self.people[i]
    }

    fn person_sig(&self, i: usize, t: i64) -> Result<Signature<'static>> {
        let p = self.person(i);
        sig(&p.name, &p.email, t, p.tz.offset_min(t))
    }

    /// The team lead runs the trains before the switch; a bot deploys after.
    fn release_sig(&self, t: i64) -> Result<Signature<'static>> {
        if t < self.tl.switch {
            self.person_sig(self.team[0], t)
        } else {
            sig("deploy-bot", "deploy-bot@acme.example", t, 0)
        }
    }

    fn on_call(&mut self) -> usize {
        let i = self.rng.below(self.team.len());
        self.team[i]
    }

    fn initial_commit(&mut self) -> Result<()> {
        let mut tree: Option<Oid> = None;
        for m in self.svc.modules {
            for k in 0..5 {
                let path = format!(
                    "src/{m}/{}.rs",
                    ["mod", "api", "model", "store", "client"][k]
                );
                let lines = self.rng.range(40, 160);
                let mut body = format!("//! {} {m}\n\n", self.svc.name);
                for _ in 0..lines {
                    body.push_str(&code_line(&mut self.rng));
                    body.push('\n');
                }
                let blob = self.repo.blob(body.as_bytes())?;
                tree = Some(self.set_path(tree, &path, blob)?);
                self.paths.push(path);
            }
        }
        let readme = format!(
            "# {}\n\nPart of the ACME shop. Generated by `flowmeter demo`.\n",
            self.svc.name
        );
        let blob = self.repo.blob(readme.as_bytes())?;
        let tree = self.set_path(tree, "README.md", blob)?;
        let t = calendar::utc(2024, 12, 16, 10, 0);
        let lead = self.person_sig(self.team[0], t)?;
        let tree = self.repo.find_tree(tree)?;
        let msg = format!("Import {} from the monolith\n", self.svc.name);
        let oid = self.repo.commit(None, &lead, &lead, &msg, &tree, &[])?;
        self.tips = [oid; 4];
        self.out.commits += 1;
        Ok(())
    }

    fn schedule(&mut self) -> Result<()> {
        for f in 0..self.features.len() {
            let feat = self.features[f];
            for k in 0..feat.commits.len() {
                self.push(feat.commits[k].0, Ev::FeatureCommit { f, k });
            }
            if let Some(t) = feat.pull_beta_at {
                self.push(t, Ev::PullBeta { f });
            }
            self.push(feat.merge_at, Ev::Merge { f });
        }
        // Two-week trains on Wednesdays before the switch: beta → production and
        // develop → test on train day, test → beta the Wednesday in between.
        let mut day = calendar::days_from_civil(2025, 1, 8);
        while day * DAY < self.tl.switch {
            let base = day * DAY;
            let (j1, j2, j3) = (
                self.rng.range(0, 1800),
                self.rng.range(0, 1800),
                self.rng.range(0, 1800),
            );
            self.push(
                base + 14 * 3600 + j1,
                Ev::Promote {
                    from: BETA,
                    to: PROD,
                    urgent: false,
                },
            );
            self.push(
                base + 15 * 3600 + j2,
                Ev::Promote {
                    from: DEVELOP,
                    to: TEST,
                    urgent: false,
                },
            );
            let mid = base + 7 * DAY;
            if mid < self.tl.switch {
                self.push(
                    mid + 14 * 3600 + j3,
                    Ev::Promote {
                        from: TEST,
                        to: BETA,
                        urgent: false,
                    },
                );
            }
            day += 14;
        }
        // Trunk-based after the switch: every working day the pipeline promotes
        // develop all the way to production within about an hour.
        let mut day = self.tl.switch.div_euclid(DAY);
        while day * DAY < self.tl.end {
            if calendar::is_workday(day) {
                let t = day * DAY + 13 * 3600 + self.rng.range(0, 900);
                self.push(
                    t,
                    Ev::Promote {
                        from: DEVELOP,
                        to: TEST,
                        urgent: false,
                    },
                );
                self.push(
                    t + 1200,
                    Ev::Promote {
                        from: TEST,
                        to: BETA,
                        urgent: false,
                    },
                );
                self.push(
                    t + 3600,
                    Ev::Promote {
                        from: BETA,
                        to: PROD,
                        urgent: false,
                    },
                );
            }
            day += 1;
        }
        // Before the switch, urgent fixes are cherry-picked onto beta, about twice a month.
        let mut day = calendar::days_from_civil(2025, 1, 13);
        while day * DAY < self.tl.switch {
            if calendar::is_workday(day) && self.rng.chance(0.1) {
                self.push(day * DAY + 16 * 3600, Ev::CherryPick);
            }
            day += 1;
        }
        // One incident a year that no deployment caused.
        let t = calendar::utc(2025, 1, 1, 0, 0)
            + self.rng.range(30, 330) * DAY
            + self.rng.range(0, DAY);
        self.push(t, Ev::Background);
        Ok(())
    }

    fn run(&mut self) -> Result<()> {
        while let Some(Reverse((t, i))) = self.heap.pop() {
            let ev = self.events[i as usize].clone();
            match ev {
                Ev::FeatureCommit { f, k } => self.feature_commit(f, k)?,
                Ev::PullBeta { f } => self.pull_beta(f, t)?,
                Ev::Merge { f } => self.merge_feature(f, t)?,
                Ev::Promote { from, to, urgent } => self.promote(from, to, t, urgent)?,
                Ev::CherryPick => self.cherry_pick(t)?,
                Ev::Hotfix { inc } => self.hotfix(inc, t)?,
                Ev::Revert {
                    culprit,
                    inc,
                    chain,
                } => self.revert(culprit, inc, chain, t)?,
                Ev::FixForward { inc } => self.fix_forward(inc, t)?,
                Ev::Rollback { inc, sha } => self.rollback(inc, sha, t),
                Ev::Background => self.background(t),
            }
        }
        Ok(())
    }

    // ---- trees and blobs -------------------------------------------------

    fn set_path(&self, tree: Option<Oid>, path: &str, blob: Oid) -> Result<Oid> {
        let comps: Vec<&str> = path.split('/').collect();
        self.set_comps(tree, &comps, blob)
    }

    fn set_comps(&self, tree: Option<Oid>, comps: &[&str], blob: Oid) -> Result<Oid> {
        let t = tree.map(|o| self.repo.find_tree(o)).transpose()?;
        let mut tb = self.repo.treebuilder(t.as_ref())?;
        if comps.len() == 1 {
            tb.insert(comps[0], blob, 0o100644)?;
        } else {
            let sub = t
                .as_ref()
                .and_then(|t| t.get_name(comps[0]).map(|e| e.id()));
            let new_sub = self.set_comps(sub, &comps[1..], blob)?;
            tb.insert(comps[0], new_sub, 0o040000)?;
        }
        Ok(tb.write()?)
    }

    /// A change of realistic size on top of `base`'s tree: 1-3 files, mostly
    /// small, sometimes large; now and then a new file.
    fn change(&mut self, base: Oid, max_lines: i64) -> Result<Oid> {
        let mut tree = self.repo.find_commit(base)?.tree_id();
        let u = self.rng.f64();
        let adds = if u < 0.65 {
            self.rng.range(1, 12)
        } else if u < 0.92 {
            self.rng.range(13, 60)
        } else {
            self.rng.range(61, 250)
        }
        .min(max_lines);
        let files = if adds < 15 { 1 } else { self.rng.range(1, 3) };
        for _ in 0..files {
            let add = (adds / files).max(1);
            let root = self.repo.find_tree(tree)?;
            let existing = if self.rng.chance(0.08) {
                None
            } else {
                // Up to a few tries for a path this branch has.
                (0..4).find_map(|_| {
                    let p = self.paths[self.rng.below(self.paths.len())].clone();
                    root.get_path(Path::new(&p)).ok().map(|e| (p, e.id()))
                })
            };
            let (path, mut lines) = match existing {
                Some((p, id)) => {
                    let blob = self.repo.find_blob(id)?;
                    let text = String::from_utf8_lossy(blob.content()).into_owned();
                    (p, text.lines().map(str::to_owned).collect::<Vec<_>>())
                }
                None => {
                    self.next_file += 1;
                    let m = self.rng.pick(self.svc.modules);
                    let p = format!("src/{m}/part_{:04}.rs", self.next_file);
                    self.paths.push(p.clone());
                    (p, vec![format!("//! {} {m}", self.svc.name), String::new()])
                }
            };
            drop(root);
            // Files stay between a few dozen and a few hundred lines: past 240
            // lines a change removes about as much as it adds.
            let len = lines.len() as i64;
            let del = if len > 240 {
                self.rng.range(add / 2, add * 2).min(len - 10)
            } else if len > 12 {
                self.rng.range(0, (add / 2).min(len - 10))
            } else {
                0
            } as usize;
            let at = 2 + self.rng.below(lines.len().saturating_sub(1 + del).max(1));
            let at = at.min(lines.len());
            let del = del.min(lines.len() - at);
            lines.drain(at..at + del);
            let new: Vec<String> = (0..add).map(|_| code_line(&mut self.rng)).collect();
            lines.splice(at..at, new);
            let mut body = lines.join("\n");
            body.push('\n');
            let blob = self.repo.blob(body.as_bytes())?;
            tree = self.set_path(Some(tree), &path, blob)?;
        }
        Ok(tree)
    }

    fn merge_opts() -> MergeOptions {
        let mut o = MergeOptions::new();
        o.file_favor(FileFavor::Theirs);
        o
    }

    /// The tree of merging `theirs` into `ours`; `None` when `ours` already has it.
    fn merge_tree(&self, ours: Oid, theirs: Oid) -> Result<Option<Oid>> {
        let base = self.repo.merge_base(ours, theirs)?;
        if base == theirs {
            return Ok(None);
        }
        let ours_c = self.repo.find_commit(ours)?;
        let theirs_c = self.repo.find_commit(theirs)?;
        if base == ours {
            return Ok(Some(theirs_c.tree_id()));
        }
        let base_t = self.repo.find_commit(base)?.tree()?;
        let mut idx = self.repo.merge_trees(
            &base_t,
            &ours_c.tree()?,
            &theirs_c.tree()?,
            Some(&Self::merge_opts()),
        )?;
        resolve(&mut idx)?;
        Ok(Some(idx.write_tree_to(self.repo)?))
    }

    fn commit(
        &mut self,
        author: &Signature,
        committer: &Signature,
        msg: &str,
        tree: Oid,
        parents: &[Oid],
    ) -> Result<Oid> {
        let tree = self.repo.find_tree(tree)?;
        let parents: Vec<_> = parents
            .iter()
            .map(|p| self.repo.find_commit(*p))
            .collect::<std::result::Result<_, _>>()?;
        let refs: Vec<_> = parents.iter().collect();
        self.out.commits += 1;
        Ok(self
            .repo
            .commit(None, author, committer, msg, &tree, &refs)?)
    }

    // ---- deployments -----------------------------------------------------

    /// Records a deployment of env `e`'s new tip, `delay` seconds after the commit.
    fn deployed(&mut self, e: usize, sha: Oid, t: i64, kind: Kind) -> usize {
        self.deploy_seq[e] += 1;
        // The CD pipeline takes a few minutes after the merge.
        let delay = if e == PROD {
            self.rng.range(480, 1500)
        } else {
            self.rng.range(180, 720)
        };
        self.out.deployments.push(Deployment {
            repo: self.svc.name,
            environment: ENVS[e],
            sha: sha.to_string(),
            deployed_at: t + delay,
            status: "success",
            deployment_id: format!("{}-{}-{:04}", self.svc.name, ENVS[e], self.deploy_seq[e]),
            kind,
            batch_commits: None,
            p_fail: None,
            failed: false,
        });
        self.out.deployments.len() - 1
    }

    // ---- events ------------------------------------------------------------

    fn feature_commit(&mut self, f: usize, k: usize) -> Result<()> {
        let feat = self.features[f];
        let base = self.feature_tips[f].unwrap_or(self.tips[DEVELOP]);
        let tree = self.change(base, 400)?;
        let (t, summary) = &feat.commits[k];
        let s = self.person_sig(feat.author, *t)?;
        let msg = format!("{summary}\n");
        let oid = self.commit(&s, &s, &msg, tree, &[base])?;
        self.feature_tips[f] = Some(oid);
        Ok(())
    }

    fn pull_beta(&mut self, f: usize, t: i64) -> Result<()> {
        let feat = self.features[f];
        let Some(tip) = self.feature_tips[f] else {
            return Ok(());
        };
        let Some(tree) = self.merge_tree(tip, self.tips[BETA])? else {
            return Ok(());
        };
        let s = self.person_sig(feat.author, t)?;
        let msg = format!(
            "Merge branch 'beta' into {}\n\nWe need the checkout fix that is only on beta.\n",
            feat.branch
        );
        let oid = self.commit(&s, &s, &msg, tree, &[tip, self.tips[BETA]])?;
        self.feature_tips[f] = Some(oid);
        Ok(())
    }

    fn merge_feature(&mut self, f: usize, t: i64) -> Result<()> {
        let feat = self.features[f];
        let Some(tip) = self.feature_tips[f] else {
            return Ok(());
        };
        let dev = self.tips[DEVELOP];
        let Some(tree) = self.merge_tree(dev, tip)? else {
            return Ok(());
        };
        let p = self.person(feat.author);
        let author = self.person_sig(feat.author, t)?;
        let committer = sig("GitHub", "noreply@github.com", t, p.tz.offset_min(t))?;
        let msg = format!(
            "Merge pull request #{} from acme/{}\n\n{}\n",
            feat.pr, feat.branch, feat.title
        );
        let oid = self.commit(&author, &committer, &msg, tree, &[dev, tip])?;
        self.tips[DEVELOP] = oid;
        self.feature_tips[f] = None;
        self.out.pull_requests += 1;
        self.deployed(DEVELOP, oid, t, Kind::PullRequest);
        Ok(())
    }

    fn promote(&mut self, from: usize, to: usize, t: i64, urgent: bool) -> Result<()> {
        let (src, dst) = (self.tips[from], self.tips[to]);
        let Some(tree) = self.merge_tree(dst, src)? else {
            return Ok(());
        };
        let s = self.release_sig(t)?;
        let msg = format!("Merge branch '{}' into {}\n", ENVS[from], ENVS[to]);
        let oid = self.commit(&s, &s, &msg, tree, &[dst, src])?;
        self.tips[to] = oid;
        let kind = if urgent {
            Kind::Urgent
        } else {
            Kind::Promotion
        };
        let d = self.deployed(to, oid, t, kind);
        if to == PROD {
            self.plant(d, dst, oid)?;
        }
        Ok(())
    }

    /// Decides whether production deployment `d` fails, from its batch size, and
    /// schedules the incident and the remedy.
    fn plant(&mut self, d: usize, old: Oid, new: Oid) -> Result<()> {
        let mut walk = self.repo.revwalk()?;
        walk.push(new)?;
        walk.hide(old)?;
        let mut shipped = Vec::new();
        for oid in walk {
            let oid = oid?;
            if self.repo.find_commit(oid)?.parent_count() <= 1 {
                shipped.push(oid);
            }
        }
        shipped.sort();
        let n = shipped.len().max(1) as f64;
        let p = 1.0 / (1.0 + (-(FAIL_INTERCEPT + FAIL_SLOPE * n.log2())).exp());
        let failed = self.rng.chance(p);
        let dep = &mut self.out.deployments[d];
        dep.batch_commits = Some(shipped.len());
        dep.p_fail = Some(p);
        dep.failed = failed;
        if !failed || shipped.is_empty() {
            return Ok(());
        }
        let deployed_at = dep.deployed_at;
        let deployment_id = dep.deployment_id.clone();
        let culprit = shipped[self.rng.below(shipped.len())];
        let trunk = deployed_at >= self.tl.switch;
        let u = self.rng.f64();
        if trunk && u < 0.15 {
            // The deploy job itself failed; the next deployment recovers.
            self.out.deployments[d].status = "failure";
            return Ok(());
        }
        let opened = deployed_at + self.rng.range(15, 300) * 60;
        let summary = {
            let c = self.repo.find_commit(culprit)?;
            let s = c.summary().ok().flatten().unwrap_or("a change").to_string();
            s
        };
        let link = self.rng.f64();
        let (caused_by_sha, deployment_id) = if link < 0.6 {
            (Some(culprit.to_string()), None)
        } else if link < 0.85 {
            (None, Some(deployment_id))
        } else {
            (None, None)
        };
        let severity = *self
            .rng
            .pick(&["sev1", "sev2", "sev2", "sev3", "sev3", "sev3"]);
        let symptom = *self.rng.pick(&[
            "Error rate up",
            "Latency spike",
            "5xx burst",
            "Data mismatch",
        ]);
        self.out.incidents.push(Incident {
            opened_at: opened,
            // Overwritten when the remedy lands; this stands if it would land after the story ends.
            resolved_at: opened + 4 * 3600,
            title: format!(
                "{symptom} in {} after deploy (suspect: {summary})",
                self.svc.name
            ),
            severity,
            repo: self.svc.name,
            caused_by_sha,
            deployment_id,
        });
        let inc = self.out.incidents.len() - 1;
        if !trunk {
            if u < 0.65 {
                self.after(opened, 60, 360, Ev::Hotfix { inc });
            } else {
                // Mitigated by a feature flag; the revert waits for the next train.
                self.out.incidents[inc].resolved_at = opened + self.rng.range(120, 1440) * 60;
                let t = opened + self.rng.range(60, 240) * 60;
                self.push(
                    t,
                    Ev::Revert {
                        culprit,
                        inc: None,
                        chain: false,
                    },
                );
            }
        } else if u < 0.65 {
            self.after(
                opened,
                20,
                90,
                Ev::Revert {
                    culprit,
                    inc: Some(inc),
                    chain: true,
                },
            );
        } else if u < 0.85 {
            self.after(opened, 60, 240, Ev::FixForward { inc });
        } else {
            self.after(
                opened,
                10,
                30,
                Ev::Rollback {
                    inc,
                    sha: old.to_string(),
                },
            );
            self.after(
                opened,
                60,
                180,
                Ev::Revert {
                    culprit,
                    inc: None,
                    chain: false,
                },
            );
        }
        Ok(())
    }

    fn chain(&mut self, t: i64) {
        self.push(
            t + 600,
            Ev::Promote {
                from: DEVELOP,
                to: TEST,
                urgent: true,
            },
        );
        self.push(
            t + 1200,
            Ev::Promote {
                from: TEST,
                to: BETA,
                urgent: true,
            },
        );
        self.push(
            t + 2100,
            Ev::Promote {
                from: BETA,
                to: PROD,
                urgent: true,
            },
        );
    }

    /// Resolves incident `inc` a little after the next production deployment.
    fn resolve_after(&mut self, inc: usize, t: i64) {
        self.out.incidents[inc].resolved_at = t + self.rng.range(20, 60) * 60;
    }

    fn hotfix(&mut self, inc: usize, t: i64) -> Result<()> {
        let who = self.on_call();
        let base = self.tips[PROD];
        let tree = self.change(base, 8)?;
        let s = self.person_sig(who, t)?;
        let module = self.rng.pick(self.svc.modules);
        let noun = self.rng.pick(self.svc.nouns);
        let msg = format!("Hotfix: guard against empty {noun} in {module}\n\nApplied directly on production during the incident.\n");
        let oid = self.commit(&s, &s, &msg, tree, &[base])?;
        self.tips[PROD] = oid;
        self.out.hotfixes += 1;
        let d = self.deployed(PROD, oid, t, Kind::Hotfix);
        let at = self.out.deployments[d].deployed_at;
        self.resolve_after(inc, at);
        Ok(())
    }

    fn revert(&mut self, culprit: Oid, inc: Option<usize>, chain: bool, t: i64) -> Result<()> {
        let who = self.on_call();
        let dev = self.tips[DEVELOP];
        let c = self.repo.find_commit(culprit)?;
        let ours = self.repo.find_commit(dev)?;
        let mut idx = self
            .repo
            .revert_commit(&c, &ours, 0, Some(&Self::merge_opts()))?;
        resolve(&mut idx)?;
        let tree = idx.write_tree_to(self.repo)?;
        let s = self.person_sig(who, t)?;
        let msg = format!(
            "Revert \"{}\"\n\nThis reverts commit {culprit}.\n",
            c.summary().ok().flatten().unwrap_or("")
        );
        drop((c, ours));
        let oid = self.commit(&s, &s, &msg, tree, &[dev])?;
        self.tips[DEVELOP] = oid;
        self.out.reverts += 1;
        self.deployed(DEVELOP, oid, t, Kind::Revert);
        if chain {
            self.chain(t);
            if let Some(inc) = inc {
                self.resolve_after(inc, t + 2100 + 1500);
            }
        }
        Ok(())
    }

    fn fix_forward(&mut self, inc: usize, t: i64) -> Result<()> {
        let who = self.on_call();
        let dev = self.tips[DEVELOP];
        let tree = self.change(dev, 20)?;
        let s = self.person_sig(who, t)?;
        let noun = self.rng.pick(self.svc.nouns);
        let msg = format!("Fix {noun} regression from this morning's deploy\n");
        let oid = self.commit(&s, &s, &msg, tree, &[dev])?;
        self.tips[DEVELOP] = oid;
        self.deployed(DEVELOP, oid, t, Kind::PullRequest);
        self.chain(t);
        self.resolve_after(inc, t + 2100 + 1500);
        Ok(())
    }

    fn rollback(&mut self, inc: usize, sha: String, t: i64) {
        self.deploy_seq[PROD] += 1;
        self.out.deployments.push(Deployment {
            repo: self.svc.name,
            environment: ENVS[PROD],
            sha,
            deployed_at: t,
            status: "success",
            deployment_id: format!(
                "{}-{}-{:04}",
                self.svc.name, ENVS[PROD], self.deploy_seq[PROD]
            ),
            kind: Kind::Rollback,
            batch_commits: None,
            p_fail: None,
            failed: false,
        });
        self.resolve_after(inc, t);
    }

    fn cherry_pick(&mut self, t: i64) -> Result<()> {
        // The newest fix on develop from the last two weeks that beta lacks.
        let mut walk = self.repo.revwalk()?;
        walk.push(self.tips[DEVELOP])?;
        walk.hide(self.tips[BETA])?;
        let mut pick = None;
        for oid in walk {
            let oid = oid?;
            let c = self.repo.find_commit(oid)?;
            if c.parent_count() == 1
                && !self.picked.contains(&oid)
                && c.time().seconds() > t - 14 * DAY
                && c.summary()
                    .ok()
                    .flatten()
                    // A feature's fix ("Fix race in ... (module)"), not a "Fix lint" follow-up.
                    .is_some_and(|s| s.starts_with("Fix ") && s.ends_with(')'))
            {
                pick = Some(oid);
                break;
            }
        }
        let Some(pick) = pick else { return Ok(()) };
        self.picked.insert(pick);
        let c = self.repo.find_commit(pick)?;
        let beta = self.tips[BETA];
        let ours = self.repo.find_commit(beta)?;
        let mut idx = self
            .repo
            .cherrypick_commit(&c, &ours, 0, Some(&Self::merge_opts()))?;
        resolve(&mut idx)?;
        let tree = idx.write_tree_to(self.repo)?;
        let author = c.author().to_owned();
        let msg = format!(
            "{}\n\n(cherry picked from commit {pick})\n",
            c.message().unwrap_or("").trim_end()
        );
        drop((c, ours));
        let committer = self.release_sig(t)?;
        let oid = self.commit(&author, &committer, &msg, tree, &[beta])?;
        self.tips[BETA] = oid;
        self.out.cherry_picks += 1;
        self.deployed(BETA, oid, t, Kind::CherryPick);
        Ok(())
    }

    fn background(&mut self, t: i64) {
        self.out.incidents.push(Incident {
            opened_at: t,
            resolved_at: t + self.rng.range(30, 240) * 60,
            title: "Payment provider outage (third party)".into(),
            severity: "sev2",
            repo: self.svc.name,
            caused_by_sha: None,
            deployment_id: None,
        });
    }

    /// Writes the branch refs: the four environments and the unmerged feature branches.
    fn finish(&mut self) -> Result<()> {
        for (e, name) in ENVS.iter().enumerate() {
            self.repo.reference(
                &format!("refs/heads/{name}"),
                self.tips[e],
                true,
                "flowmeter demo",
            )?;
        }
        for (f, tip) in self.feature_tips.iter().enumerate() {
            if let Some(tip) = tip {
                let name = format!("refs/heads/{}", self.features[f].branch);
                self.repo.reference(&name, *tip, true, "flowmeter demo")?;
            }
        }
        Ok(())
    }
}

/// Resolves what `file_favor` could not (add/add, modify/delete) by taking
/// "their" side, or "ours" when theirs deleted the file.
fn resolve(idx: &mut git2::Index) -> Result<()> {
    if !idx.has_conflicts() {
        return Ok(());
    }
    let conflicts: Vec<_> = idx.conflicts()?.collect::<std::result::Result<_, _>>()?;
    for c in conflicts {
        let Some(mut entry) = c.their.or(c.our) else {
            continue;
        };
        // Clear the stage bits: the entry goes back in as resolved.
        entry.flags &= !0x3000;
        let path = std::path::PathBuf::from(String::from_utf8_lossy(&entry.path).into_owned());
        idx.conflict_remove(&path)?;
        idx.add(&entry)?;
    }
    Ok(())
}
