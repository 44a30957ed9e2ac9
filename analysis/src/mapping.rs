//! Stage 2, `deployment_commits`: the marking pass. For each repo and
//! environment, walk the deployments in time order and mark each commit with
//! the first deployment that reaches it, so every commit is visited at most
//! once per environment.
//!
//! - The first deployment that goes out (and the fast-forwarded commits a
//!   branch deployment carries as seeds) marks its history as baseline.
//! - A deployment whose own status is `failure` or `error` did not put its
//!   commits into the environment: it marks nothing, and they ship with the
//!   next successful deployment there.
//! - A deployment of a proper ancestor of the live sha is a rollback. A
//!   deployment of an already-shipped sha that is not an ancestor of the live
//!   one (deploying B again after rolling back from B to A) is a roll-forward:
//!   it ships nothing and is not a rollback.

use crate::deploy::{generations, Deploy};
use crate::inputs::{Graph, Inputs};

const NONE: u32 = u32::MAX;

/// What a deployment shipped, from the marking pass.
#[derive(Debug, Clone, Default)]
pub struct Shipped {
    pub commits: Vec<u32>,
    pub baseline: Vec<u32>,
    /// Parallel to `baseline`: when the environment first held each commit as
    /// git sees it (a fast-forward seed's branch-state time, else this
    /// deployment's time). For drift only: a baseline commit has no lead time.
    pub baseline_at: Vec<i64>,
    /// The first deployment of its environment that went out.
    pub is_baseline: bool,
    pub is_rollback: bool,
    /// A redeploy of a descendant of the live sha that had shipped before.
    pub is_roll_forward: bool,
    /// Indices (into the deploy list) of the rollbacks that undid this deployment.
    pub rolled_back_by: Vec<usize>,
}

/// Runs the marking pass over every (repo, environment) group of `deploys`
/// (which must be contiguous, in time order, as stage 1 returns them).
pub fn map_commits(inp: &Inputs, deploys: &[Deploy]) -> Vec<Shipped> {
    let mut out = vec![Shipped::default(); deploys.len()];
    let mut start = 0;
    // Generations are needed only to tell a rollback from a roll-forward:
    // computed per repo on the first redeploy of an already shipped sha.
    let mut gens: Option<(&str, std::cell::OnceCell<Vec<u32>>)> = None;
    while start < deploys.len() {
        let (repo, env) = (&deploys[start].repo, &deploys[start].env);
        let end = start
            + deploys[start..]
                .iter()
                .take_while(|d| &d.repo == repo && &d.env == env)
                .count();
        if let Some(g) = inp.graphs.get(repo) {
            if gens.as_ref().is_none_or(|(r, _)| r != repo) {
                gens = Some((repo.as_str(), std::cell::OnceCell::new()));
            }
            let gen = &gens.as_ref().expect("set above").1;
            mark_env(g, gen, &deploys[start..end], &mut out[start..end], start);
        }
        start = end;
    }
    out
}

/// Whether `anc` is a proper ancestor of `desc`.
fn is_ancestor(g: &Graph, gen: &[u32], anc: u32, desc: u32) -> bool {
    if anc == desc || gen[anc as usize] >= gen[desc as usize] {
        return false;
    }
    let floor = gen[anc as usize];
    let mut seen = std::collections::HashSet::from([desc]);
    let mut stack = vec![desc];
    while let Some(x) = stack.pop() {
        for &p in &g.parents[x as usize] {
            if p == anc {
                return true;
            }
            if gen[p as usize] > floor && seen.insert(p) {
                stack.push(p);
            }
        }
    }
    false
}

fn set_baseline(out: &mut Shipped, mut baseline: Vec<(u32, i64)>) {
    baseline.sort_unstable();
    out.baseline = baseline.iter().map(|b| b.0).collect();
    out.baseline_at = baseline.iter().map(|b| b.1).collect();
}

fn mark_env(
    g: &Graph,
    gen: &std::cell::OnceCell<Vec<u32>>,
    deploys: &[Deploy],
    out: &mut [Shipped],
    offset: usize,
) {
    let mut mark = vec![NONE; g.shas.len()];
    let mut current: Option<u32> = None;
    let mut seen_first = false;
    let mut stack = vec![];
    let mut walk = |from: u32, i: usize, mark: &mut Vec<u32>, got: &mut Vec<u32>| {
        if mark[from as usize] != NONE {
            return;
        }
        mark[from as usize] = i as u32;
        stack.push(from);
        while let Some(x) = stack.pop() {
            got.push(x);
            for &p in &g.parents[x as usize] {
                if mark[p as usize] == NONE {
                    mark[p as usize] = i as u32;
                    stack.push(p);
                }
            }
        }
    };
    for (i, d) in deploys.iter().enumerate() {
        let Some(c) = d.commit else { continue };
        if d.failed_status() {
            continue;
        }
        // Fast-forwarded history first: baseline, whoever reaches it. It also
        // says what the branch held before, so this deployment's own commits
        // are a real batch even when it is the first.
        let mut baseline: Vec<(u32, i64)> = vec![];
        let held_before = mark[c as usize] != NONE;
        for &(s, at) in &d.baseline_seeds {
            let mut got = vec![];
            walk(s, i, &mut mark, &mut got);
            baseline.extend(got.into_iter().map(|x| (x, at)));
        }
        if !d.baseline_seeds.is_empty() {
            seen_first = true;
        }
        if !held_before && mark[c as usize] != NONE {
            // Its own sha was made elsewhere (a fast-forwarded tip): all baseline.
            set_baseline(&mut out[i], baseline);
            out[i].is_baseline = true;
            current = Some(c);
            continue;
        }
        if mark[c as usize] != NONE {
            // Already shipped: nothing new. Back to an ancestor of the live sha is a rollback.
            match current {
                Some(live)
                    if live != c && is_ancestor(g, gen.get_or_init(|| generations(g)), c, live) =>
                {
                    out[i].is_rollback = true;
                    // Undone: every later deployment that shipped something, and the one
                    // that shipped `c` too unless `c` was its own sha.
                    let k = mark[c as usize] as usize;
                    let from = if deploys[k].commit == Some(c) {
                        k + 1
                    } else {
                        k
                    };
                    for o in &mut out[from..i] {
                        if !o.commits.is_empty() {
                            o.rolled_back_by.push(offset + i);
                        }
                    }
                }
                Some(live) if live != c => out[i].is_roll_forward = true,
                _ => {}
            }
            set_baseline(&mut out[i], baseline);
            current = Some(c);
            continue;
        }
        let mut got = vec![];
        walk(c, i, &mut mark, &mut got);
        // Commit indices follow sha order (the graph is built from a sorted map).
        got.sort_unstable();
        if seen_first {
            out[i].commits = got;
        } else {
            // History before the first observed deployment is baseline, not its batch.
            baseline.extend(got.into_iter().map(|x| (x, d.at)));
            out[i].is_baseline = true;
            seen_first = true;
        }
        set_baseline(&mut out[i], baseline);
        current = Some(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::Graph;

    /// a - b - c ------ m - f
    ///      \- d - e --/
    pub(crate) fn graph() -> Inputs {
        let names = ["a", "b", "c", "d", "e", "m", "f"];
        let parents: [&[usize]; 7] = [&[], &[0], &[1], &[1], &[3], &[2, 4], &[5]];
        let mut g = Graph::default();
        for (i, n) in names.iter().enumerate() {
            g.push_test_commit(n, parents[i], i as i64);
        }
        g.finish_test();
        let mut inp = Inputs::default();
        inp.graphs.insert("r".into(), g);
        inp
    }

    fn deploy(inp: &Inputs, id: &str, sha: &str, at: i64, status: &str) -> Deploy {
        Deploy {
            repo: "r".into(),
            env: "production".into(),
            env_pos: 0,
            id: id.into(),
            sha: sha.into(),
            commit: inp.graphs["r"].resolve(sha),
            at,
            status: status.into(),
            source: "file".into(),
            ref_: None,
            production: true,
            generation: 0,
            baseline_seeds: vec![],
            note: None,
            ff_tip: false,
            actor: None,
            trigger: None,
            tests_passed: None,
        }
    }

    fn names(inp: &Inputs, v: &[u32]) -> Vec<String> {
        let mut n: Vec<String> = v
            .iter()
            .map(|c| inp.graphs["r"].shas[*c as usize].clone())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn marking_pass_baseline_merges_rollbacks_and_redeploys() {
        let inp = graph();
        let d = vec![
            deploy(&inp, "d0", "b", 10, "success"),
            deploy(&inp, "d1", "m", 20, "success"),
            deploy(&inp, "d2", "c", 30, "success"), // back to an ancestor of m: rollback of d1
            deploy(&inp, "d3", "f", 40, "success"),
            deploy(&inp, "d4", "f", 50, "success"), // same sha again: nothing, not a rollback
            deploy(&inp, "d5", "zzz", 60, "success"), // unknown sha: nothing
        ];
        let s = map_commits(&inp, &d);
        assert!(s[0].is_baseline);
        assert_eq!(names(&inp, &s[0].baseline), ["a", "b"]);
        assert!(s[0].commits.is_empty());
        assert_eq!(names(&inp, &s[1].commits), ["c", "d", "e", "m"]);
        assert!(s[2].is_rollback && s[2].commits.is_empty());
        assert_eq!(s[1].rolled_back_by, vec![2]);
        assert_eq!(names(&inp, &s[3].commits), ["f"]);
        assert!(!s[4].is_rollback && s[4].commits.is_empty());
        assert!(!s[5].is_rollback && s[5].commits.is_empty());
    }

    #[test]
    fn roll_forward_is_not_a_rollback() {
        // A = c, B = m: deploy A, deploy B, roll back to A, deploy B again.
        let inp = graph();
        let d = vec![
            deploy(&inp, "a0", "b", 5, "success"),
            deploy(&inp, "A", "c", 10, "success"),
            deploy(&inp, "B", "m", 20, "success"),
            deploy(&inp, "back", "c", 30, "success"),
            deploy(&inp, "again", "m", 40, "success"),
        ];
        let s = map_commits(&inp, &d);
        assert!(s[3].is_rollback, "c is an ancestor of the live m");
        assert_eq!(s[2].rolled_back_by, vec![3]);
        assert!(
            !s[4].is_rollback,
            "m descends from the live c: roll-forward"
        );
        assert!(s[4].is_roll_forward);
        assert!(s[4].commits.is_empty(), "m's commits shipped with B");
    }

    #[test]
    fn a_failed_deployment_ships_nothing_and_the_next_success_ships_its_commits() {
        let inp = graph();
        let d = vec![
            deploy(&inp, "first", "b", 5, "success"),
            deploy(&inp, "bad", "m", 10, "failure"),
            deploy(&inp, "good", "f", 20, "success"),
        ];
        let s = map_commits(&inp, &d);
        assert!(s[1].commits.is_empty() && !s[1].is_rollback);
        assert_eq!(names(&inp, &s[2].commits), ["c", "d", "e", "f", "m"]);
        // A failed first attempt is not the baseline either.
        let d = vec![
            deploy(&inp, "bad", "b", 5, "error"),
            deploy(&inp, "good", "c", 10, "success"),
        ];
        let s = map_commits(&inp, &d);
        assert!(!s[0].is_baseline && s[0].baseline.is_empty());
        assert!(s[1].is_baseline);
        assert_eq!(names(&inp, &s[1].baseline), ["a", "b", "c"]);
    }

    #[test]
    fn seeds_mark_fast_forwarded_history_as_baseline() {
        let inp = graph();
        let g = &inp.graphs["r"];
        let mut late = deploy(&inp, "tip", "f", 20, "success");
        late.baseline_seeds = vec![(g.resolve("m").unwrap(), 7_000_000)];
        let d = vec![deploy(&inp, "first", "b", 5, "success"), late];
        let s = map_commits(&inp, &d);
        assert_eq!(names(&inp, &s[1].baseline), ["c", "d", "e", "m"]);
        assert_eq!(names(&inp, &s[1].commits), ["f"]);
        assert!(!s[1].is_baseline);
        assert_eq!(s[1].baseline_at, [7_000_000; 4]);

        // Seeds say what the branch held before its first deployment, so that
        // deployment's own commits are a real batch.
        let mut first = deploy(&inp, "m1", "m", 10, "success");
        first.baseline_seeds = vec![(g.resolve("c").unwrap(), 2)];
        let s = map_commits(&inp, &[first]);
        assert_eq!(names(&inp, &s[0].baseline), ["a", "b", "c"]);
        assert_eq!(names(&inp, &s[0].commits), ["d", "e", "m"]);
        assert!(!s[0].is_baseline);

        // A fast-forwarded tip (its own sha among the seeds) ships nothing:
        // everything it holds arrived at an unknown time.
        let mut tip = deploy(&inp, "tip", "f", 10, "success");
        tip.baseline_seeds = vec![(g.resolve("f").unwrap(), 6)];
        let s = map_commits(&inp, &[tip]);
        assert_eq!(s[0].baseline.len(), 7);
        assert!(s[0].commits.is_empty() && s[0].is_baseline && !s[0].is_rollback);
    }
}
