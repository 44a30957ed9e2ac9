//! The `misalignments` findings: skipped stages, cherry-pick duplicates,
//! branches ahead of their predecessor, and pollution of other branches.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{ancestors, names, Finding, RepoEnvs};
use crate::config::Config;
use crate::deploy::short;
use crate::inputs::{Graph, Inputs};

pub(crate) fn misalignments(
    config: &Config,
    inp: &Inputs,
    repo: &str,
    g: &Graph,
    re: &RepoEnvs,
    present: &[Vec<Option<(usize, bool)>>],
    has_deploys: &[bool],
) -> Vec<Finding> {
    let envs = &config.environments;
    let n = envs.len();
    let len = g.shas.len();
    let mut out = vec![];
    let in_envs =
        |c: usize| -> Vec<usize> { (0..n).filter(|k| present[*k][c].is_some()).collect() };

    // Patch-equivalence groups (same patch_id, or a cherry-pick link) among
    // non-merge commits in some environment.
    let mut parent: HashMap<u32, u32> = HashMap::new();
    fn find(parent: &mut HashMap<u32, u32>, x: u32) -> u32 {
        let p = *parent.get(&x).unwrap_or(&x);
        if p == x {
            return x;
        }
        let r = find(parent, p);
        parent.insert(x, r);
        r
    }
    let mut by_patch: HashMap<&str, u32> = HashMap::new();
    let mut picked_link: HashMap<(u32, u32), ()> = HashMap::new();
    for c in 0..len {
        if g.is_merge[c] || in_envs(c).is_empty() {
            continue;
        }
        if let Some(p) = g.patch_id[c].as_deref() {
            match by_patch.get(p) {
                Some(&o) => {
                    let (a, b) = (find(&mut parent, o), find(&mut parent, c as u32));
                    parent.insert(a.max(b), a.min(b));
                }
                None => {
                    by_patch.insert(p, c as u32);
                }
            }
        }
        if let Some(o) = g.picked_from[c] {
            if !in_envs(o as usize).is_empty() {
                picked_link.insert((c as u32, o), ());
                let (a, b) = (find(&mut parent, o), find(&mut parent, c as u32));
                parent.insert(a.max(b), a.min(b));
            }
        }
    }
    let mut groups: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let keys: Vec<u32> = parent.keys().copied().collect();
    for x in keys {
        let r = find(&mut parent, x);
        groups.entry(r).or_default().extend([x, r]);
    }
    let mut group_of: HashMap<u32, Vec<u32>> = HashMap::new();
    for members in groups.values_mut() {
        members.sort_unstable();
        members.dedup();
        for &m in members.iter() {
            group_of.insert(m, members.clone());
        }
    }

    // (a) skipped_stage
    for c in 0..len {
        if g.is_merge[c] {
            continue;
        }
        let s = in_envs(c);
        let Some(&last) = s.last() else { continue };
        let equivalents = group_of.get(&(c as u32));
        // An environment with no deployment in this repo cannot have been skipped.
        let missing: Vec<usize> = (0..last)
            .filter(|j| has_deploys[*j] && present[*j][c].is_none())
            .filter(|j| {
                !equivalents.is_some_and(|eq| eq.iter().any(|e| present[*j][*e as usize].is_some()))
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        out.push(Finding {
            repo: repo.to_string(),
            kind: "skipped_stage".into(),
            environment: envs[s[0]].name.clone(),
            sha: g.shas[c].clone(),
            related_sha: None,
            detail: format!(
                "on {}; never on {}: {}",
                names(config, &s),
                names(config, &missing),
                g.summary[c]
            ),
        });
    }

    // (b) cherry_pick_duplicate
    for members in groups.values() {
        let mut m: Vec<(usize, i64, &str, u32)> = members
            .iter()
            .map(|&c| {
                let s = in_envs(c as usize);
                (
                    s.first().copied().unwrap_or(n),
                    g.committed[c as usize].unwrap_or(i64::MAX),
                    g.shas[c as usize].as_str(),
                    c,
                )
            })
            .collect();
        m.sort();
        m.dedup();
        let Some(&(_, _, osha, o)) = m.first() else {
            continue;
        };
        let oenvs = in_envs(o as usize);
        for &(_, _, dsha, d) in &m[1..] {
            let denvs = in_envs(d as usize);
            if denvs == oenvs {
                continue;
            }
            let how = if picked_link.contains_key(&(d, o)) {
                format!("cherry-picked from {}", short(osha))
            } else {
                format!("same patch_id as {}", short(osha))
            };
            out.push(Finding {
                repo: repo.to_string(),
                kind: "cherry_pick_duplicate".into(),
                environment: envs[denvs[0]].name.clone(),
                sha: dsha.to_string(),
                related_sha: Some(osha.to_string()),
                detail: format!(
                    "{how}; this copy is on {}, the original on {}",
                    names(config, &denvs),
                    names(config, &oenvs)
                ),
            });
        }
    }

    // (c) branch_ahead: the later branch's tip has commits its predecessor's lacks.
    for k in 0..n.saturating_sub(1) {
        let (Some(a), Some(b), Some(ta)) = (&re.anc[k], &re.anc[k + 1], re.tips[k]) else {
            continue;
        };
        if re.branches[k] == re.branches[k + 1] {
            continue;
        }
        for c in 0..len {
            if b[c] && !a[c] && !g.is_merge[c] {
                out.push(Finding {
                    repo: repo.to_string(),
                    kind: "branch_ahead".into(),
                    environment: envs[k + 1].name.clone(),
                    sha: g.shas[c].clone(),
                    related_sha: Some(g.shas[ta as usize].clone()),
                    detail: format!(
                        "on branch `{}` ({}), not on `{}` ({}): {}",
                        re.branches[k + 1].as_deref().unwrap_or(""),
                        envs[k + 1].name,
                        re.branches[k].as_deref().unwrap_or(""),
                        envs[k].name,
                        g.summary[c]
                    ),
                });
            }
        }
    }

    // (d) pollution: other branches holding commits only later environment
    // branches (other than main/master/the default branch) have.
    let default = inp.default_branch.get(repo).cloned();
    let mainline = |b: &str| b == "main" || b == "master" || default.as_deref() == Some(b);
    let refs = inp.refs.get(repo).map(Vec::as_slice).unwrap_or(&[]);
    let main_anc: Vec<Vec<bool>> = refs
        .iter()
        .filter(|r| r.kind == "branch" && mainline(&r.name))
        .filter_map(|r| g.resolve(&r.sha))
        .map(|t| ancestors(g, t))
        .collect();
    let later: Vec<usize> = (1..n)
        .filter(|k| {
            re.anc[*k].is_some() && re.branches[*k].as_deref().is_some_and(|b| !mainline(b))
        })
        .collect();
    if later.is_empty() {
        return out;
    }
    let later_only = |c: usize| -> Option<Vec<usize>> {
        if g.is_merge[c] || re.anc[0].as_ref().is_some_and(|a| a[c]) {
            return None;
        }
        if main_anc.iter().any(|a| a[c]) {
            return None;
        }
        let on: Vec<usize> = later
            .iter()
            .copied()
            .filter(|k| re.anc[*k].as_ref().is_some_and(|a| a[c]))
            .collect();
        (!on.is_empty()).then_some(on)
    };
    let env_branches: BTreeSet<&str> = re.branches.iter().flatten().map(String::as_str).collect();
    // A branch named like a configured environment is that environment's
    // branch even when the environment takes its deployments from a deploy log
    // or tags: it is not a team branch, so it cannot be "polluted".
    let env_named = |b: &str| envs.iter().any(|e| e.name == b);
    for r in refs {
        if r.kind != "branch"
            || env_branches.contains(r.name.as_str())
            || env_named(&r.name)
            || mainline(&r.name)
        {
            continue;
        }
        let Some(t) = g.resolve(&r.sha) else { continue };
        let a = ancestors(g, t);
        for (c, _) in a.iter().enumerate().filter(|(_, x)| **x) {
            if let Some(on) = later_only(c) {
                out.push(Finding {
                    repo: repo.to_string(),
                    kind: "pollution".into(),
                    environment: envs[on[0]].name.clone(),
                    sha: g.shas[c].clone(),
                    related_sha: Some(g.shas[t as usize].clone()),
                    detail: format!(
                        "branch `{}` contains {}, which is only on {} (not on {}): {}",
                        r.name,
                        short(&g.shas[c]),
                        names(config, &on),
                        envs[0].name,
                        g.summary[c]
                    ),
                });
            }
        }
    }
    out
}
