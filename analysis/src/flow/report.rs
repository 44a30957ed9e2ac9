//! `flowmeter flow`: the flow tables read back and summarised (dwell per
//! stage, shares of lead time, release trains), filtered to a date range.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, NaiveDate};
use flowmeter_store::Store;
use serde::Serialize;

use super::{DriftRow, Finding, Flow, Promotion, TipDrift, TrainWait};
use crate::config::Config;
use crate::error::Result;
use crate::metrics::{period_of, By};
use crate::stats::quantile;

/// `--since` / `--until` for the report (inclusive days, UTC).
#[derive(Debug, Clone, Default)]
pub struct FlowOptions {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// Median and p90 dwell of one stage in one period (`all` for the whole range).
#[derive(Debug, Clone, Serialize)]
pub struct DwellStat {
    pub stage: String,
    pub period: String,
    pub changes: i64,
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
    /// Negative dwell times (clock or mapping anomalies), left out of the quantiles.
    pub negative: i64,
}

/// One stage's share of total lead time, over changes with every arrival known.
#[derive(Debug, Clone, Serialize)]
pub struct StageShare {
    pub stage: String,
    pub changes: i64,
    pub total_s: i64,
    pub share: Option<f64>,
}

/// Production cadence and the time changes spend waiting for a train.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    pub repo: String,
    pub environment: String,
    pub trains: i64,
    pub median_interval_s: Option<f64>,
    pub p25_interval_s: Option<f64>,
    pub p75_interval_s: Option<f64>,
    pub iqr_s: Option<f64>,
    /// Standard deviation / mean of the intervals: 0 is a perfectly regular train.
    pub cv: Option<f64>,
    pub changes: i64,
    pub median_wait_s: Option<f64>,
    /// Sum of train waits / sum of lead times, over the same changes.
    pub wait_share: Option<f64>,
}

/// Everything `flowmeter flow` prints.
#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    pub environments: Vec<String>,
    pub dwell: Vec<DwellStat>,
    pub shares: Vec<StageShare>,
    pub promotions: Vec<Promotion>,
    pub drift: Vec<DriftRow>,
    pub tips: Vec<TipDrift>,
    pub misalignments: Vec<Finding>,
    pub trains: Vec<TrainSummary>,
    /// Per repo and pair: the drift series in brief.
    pub drift_summary: Vec<DriftSummary>,
    /// Misalignment findings counted by kind and environment.
    pub misalignment_counts: Vec<KindCount>,
    pub notes: Vec<String>,
}

/// One drift series in brief: its length, its latest value and its peak.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DriftSummary {
    pub repo: String,
    pub from_env: String,
    pub to_env: String,
    pub days: i64,
    pub latest_day: i64,
    pub latest_commits_ahead: i64,
    pub max_commits_ahead: i64,
    /// The first day the peak was reached.
    pub max_day: i64,
}

/// How many findings of one kind one environment has.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KindCount {
    pub kind: String,
    pub environment: String,
    pub count: i64,
}

fn day_of(us: i64) -> NaiveDate {
    DateTime::from_timestamp_micros(us)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

impl FlowOptions {
    fn keep(&self, us: i64) -> bool {
        let d = day_of(us);
        self.since.is_none_or(|s| d >= s) && self.until.is_none_or(|u| d <= u)
    }
}

fn stats(v: &[f64]) -> (Option<f64>, Option<f64>) {
    (quantile(v, 0.5), quantile(v, 0.9))
}

/// Non-negative dwells, the count of negative ones, and a day of the period.
type Dwells = (Vec<f64>, i64, NaiveDate);

/// What the summary reads of one `env_arrivals` row. A change's legs are
/// adjacent and in stage order; `change` numbers the changes from 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Leg {
    pub change: u32,
    pub stage: i64,
    pub arrived_at: Option<i64>,
    pub next_arrived_at: Option<i64>,
    pub dwell_s: Option<i64>,
    pub is_merge: bool,
    pub start_at: Option<i64>,
}

/// Summarises the flow tables for the report: `legs` are `env_arrivals` as
/// [`read_flow`](super::tables::read_flow) gives them, and the other tables
/// move into the report as they are (filtered to the period).
pub(crate) fn summarize(flow: Flow, legs: &[Leg], opts: &FlowOptions) -> FlowReport {
    let envs = &flow.environments;
    let n = envs.len();
    let stage = |k: usize| format!("{}→{}", envs[k], envs[k + 1]);

    // Dwell per stage and period (the month of arrival in the later environment).
    // Keyed by (stage, month as year·12 + month, or None for `all`), with a
    // day of that month to name it: no string is built per arrival.
    let mut per: HashMap<(usize, Option<i32>), Dwells> = HashMap::new();
    for a in legs {
        let (Some(d), Some(next)) = (a.dwell_s, a.next_arrived_at) else {
            continue;
        };
        if a.is_merge || !opts.keep(next) {
            continue;
        }
        let k = a.stage as usize;
        let day = day_of(next);
        let month = day.year() * 12 + day.month0() as i32;
        for key in [(k, Some(month)), (k, None)] {
            let e = per.entry(key).or_insert_with(|| (vec![], 0, day));
            if d < 0 {
                e.1 += 1;
            } else {
                e.0.push(d as f64);
            }
        }
    }
    let mut dwell: Vec<DwellStat> = per
        .into_iter()
        .map(|((k, month), (v, neg, day))| {
            let (median_s, p90_s) = stats(&v);
            DwellStat {
                stage: stage(k),
                period: match month {
                    Some(_) => period_of(day, By::Month).0,
                    None => "all".to_string(),
                },
                changes: v.len() as i64,
                median_s,
                p90_s,
                negative: neg,
            }
        })
        .collect();
    // `all` last within each stage.
    dwell.sort_by(|a, b| {
        (&a.stage, a.period == "all", &a.period).cmp(&(&b.stage, b.period == "all", &b.period))
    });
    let order: HashMap<String, usize> = (0..n.saturating_sub(1)).map(|k| (stage(k), k)).collect();
    dwell.sort_by_key(|d| order.get(&d.stage).copied().unwrap_or(usize::MAX));

    // Shares: commit→first environment, then each stage, over changes with
    // every arrival known and no negative segment.
    let mut seg = vec![0i64; n];
    let mut total = 0i64;
    let mut count = 0i64;
    let (mut ats, mut parts) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for rows in legs.chunk_by(|a, b| a.change == b.change) {
        if rows.len() != n || rows[0].is_merge || n == 0 {
            continue;
        }
        ats.clear();
        ats.extend(rows.iter().map_while(|r| r.arrived_at));
        let Some(start) = rows[0].start_at else {
            continue;
        };
        if ats.len() != n || !opts.keep(ats[n - 1]) {
            continue;
        }
        parts.clear();
        parts
            .extend((0..n).map(|k| (ats[k] - if k == 0 { start } else { ats[k - 1] }) / 1_000_000));
        if parts.iter().any(|p| *p < 0) {
            continue;
        }
        for (s, p) in seg.iter_mut().zip(&parts) {
            *s += p;
        }
        total += parts.iter().sum::<i64>();
        count += 1;
    }
    let shares = (0..n)
        .map(|k| StageShare {
            stage: if k == 0 {
                format!("commit→{}", envs[0])
            } else {
                stage(k - 1)
            },
            changes: count,
            total_s: seg[k],
            share: (total > 0).then(|| seg[k] as f64 / total as f64),
        })
        .collect();

    // Trains.
    let mut trains = vec![];
    let mut keys: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (repo, env, _) in &flow.trains {
        keys.insert((repo.as_str(), env.as_str()));
    }
    for (repo, env) in keys {
        let mut at: Vec<i64> = flow
            .trains
            .iter()
            .filter(|(r, e, at)| r == repo && e == env && opts.keep(*at))
            .map(|t| t.2)
            .collect();
        at.sort_unstable();
        let iv: Vec<f64> = at
            .windows(2)
            .map(|w| ((w[1] - w[0]) / 1_000_000) as f64)
            .collect();
        let (p25, p75) = (quantile(&iv, 0.25), quantile(&iv, 0.75));
        let cv = (iv.len() >= 2).then(|| {
            let mean = iv.iter().sum::<f64>() / iv.len() as f64;
            let var = iv.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / iv.len() as f64;
            if mean > 0.0 {
                var.sqrt() / mean
            } else {
                0.0
            }
        });
        let waits: Vec<&TrainWait> = flow
            .waits
            .iter()
            .filter(|w| w.repo == repo && w.environment == env && opts.keep(w.arrived_at))
            .filter(|w| w.wait_s >= 0 && w.lead_s.is_some_and(|l| l >= 0))
            .collect();
        let ws: Vec<f64> = waits.iter().map(|w| w.wait_s as f64).collect();
        let lead: i64 = waits.iter().filter_map(|w| w.lead_s).sum();
        let wait: i64 = waits.iter().map(|w| w.wait_s).sum();
        trains.push(TrainSummary {
            repo: repo.to_string(),
            environment: env.to_string(),
            trains: at.len() as i64,
            median_interval_s: quantile(&iv, 0.5),
            p25_interval_s: p25,
            p75_interval_s: p75,
            iqr_s: p25.zip(p75).map(|(a, b)| b - a),
            cv,
            changes: waits.len() as i64,
            median_wait_s: quantile(&ws, 0.5),
            wait_share: (lead > 0).then(|| wait as f64 / lead as f64),
        });
    }

    let drift: Vec<DriftRow> = flow
        .drift
        .into_iter()
        .filter(|d| opts.keep(d.day))
        .collect();
    let mut drift_summary: Vec<DriftSummary> = vec![];
    for d in &drift {
        match drift_summary.last_mut() {
            Some(s) if s.repo == d.repo && s.from_env == d.from_env && s.to_env == d.to_env => {
                s.days += 1;
                if d.day >= s.latest_day {
                    s.latest_day = d.day;
                    s.latest_commits_ahead = d.commits_ahead;
                }
                if d.commits_ahead > s.max_commits_ahead {
                    s.max_commits_ahead = d.commits_ahead;
                    s.max_day = d.day;
                }
            }
            _ => drift_summary.push(DriftSummary {
                repo: d.repo.clone(),
                from_env: d.from_env.clone(),
                to_env: d.to_env.clone(),
                days: 1,
                latest_day: d.day,
                latest_commits_ahead: d.commits_ahead,
                max_commits_ahead: d.commits_ahead,
                max_day: d.day,
            }),
        }
    }
    let mut counts: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for m in &flow.misalignments {
        *counts.entry((&m.kind, &m.environment)).or_default() += 1;
    }
    let misalignment_counts = counts
        .into_iter()
        .map(|((k, e), n)| KindCount {
            kind: k.to_string(),
            environment: e.to_string(),
            count: n,
        })
        .collect();
    FlowReport {
        environments: flow.environments,
        dwell,
        shares,
        promotions: flow
            .promotions
            .into_iter()
            .filter(|p| p.promoted_at.is_none_or(|t| opts.keep(t)))
            .collect(),
        drift,
        tips: flow.tips,
        misalignments: flow.misalignments,
        trains,
        drift_summary,
        misalignment_counts,
        notes: flow.notes,
    }
}

/// `flowmeter flow`: reads the flow tables `analyze` wrote and summarises them.
pub fn flow_report(store: &Store, config: &Config, opts: &FlowOptions) -> Result<FlowReport> {
    let envs = config.environments.iter().map(|e| e.name.clone()).collect();
    let (flow, legs) = super::tables::read_flow(store, envs, &config.production_envs())?;
    let mut r = summarize(flow, &legs, opts);
    if config.environments.len() < 2 {
        r.notes.push(format!(
            "only {} environment(s) configured: list them in promotion order ([[environment]] in flowmeter.toml) to see stages, drift and promotions",
            config.environments.len()
        ));
    }
    Ok(r)
}
