//! The work plan: every engineer's feature branches, with commit and merge
//! times on their own working clock. Planned up front from the seed, before any
//! git object exists, so each repository can then be built on its own thread.

use super::calendar::{days_from_civil, WorkTime};
use super::people::{follow_up, slug, title, Person, SERVICES};
use super::rng::Rng;
use super::Timeline;

/// One feature branch and its pull request.
#[derive(Debug, Clone)]
pub struct Feature {
    pub repo: usize,
    pub author: usize,
    pub title: String,
    pub branch: String,
    /// Commit times (UTC) and summaries, in order.
    pub commits: Vec<(i64, String)>,
    /// When the pull request is merged into develop.
    pub merge_at: i64,
    /// A long-running team branch that merges `beta` into itself at this time.
    pub pull_beta_at: Option<i64>,
    /// The pull request number, per repo in order of first commit.
    pub pr: u32,
}

/// Plans every feature of the year, ordered by repo and first commit.
pub fn features(rng: &mut Rng, people: &[Person], tl: &Timeline) -> Vec<Feature> {
    let mut out = Vec::new();
    for (a, p) in people.iter().enumerate() {
        let mut cur = WorkTime::start_of(days_from_civil(2025, 1, 2)).advance(rng.range(0, 600));
        loop {
            let trunk = cur.utc(p.tz) >= tl.switch;
            let repo = match p.secondary {
                Some(s) if rng.chance(0.15) => s,
                _ => p.team,
            };
            let svc = &SERVICES[repo];
            let t = title(rng, svc);
            let n = if trunk {
                rng.range(1, 3)
            } else {
                // 2..8, skewed towards the low end.
                2 + rng.range(0, 3) + rng.range(0, 3)
            };
            let mut commits = Vec::new();
            let mut at = cur;
            for k in 0..n {
                if k > 0 {
                    at = at.advance(if trunk {
                        rng.range(30, 240)
                    } else {
                        rng.range(240, 660)
                    });
                }
                let msg = if k == 0 {
                    t.clone()
                } else {
                    follow_up(rng).to_string()
                };
                commits.push((at.utc(p.tz), msg));
            }
            let merge = at.advance(if trunk {
                rng.range(20, 240)
            } else {
                rng.range(240, 1500)
            });
            let ticket = format!("{}-{}", svc.prefix, 100 + rng.range(0, 8999));
            out.push(Feature {
                repo,
                author: a,
                branch: format!("feature/{ticket}-{}", slug(&t)),
                title: t,
                commits,
                merge_at: merge.utc(p.tz),
                pull_beta_at: None,
                pr: 0,
            });
            cur = at.advance(if trunk {
                rng.range(300, 1100)
            } else {
                rng.range(120, 780)
            });
            if cur.utc(p.tz) >= tl.end {
                break;
            }
        }
    }
    // The storefront team's long-running branch that pulls `beta` into itself:
    // the "pollution" the promotion-flow analysis looks for.
    if let Some(a) = people.iter().position(|p| p.team == 1) {
        let p = &people[a];
        let mut at = WorkTime::start_of(days_from_civil(2025, 3, 3));
        let mut commits = Vec::new();
        for k in 0..12 {
            commits.push((
                at.utc(p.tz),
                if k == 0 {
                    "Rewrite search ranking (team branch)".to_string()
                } else {
                    format!("Search rewrite: step {}", k + 1)
                },
            ));
            at = at.advance(rng.range(1500, 2400));
        }
        out.push(Feature {
            repo: 1,
            author: a,
            title: "Rewrite search ranking".into(),
            branch: "team/search-rewrite".into(),
            commits,
            merge_at: at.advance(600).utc(p.tz),
            pull_beta_at: Some(
                WorkTime::start_of(days_from_civil(2025, 4, 10))
                    .advance(300)
                    .utc(p.tz),
            ),
            pr: 0,
        });
    }
    out.retain(|f| f.commits[0].0 < tl.end);
    out.sort_by(|a, b| (a.repo, a.commits[0].0, a.author).cmp(&(b.repo, b.commits[0].0, b.author)));
    let mut next = [0u32; 3];
    for f in &mut out {
        next[f.repo] += 1;
        f.pr = next[f.repo];
    }
    out
}
