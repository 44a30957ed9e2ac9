//! The flow's tables: written by `analyze`, read back by `flow` and the reports.

use flowmeter_store::{
    Store, WriteGuard, ANALYSIS_NOTES, DEPLOYMENT_STATS, DRIFT_DAILY, ENV_ARRIVALS, MISALIGNMENTS,
    PROMOTIONS, TIP_DRIFT, TRAIN_WAITS,
};
use polars::prelude::*;

use super::report::Leg;
use super::{DriftRow, Finding, Flow, Promotion, TipDrift, TrainWait};
use crate::error::{polars_err, Result};
use crate::frame::{time_col, Cols};

fn err(table: &str) -> impl FnOnce(PolarsError) -> crate::error::Error + '_ {
    move |e| polars_err(format!("building {table}"))(e)
}

/// `env_arrivals`, sorted by repo, sha and stage.
pub fn arrivals_frame(flow: &Flow) -> Result<DataFrame> {
    let r = &flow.arrivals;
    let mut df = df!(
        "repo" => r.iter().map(|x| x.repo.as_str()).collect::<Vec<_>>(),
        "sha" => r.iter().map(|x| x.sha.as_str()).collect::<Vec<_>>(),
        "environment" => r.iter().map(|x| x.environment.as_str()).collect::<Vec<_>>(),
        "stage_index" => r.iter().map(|x| x.stage_index).collect::<Vec<_>>(),
        "deployment_id" => r.iter().map(|x| x.deployment_id.as_str()).collect::<Vec<_>>(),
        "is_baseline" => r.iter().map(|x| x.is_baseline).collect::<Vec<_>>(),
        "next_environment" => r.iter().map(|x| x.next_environment.clone()).collect::<Vec<_>>(),
        "dwell_s" => r.iter().map(|x| x.dwell_s).collect::<Vec<_>>(),
        "is_merge" => r.iter().map(|x| x.is_merge).collect::<Vec<_>>(),
        "pr_number" => r.iter().map(|x| x.pr_number).collect::<Vec<_>>(),
    )
    .map_err(err("env_arrivals"))?;
    for (name, v) in [
        (
            "arrived_at",
            r.iter().map(|x| x.arrived_at).collect::<Vec<_>>(),
        ),
        ("first_env_at", r.iter().map(|x| x.first_env_at).collect()),
        ("lead_start_at", r.iter().map(|x| x.start_at).collect()),
        (
            "next_arrived_at",
            r.iter().map(|x| x.next_arrived_at).collect(),
        ),
    ] {
        df.with_column(time_col(name, v)?)
            .map_err(err("env_arrivals"))?;
    }
    Ok(df)
}

/// `promotions`, sorted by repo, target environment and time.
pub fn promotions_frame(flow: &Flow) -> Result<DataFrame> {
    let r = &flow.promotions;
    let mut df = df!(
        "repo" => r.iter().map(|x| x.repo.as_str()).collect::<Vec<_>>(),
        "from_env" => r.iter().map(|x| x.from_env.as_str()).collect::<Vec<_>>(),
        "to_env" => r.iter().map(|x| x.to_env.as_str()).collect::<Vec<_>>(),
        "sha" => r.iter().map(|x| x.sha.as_str()).collect::<Vec<_>>(),
        "merged_sha" => r.iter().map(|x| x.merged_sha.as_str()).collect::<Vec<_>>(),
        "batch_commits" => r.iter().map(|x| x.batch_commits).collect::<Vec<_>>(),
        "batch_prs" => r.iter().map(|x| x.batch_prs).collect::<Vec<_>>(),
        "triggered_by" => r.iter().map(|x| x.triggered_by.as_str()).collect::<Vec<_>>(),
    )
    .map_err(err("promotions"))?;
    df.with_column(time_col(
        "promoted_at",
        r.iter().map(|x| x.promoted_at).collect(),
    )?)
    .map_err(err("promotions"))?;
    Ok(df)
}

/// `drift_daily`, sorted by repo, pair and day.
pub fn drift_frame(rows: &[DriftRow]) -> Result<DataFrame> {
    let r = rows;
    let mut df = df!(
        "repo" => r.iter().map(|x| x.repo.as_str()).collect::<Vec<_>>(),
        "from_env" => r.iter().map(|x| x.from_env.as_str()).collect::<Vec<_>>(),
        "to_env" => r.iter().map(|x| x.to_env.as_str()).collect::<Vec<_>>(),
        "commits_ahead" => r.iter().map(|x| x.commits_ahead).collect::<Vec<_>>(),
        "prs_ahead" => r.iter().map(|x| x.prs_ahead).collect::<Vec<_>>(),
        "oldest_age_s" => r.iter().map(|x| x.oldest_age_s).collect::<Vec<_>>(),
        "oldest_sha" => r.iter().map(|x| x.oldest_sha.clone()).collect::<Vec<_>>(),
    )
    .map_err(err("drift_daily"))?;
    df.with_column(time_col("day", r.iter().map(|x| Some(x.day)).collect())?)
        .map_err(err("drift_daily"))?;
    Ok(df)
}

/// `misalignments`, sorted by repo, kind, environment and sha.
pub fn misalignments_frame(rows: &[Finding]) -> Result<DataFrame> {
    let r = rows;
    df!(
        "repo" => r.iter().map(|x| x.repo.as_str()).collect::<Vec<_>>(),
        "kind" => r.iter().map(|x| x.kind.as_str()).collect::<Vec<_>>(),
        "environment" => r.iter().map(|x| x.environment.as_str()).collect::<Vec<_>>(),
        "sha" => r.iter().map(|x| x.sha.as_str()).collect::<Vec<_>>(),
        "related_sha" => r.iter().map(|x| x.related_sha.clone()).collect::<Vec<_>>(),
        "detail" => r.iter().map(|x| x.detail.as_str()).collect::<Vec<_>>(),
    )
    .map_err(err("misalignments"))
}

/// `tip_drift`, in flow order.
pub fn tips_frame(rows: &[TipDrift]) -> Result<DataFrame> {
    let r = rows;
    df!(
        "repo" => r.iter().map(|x| x.repo.as_str()).collect::<Vec<_>>(),
        "from_env" => r.iter().map(|x| x.from_env.as_str()).collect::<Vec<_>>(),
        "to_env" => r.iter().map(|x| x.to_env.as_str()).collect::<Vec<_>>(),
        "from_tip" => r.iter().map(|x| x.from_tip.clone()).collect::<Vec<_>>(),
        "to_tip" => r.iter().map(|x| x.to_tip.clone()).collect::<Vec<_>>(),
        "commits_ahead" => r.iter().map(|x| x.commits_ahead).collect::<Vec<_>>(),
        "commits_behind" => r.iter().map(|x| x.commits_behind).collect::<Vec<_>>(),
    )
    .map_err(err("tip_drift"))
}

/// `train_waits`, in flow order.
pub fn waits_frame(rows: &[TrainWait]) -> Result<DataFrame> {
    let r = rows;
    let mut df = df!(
        "repo" => r.iter().map(|x| x.repo.as_str()).collect::<Vec<_>>(),
        "environment" => r.iter().map(|x| x.environment.as_str()).collect::<Vec<_>>(),
        "sha" => r.iter().map(|x| x.sha.as_str()).collect::<Vec<_>>(),
        "wait_s" => r.iter().map(|x| x.wait_s).collect::<Vec<_>>(),
        "lead_s" => r.iter().map(|x| x.lead_s).collect::<Vec<_>>(),
    )
    .map_err(err("train_waits"))?;
    for (name, v) in [
        (
            "prev_arrived_at",
            r.iter()
                .map(|x| Some(x.prev_arrived_at))
                .collect::<Vec<_>>(),
        ),
        ("arrived_at", r.iter().map(|x| Some(x.arrived_at)).collect()),
    ] {
        df.with_column(time_col(name, v)?)
            .map_err(err("train_waits"))?;
    }
    Ok(df)
}

/// Writes the flow's tables. Returns (stage name, rows) in stage order.
pub(crate) fn write_tables(guard: &WriteGuard, flow: &Flow) -> Result<Vec<(&'static str, usize)>> {
    let frames = [
        (&ENV_ARRIVALS, arrivals_frame(flow)?),
        (&PROMOTIONS, promotions_frame(flow)?),
        (&DRIFT_DAILY, drift_frame(&flow.drift)?),
        (&MISALIGNMENTS, misalignments_frame(&flow.misalignments)?),
        (&TIP_DRIFT, tips_frame(&flow.tips)?),
        (&TRAIN_WAITS, waits_frame(&flow.waits)?),
    ];
    let mut out = vec![];
    for (table, df) in frames {
        out.push((table.name, df.height()));
        guard.replace(table, None, df)?;
    }
    Ok(out)
}

fn need<T>(v: Option<T>, table: &str, col: &str, row: usize) -> Result<T> {
    v.ok_or_else(|| crate::error::Error::Invalid(format!(
        "`{table}` row {row}: `{col}` is null; rerun `flowmeter analyze` to rebuild the derived tables"
    )))
}

/// Reads `env_arrivals` as the summary needs it: one [`Leg`] per row, the rows
/// of a change adjacent and in stage order, changes numbered from 0. `analyze`
/// writes the table in that order; a table in any other order is sorted here.
/// Strings are compared where they lie in the frame, never copied per row.
fn read_legs(store: &Store) -> Result<Vec<Leg>> {
    let df = store.read(&ENV_ARRIVALS)?;
    let c = Cols::new(&df, "env_arrivals");
    let t = "env_arrivals";
    let stage = c.int("stage_index")?;
    let mut keys = Vec::with_capacity(df.height());
    for (i, ((repo, sha), stage)) in c.strs("repo")?.zip(c.strs("sha")?).zip(&stage).enumerate() {
        keys.push((
            need(repo, t, "repo", i)?,
            need(sha, t, "sha", i)?,
            need(*stage, t, "stage_index", i)?,
        ));
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    if !keys.is_sorted() {
        order.sort_by_key(|&i| keys[i]);
    }
    let (arrived, next_at, dwell, merge, start) = (
        c.int("arrived_at")?,
        c.int("next_arrived_at")?,
        c.int("dwell_s")?,
        c.bool("is_merge")?,
        c.int("lead_start_at")?,
    );
    let mut legs = Vec::with_capacity(order.len());
    let mut change = 0u32;
    for (k, &i) in order.iter().enumerate() {
        if k > 0 {
            let (r, s, _) = keys[order[k - 1]];
            if (r, s) != (keys[i].0, keys[i].1) {
                change += 1;
            }
        }
        legs.push(Leg {
            change,
            stage: keys[i].2,
            arrived_at: arrived[i],
            next_arrived_at: next_at[i],
            dwell_s: dwell[i],
            is_merge: merge[i].unwrap_or(false),
            start_at: start[i],
        });
    }
    Ok(legs)
}

/// Reads the flow back from the tables `analyze` wrote, with the release
/// trains taken from `deployment_stats` (production deployments that shipped
/// something) and the notes from `analysis_notes`. The arrivals come as
/// [`Leg`]s, so `flow.arrivals` is left empty.
pub(crate) fn read_flow(
    store: &Store,
    environments: Vec<String>,
    production: &[String],
) -> Result<(Flow, Vec<Leg>)> {
    let mut flow = Flow {
        environments,
        ..Flow::default()
    };
    let legs = read_legs(store)?;

    let df = store.read(&PROMOTIONS)?;
    let c = Cols::new(&df, "promotions");
    let (mut repo, mut from, mut to, mut sha, mut merged, at, bc, bp, mut by) = (
        c.str("repo")?,
        c.str("from_env")?,
        c.str("to_env")?,
        c.str("sha")?,
        c.str("merged_sha")?,
        c.int("promoted_at")?,
        c.int("batch_commits")?,
        c.int("batch_prs")?,
        c.str("triggered_by")?,
    );
    let t = "promotions";
    for i in 0..df.height() {
        flow.promotions.push(Promotion {
            repo: need(repo[i].take(), t, "repo", i)?,
            from_env: need(from[i].take(), t, "from_env", i)?,
            to_env: need(to[i].take(), t, "to_env", i)?,
            sha: need(sha[i].take(), t, "sha", i)?,
            merged_sha: merged[i].take().unwrap_or_default(),
            promoted_at: at[i],
            batch_commits: bc[i].unwrap_or(0),
            batch_prs: bp[i].unwrap_or(0),
            triggered_by: by[i].take().unwrap_or_default(),
        });
    }

    let df = store.read(&DRIFT_DAILY)?;
    let c = Cols::new(&df, "drift_daily");
    let (mut repo, day, mut from, mut to, ahead, prs, age, mut oldest) = (
        c.str("repo")?,
        c.int("day")?,
        c.str("from_env")?,
        c.str("to_env")?,
        c.int("commits_ahead")?,
        c.int("prs_ahead")?,
        c.int("oldest_age_s")?,
        c.str("oldest_sha")?,
    );
    let t = "drift_daily";
    for i in 0..df.height() {
        flow.drift.push(DriftRow {
            repo: need(repo[i].take(), t, "repo", i)?,
            day: need(day[i], t, "day", i)?,
            from_env: need(from[i].take(), t, "from_env", i)?,
            to_env: need(to[i].take(), t, "to_env", i)?,
            commits_ahead: ahead[i].unwrap_or(0),
            prs_ahead: prs[i].unwrap_or(0),
            oldest_age_s: age[i],
            oldest_sha: oldest[i].take(),
        });
    }

    let df = store.read(&MISALIGNMENTS)?;
    let c = Cols::new(&df, "misalignments");
    let (mut repo, mut kind, mut env, mut sha, mut rel, mut detail) = (
        c.str("repo")?,
        c.str("kind")?,
        c.str("environment")?,
        c.str("sha")?,
        c.str("related_sha")?,
        c.str("detail")?,
    );
    let t = "misalignments";
    for i in 0..df.height() {
        flow.misalignments.push(Finding {
            repo: need(repo[i].take(), t, "repo", i)?,
            kind: need(kind[i].take(), t, "kind", i)?,
            environment: env[i].take().unwrap_or_default(),
            sha: need(sha[i].take(), t, "sha", i)?,
            related_sha: rel[i].take(),
            detail: detail[i].take().unwrap_or_default(),
        });
    }

    let df = store.read(&TIP_DRIFT)?;
    let c = Cols::new(&df, "tip_drift");
    let (mut repo, mut from, mut to, mut ft, mut tt, ahead, behind) = (
        c.str("repo")?,
        c.str("from_env")?,
        c.str("to_env")?,
        c.str("from_tip")?,
        c.str("to_tip")?,
        c.int("commits_ahead")?,
        c.int("commits_behind")?,
    );
    let t = "tip_drift";
    for i in 0..df.height() {
        flow.tips.push(TipDrift {
            repo: need(repo[i].take(), t, "repo", i)?,
            from_env: need(from[i].take(), t, "from_env", i)?,
            to_env: need(to[i].take(), t, "to_env", i)?,
            from_tip: ft[i].take(),
            to_tip: tt[i].take(),
            commits_ahead: ahead[i].unwrap_or(0),
            commits_behind: behind[i].unwrap_or(0),
        });
    }

    let df = store.read(&TRAIN_WAITS)?;
    let c = Cols::new(&df, "train_waits");
    let (mut repo, mut env, mut sha, prev, at, wait, lead) = (
        c.str("repo")?,
        c.str("environment")?,
        c.str("sha")?,
        c.int("prev_arrived_at")?,
        c.int("arrived_at")?,
        c.int("wait_s")?,
        c.int("lead_s")?,
    );
    let t = "train_waits";
    for i in 0..df.height() {
        flow.waits.push(TrainWait {
            repo: need(repo[i].take(), t, "repo", i)?,
            environment: need(env[i].take(), t, "environment", i)?,
            sha: need(sha[i].take(), t, "sha", i)?,
            prev_arrived_at: need(prev[i], t, "prev_arrived_at", i)?,
            arrived_at: need(at[i], t, "arrived_at", i)?,
            wait_s: need(wait[i], t, "wait_s", i)?,
            lead_s: lead[i],
        });
    }

    let df = store.read(&DEPLOYMENT_STATS)?;
    let c = Cols::new(&df, "deployment_stats");
    let (at, shipped) = (c.int("deployed_at")?, c.int("shipped_commits")?);
    for (i, (r, e)) in c.strs("repo")?.zip(c.strs("environment")?).enumerate() {
        if let (Some(r), Some(e), Some(at)) = (r, e, at[i]) {
            if shipped[i].unwrap_or(0) > 0 && production.iter().any(|p| p == e) {
                flow.trains.push((r.to_owned(), e.to_owned(), at));
            }
        }
    }

    let df = store.read(&ANALYSIS_NOTES)?;
    let c = Cols::new(&df, "analysis_notes");
    flow.notes = c.str("note")?.into_iter().flatten().collect();
    Ok((flow, legs))
}
