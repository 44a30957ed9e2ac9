//! Rendering tests on synthetic inputs: each chart's SVG structure (title, axis
//! labels, legend, element counts) is snapshotted, never its pixels.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::*;

pub(crate) const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn at(m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).unwrap()
}

fn month(m: &str, changes: u64, p: [f64; 4]) -> LeadTimeMonth {
    LeadTimeMonth {
        month: m.into(),
        changes,
        p25_hours: Some(p[0]),
        median_hours: Some(p[1]),
        p75_hours: Some(p[2]),
        p90_hours: Some(p[3]),
    }
}

fn bucket(label: &str, n: u64, f: u64, lo: f64, hi: f64) -> BatchBucket {
    BatchBucket {
        label: label.into(),
        deployments: n,
        failed: f,
        rate: f as f64 / n as f64,
        lo,
        hi,
    }
}

pub(crate) fn scorecard() -> Scorecard {
    let t = |a: &str, b: &str, c: &str, d: &str| vec![a.into(), b.into(), c.into(), d.into()];
    Scorecard {
        tier_year: Some(2023),
        rows: vec![
            ScoreRow {
                metric: "Deployment frequency".into(),
                value: "2.5 deploy days/week".into(),
                tier: Some(Tier::High),
                thresholds: t("≥ 3 days/week", "≥ 1 day/week", "≥ 1/month", "< 1/month"),
            },
            ScoreRow {
                metric: "Change fail rate".into(),
                value: "12%".into(),
                tier: Some(Tier::Medium),
                thresholds: t("≤ 5%", "≤ 10%", "≤ 15%", "> 15%"),
            },
        ],
    }
}

pub(crate) fn failure_by_batch() -> FailureByBatch {
    FailureByBatch {
        dimension: "commits per deployment".into(),
        interval: "95% Wilson interval".into(),
        // Wilson intervals of 1/10, 2/8 and 3/4 (closed form, checked in the CLI tests).
        buckets: vec![
            bucket("1", 10, 1, 0.0179, 0.4042),
            bucket("2–3", 8, 2, 0.0715, 0.5907),
            bucket("4–7", 4, 3, 0.3006, 0.9544),
        ],
        overall_rate: Some(6.0 / 22.0),
    }
}

pub(crate) fn histogram() -> LeadTimeHistogram {
    LeadTimeHistogram {
        bins: (0..8)
            .map(|k| HistogramBin {
                lo_hours: 0.25 * 2f64.powi(k),
                hi_hours: 0.25 * 2f64.powi(k + 1),
                count: [1, 3, 6, 9, 7, 4, 0, 2][k as usize],
            })
            .collect(),
        median_hours: Some(5.0),
        excluded_negative: 1,
    }
}

pub(crate) fn stage_times() -> StageTimes {
    StageTimes {
        stages: vec![
            "develop → test".into(),
            "test → beta".into(),
            "beta → production".into(),
        ],
        statistic: "median".into(),
        periods: vec![
            StagePeriod {
                label: "2026-09".into(),
                changes: 40,
                hours: vec![30.0, 70.0, 150.0],
            },
            StagePeriod {
                label: "2026-10".into(),
                changes: 35,
                hours: vec![20.0, 60.0, 200.0],
            },
        ],
    }
}

pub(crate) fn whatif() -> WhatIfLeadTime {
    let p = |name: &str, dpm: f64, med: f64, p90: f64, fail: f64| WhatIfPolicy {
        name: name.into(),
        deployments_per_month: dpm,
        lead_median_hours: med,
        lead_p90_hours: p90,
        batch_median: Some(30.0 / dpm),
        predicted_failures: Some(fail),
        predicted_failures_lo: Some(fail * 0.6),
        predicted_failures_hi: Some(fail * 1.5),
        // Smaller batches: more failures in the model, each holding fewer changes.
        predicted_changes_in_failed: Some(fail * 30.0 / dpm),
        predicted_changes_in_failed_lo: Some(fail * 18.0 / dpm),
        predicted_changes_in_failed_hi: Some(fail * 45.0 / dpm),
    };
    WhatIfLeadTime {
        policies: vec![
            p("current", 2.0, 240.0, 400.0, 0.9),
            p("weekly", 4.3, 110.0, 190.0, 1.2),
            p("daily", 21.0, 30.0, 60.0, 2.5),
        ],
        assumptions: vec!["the same changes at the same merge times".into()],
        warnings: vec![],
    }
}

fn row(metric: &str, unit: &str, b: f64, a: f64, d: (f64, f64, f64), p: f64) -> BeforeAfterRow {
    BeforeAfterRow {
        metric: metric.into(),
        unit: unit.into(),
        statistic: "median".into(),
        per: "deployment".into(),
        n_before: 12,
        n_after: 30,
        before: Some(b),
        after: Some(a),
        difference: Some(d.0),
        difference_lo: Some(d.1),
        difference_hi: Some(d.2),
        p_value: Some(p),
        verdict: Verdict::of(Some((d.1, d.2))),
    }
}

/// A process change whose lead time and batch size fell clearly, whose fail
/// rate fell within chance, and whose recovery has no data after.
pub(crate) fn before_after() -> BeforeAfter {
    let d = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    let mut recovery = row("recovery_time", "hours", 5.0, 0.0, (0.0, 0.0, 0.0), 1.0);
    (recovery.after, recovery.difference, recovery.difference_lo) = (None, None, None);
    (recovery.difference_hi, recovery.p_value, recovery.n_after) = (None, None, 0);
    recovery.verdict = Verdict::NoData;
    BeforeAfter {
        change_date: Some(d),
        label: Some(HOSTILE.into()),
        before: PeriodSpan {
            label: "2026-07-01..2026-08-31".into(),
            from: day(7, 1),
            to: day(8, 31),
        },
        after: PeriodSpan {
            label: "2026-09-01..2026-10-31".into(),
            from: day(9, 1),
            to: day(10, 31),
        },
        rows: vec![
            row(
                "lead_time",
                "hours",
                240.0,
                30.0,
                (-210.0, -230.0, -190.0),
                0.0004,
            ),
            row(
                "batch_commits",
                "commits",
                12.0,
                3.0,
                (-9.0, -11.0, -6.0),
                0.01,
            ),
            row(
                "change_fail_rate",
                "fraction",
                0.25,
                0.2,
                (-0.05, -0.3, 0.2),
                0.6,
            ),
            recovery,
        ],
        resamples: 2000,
        seed: 42,
        warnings: vec![
            "change_fail_rate: only 12 before and 30 after: the interval is wide".into(),
        ],
        notes: vec!["difference = after − before".into()],
    }
}

fn before_after_table() -> BeforeAfterTable {
    BeforeAfterTable {
        before: "Before (2026-07-01 – 2026-08-31)".into(),
        after: "After (2026-09-01 – 2026-10-31)".into(),
        rows: vec![
            BeforeAfterLine {
                metric: "Median lead time".into(),
                per: "changes".into(),
                before: "10 d".into(),
                after: "30 h".into(),
                difference: "−8.8 d".into(),
                interval: "−9.6 to −7.9 d".into(),
                p: "p < 0.001".into(),
                n_before: 12,
                n_after: 30,
                clear: true,
            },
            BeforeAfterLine {
                metric: "Median batch size".into(),
                per: "deployments".into(),
                before: "12 commits".into(),
                after: "3 commits".into(),
                difference: "−9 commits".into(),
                interval: "−11 to −6 commits".into(),
                p: "p = 0.010".into(),
                n_before: 12,
                n_after: 30,
                clear: true,
            },
        ],
    }
}

/// One synthetic input per chart.
pub(crate) fn all_charts() -> Vec<Chart> {
    vec![
        Chart::DeploysPerWeek(DeploysPerWeek {
            weeks: (0..6)
                .map(|i| WeekCount {
                    week_start: day(9, 7) + chrono::Days::new(7 * i),
                    deployments: [2, 3, 1, 4, 5, 3][i as usize],
                })
                .collect(),
            trend: vec![2.0, 2.5, 2.0, 2.5, 3.25, 3.25],
            trend_label: "4-week trailing mean".into(),
        }),
        Chart::LeadTimeMonthly(LeadTimeMonthly {
            months: vec![
                month("2026-08", 20, [10.0, 30.0, 60.0, 120.0]),
                month("2026-09", 25, [8.0, 26.0, 50.0, 100.0]),
                month("2026-10", 31, [6.0, 20.0, 45.0, 90.0]),
            ],
        }),
        Chart::LeadTimeHistogram(histogram()),
        Chart::BatchSizes(BatchSizes {
            unit: "commits".into(),
            points: vec![
                BatchPoint {
                    deployed_at: at(10, 1, 9),
                    size: 3,
                    failed: false,
                },
                BatchPoint {
                    deployed_at: at(10, 8, 9),
                    size: 12,
                    failed: true,
                },
                BatchPoint {
                    deployed_at: at(10, 15, 9),
                    size: 5,
                    failed: false,
                },
            ],
        }),
        Chart::ChangeFailRate(ChangeFailRate {
            months: vec![
                FailMonth {
                    month: "2026-09".into(),
                    deployments: 10,
                    failed: 1,
                    rate: Some(0.1),
                },
                FailMonth {
                    month: "2026-10".into(),
                    deployments: 8,
                    failed: 2,
                    rate: Some(0.25),
                },
                FailMonth {
                    month: "2026-11".into(),
                    deployments: 0,
                    failed: 0,
                    rate: None,
                },
            ],
            tiers: vec![
                TierBand {
                    tier: Tier::Elite,
                    lo: 0.0,
                    hi: 0.05,
                },
                TierBand {
                    tier: Tier::High,
                    lo: 0.05,
                    hi: 0.10,
                },
                TierBand {
                    tier: Tier::Medium,
                    lo: 0.10,
                    hi: 0.15,
                },
                TierBand {
                    tier: Tier::Low,
                    lo: 0.15,
                    hi: 1.0,
                },
            ],
            tier_year: Some(2023),
        }),
        Chart::RecoveryTimes(RecoveryTimes {
            points: vec![
                RecoveryPoint {
                    deployed_at: at(10, 8, 9),
                    recovery_hours: Some(3.0),
                },
                RecoveryPoint {
                    deployed_at: at(10, 20, 9),
                    recovery_hours: Some(20.0),
                },
                RecoveryPoint {
                    deployed_at: at(10, 28, 9),
                    recovery_hours: None,
                },
            ],
            reference_lines: vec![
                ReferenceLine {
                    label: "Elite: < 1 hour".into(),
                    hours: 1.0,
                },
                ReferenceLine {
                    label: "High: < 1 day".into(),
                    hours: 24.0,
                },
            ],
        }),
        Chart::FailureByBatch(failure_by_batch()),
        Chart::StageTimes(stage_times()),
        Chart::Drift(Drift {
            pairs: vec![
                DriftSeries {
                    from: "beta".into(),
                    to: "production".into(),
                    points: (0..10)
                        .map(|i| DriftPoint {
                            date: day(10, 1) + chrono::Days::new(i),
                            changes: (i % 5) * 3,
                        })
                        .collect(),
                },
                DriftSeries {
                    from: "test".into(),
                    to: "beta".into(),
                    points: (0..10)
                        .map(|i| DriftPoint {
                            date: day(10, 1) + chrono::Days::new(i),
                            changes: i,
                        })
                        .collect(),
                },
            ],
        }),
        Chart::Scorecard(scorecard()),
        Chart::QuickCheck(quick_check_card()),
        Chart::WhatIfLeadTime(whatif()),
        Chart::BeforeAfter(before_after_table()),
        Chart::SafetyNet(crate::safety::SafetyTable {
            period: "2026-08-01 – 2026-10-31".into(),
            previous_period: "2026-05-01 – 2026-07-31".into(),
            rows: vec![crate::safety::SafetyTableRow {
                measure: HOSTILE.into(),
                now: "7.3% (15 of 206)".into(),
                interval: "4.5%–11.7%".into(),
                previous: "8.6% (17 of 198)".into(),
                trend: "no clear change".into(),
            }],
        }),
    ]
}

/// The structure of an SVG: its text in document order and a count of each
/// drawing element, so a snapshot shows titles, axis labels, legend entries and
/// how many shapes each series drew.
pub(crate) fn structure(svg: &str) -> String {
    let mut texts = vec![];
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        let after = &rest[i..];
        let open_end = after.find('>').unwrap() + 1;
        let close = after.find("</text>").unwrap();
        texts.push(after[open_end..close].trim().to_string());
        rest = &after[close..];
    }
    let mut out = String::from("texts:\n");
    for t in texts {
        out.push_str("  ");
        out.push_str(&t);
        out.push('\n');
    }
    out.push_str("elements:\n");
    for tag in ["rect", "polyline", "polygon", "circle", "line", "path"] {
        let n = svg.matches(&format!("<{tag} ")).count();
        out.push_str(&format!("  {tag}: {n}\n"));
    }
    out
}

#[test]
fn every_chart_renders_to_svg_with_its_structure() {
    for chart in all_charts() {
        let svg = to_svg(&chart, SVG_SIZE).unwrap();
        assert!(svg.starts_with("<svg"), "{}", chart.slug());
        let s = structure(&svg);
        assert!(
            s.contains(&chart.title()),
            "{}: no title in\n{s}",
            chart.slug()
        );
        insta::assert_snapshot!(chart.slug(), s);
    }
}

#[test]
fn charts_name_their_units_and_sample_sizes() {
    let charts = all_charts();
    let svg = |slug: &str| {
        let c = charts.iter().find(|c| c.slug() == slug).unwrap();
        structure(&to_svg(c, SVG_SIZE).unwrap())
    };
    assert!(svg("deploys-per-week").contains("deployments per week"));
    assert!(svg("deploys-per-week").contains("(n=18)"));
    assert!(svg("lead-time-monthly").contains("lead time (days)"));
    assert!(svg("lead-time-monthly").contains("2026-10 (n=31)"));
    // The sample size is on each bar ("k of n failed"), not repeated on the axis.
    assert!(svg("failure-by-batch").contains("4–7"));
    assert!(svg("failure-by-batch").contains("3 of 4 failed"));
    assert!(svg("change-fail-rate").contains("Low (15%–100%)"));
    assert!(svg("recovery-times").contains("1 not yet recovered"));
    // Stage times stack to 270 h at most: the axis switches to days.
    assert!(svg("stage-times").contains("(days)"));
}

#[test]
fn count_axes_start_at_zero() {
    for slug in [
        "deploys-per-week",
        "failure-by-batch",
        "change-fail-rate",
        "batch-sizes",
    ] {
        let c = all_charts().into_iter().find(|c| c.slug() == slug).unwrap();
        let s = structure(&to_svg(&c, SVG_SIZE).unwrap());
        assert!(
            s.lines().any(|l| l.trim() == "0" || l.trim() == "0%"),
            "{slug} has no zero tick:\n{s}"
        );
    }
}

#[test]
fn png_has_the_requested_size_and_is_not_blank() {
    let dir = tempfile::tempdir().unwrap();
    for chart in all_charts() {
        let path = dir.path().join(format!("{}.png", chart.slug()));
        write_png(&chart, &path, PNG_SIZE).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!((w, h), (1600, 900), "{}", chart.slug());
        // Non-blank: the same drawing in memory has many non-white pixels, and
        // text pixels exist (the embedded font rendered).
        let rgb = to_rgb(&chart, PNG_SIZE).unwrap();
        let inked = rgb.chunks(3).filter(|p| p != &[255, 255, 255]).count();
        assert!(
            inked > 1600 * 900 / 100,
            "{}: only {inked} inked pixels",
            chart.slug()
        );
        let black = rgb.chunks(3).filter(|p| p == &[0, 0, 0]).count();
        assert!(
            black > 500,
            "{}: no text drawn ({black} black pixels)",
            chart.slug()
        );
    }
    // No temporary files are left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn empty_inputs_say_no_data_instead_of_drawing_an_empty_axis() {
    let c = Chart::FailureByBatch(FailureByBatch {
        buckets: vec![],
        ..failure_by_batch()
    });
    let s = structure(&to_svg(&c, SVG_SIZE).unwrap());
    assert!(s.contains("No data: no production deployments"), "{s}");
}

#[test]
fn repository_text_in_svg_is_escaped() {
    let c = Chart::Drift(Drift {
        pairs: vec![DriftSeries {
            from: HOSTILE.into(),
            to: "production".into(),
            points: vec![DriftPoint {
                date: day(10, 1),
                changes: 2,
            }],
        }],
    });
    let svg = to_svg(&c, SVG_SIZE).unwrap();
    assert!(!svg.contains("<script"), "{svg}");
    assert!(svg.contains(
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; → production"
    ));
}

pub(crate) fn quick_check_card() -> QuickCheckCard {
    let r = |metric: &str, value: &str, answer: &str, score: Option<f64>, mean: f64, sd: f64| {
        QuickCheckRow {
            metric: metric.into(),
            value: value.into(),
            answer: answer.into(),
            score,
            mean,
            sd,
        }
    };
    // Means and sds of the 2025 "All industries" row, as transformed.
    QuickCheckCard {
        year: 2025,
        population: "All industries".into(),
        rows: vec![
            r(
                "Deployment frequency",
                "2.5 days/week",
                "Between once per day and once per week",
                Some(6.0),
                4.8,
                2.8,
            ),
            r(
                "Change lead time",
                "18 h",
                "Less than one day",
                Some(8.0),
                5.5,
                2.4,
            ),
            r("Change fail rate", "12%", "12%", Some(8.8), 8.1, 2.1),
            r("Recovery time", "–", "no value", None, 7.4, 2.1),
            r("Rework rate", "3%", "3%", Some(9.7), 7.8, 2.2),
            r("Overall", "mean of 4 scores", "", Some(8.125), 6.72, 1.2),
        ],
    }
}

fn deck(whatif: Option<WhatIfLeadTime>) -> Deck {
    deck_with(whatif, None)
}

fn deck_with(whatif: Option<WhatIfLeadTime>, before_after: Option<BeforeAfter>) -> Deck {
    Deck {
        quick_check: None,
        safety: None,
        numbers: Default::default(),
        title: "Delivery performance".into(),
        period: "2026-07-01 – 2026-10-31".into(),
        scope: format!("{HOSTILE} · production"),
        generated_at: "Generated at 2026-11-01 00:00 UTC".into(),
        tiers: scorecard(),
        waiting: Waiting {
            changes: 32,
            median_hours: Some(20.0),
            p90_hours: Some(100.0),
            histogram: histogram(),
            stages: Some(stage_times()),
            stages_unavailable: None,
            train_waits: vec![],
        },
        batch_risk: BatchRisk {
            buckets: failure_by_batch(),
            fit: Some(RiskFit {
                odds_ratio_per_doubling: 1.8,
                ci_lo: 0.9,
                ci_hi: 3.6,
                p_value: 0.09,
                deployments: 22,
                failures: 6,
                warning: Some("Fewer than 30 deployments: the fit is indicative only.".into()),
            }),
        },
        whatif,
        before_after,
        before_after_unavailable: None,
    }
}

#[test]
fn deck_leaves_out_what_if_without_results_and_shows_it_with_them() {
    let without: Vec<String> = deck(None).slides().into_iter().map(|s| s.id).collect();
    assert_eq!(without, ["title", "tiers", "waiting", "batch-risk"]);
    let with = deck(Some(whatif())).slides();
    let ids: Vec<&str> = with.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["title", "tiers", "waiting", "batch-risk", "whatif"]);
    let w = with.last().unwrap();
    assert_eq!(w.big, "10 d → 30 h");
    assert_eq!(w.big_caption, "median lead time, current vs daily");
    // Batch risk states its uncertainty whichever way it points.
    let b = &with[3];
    assert_eq!(b.big, "×1.8");
    assert!(
        b.bullets.iter().any(|x| x.contains("includes ×1")),
        "{:?}",
        b.bullets
    );
    // Tiers: one of two metrics at High or Elite.
    assert_eq!(with[1].big, "1 of 2");
    // Waiting names the longest stage of the latest period.
    assert!(
        with[2]
            .bullets
            .iter()
            .any(|x| x == "The longest wait in 2026-10 is beta → production: median 8.3 d."),
        "{:?}",
        with[2].bullets
    );
}

#[test]
fn deck_for_2025_shows_scores_beside_the_mean_and_no_tier() {
    let d = Deck {
        quick_check: Some(quick_check_card()),
        ..deck(None)
    };
    let slides = d.slides();
    let ids: Vec<&str> = slides.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["title", "scores", "waiting", "batch-risk"]);
    let s = &slides[1];
    // Scored metrics at or above their mean: 6.0 ≥ 4.8, 8.0 ≥ 5.5, 8.8 ≥ 8.1, 9.7 ≥ 7.8.
    assert_eq!(s.big, "4 of 4");
    assert_eq!(s.big_caption, "metrics at or above the All industries mean");
    assert!(s
        .bullets
        .contains(&"Change lead time: 8.0 (mean 5.5 ± 2.4)".to_string()));
    assert!(s
        .bullets
        .contains(&"Recovery time: no score (mean 7.4 ± 2.1)".to_string()));
    let words = format!(
        "{} {} {:?} {}",
        s.title,
        s.big_caption,
        s.bullets,
        slides[0].bullets.join(" ")
    );
    assert!(s.notes[0].contains("dora.dev Quick Check"), "{:?}", s.notes);
    for tier in ["Elite", "High", "Medium", "Low", "tier"] {
        assert!(!words.contains(tier), "{tier} in {words}");
    }
}

#[test]
fn the_before_after_slide_says_only_what_each_interval_supports() {
    let slides = deck_with(Some(whatif()), Some(before_after())).slides();
    let ids: Vec<&str> = slides.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "title",
            "tiers",
            "waiting",
            "batch-risk",
            "before-after",
            "whatif"
        ]
    );
    let s = &slides[4];
    // A label too long for the title goes into a bullet.
    assert_eq!(s.title, "What changed after 2026-09-01");
    assert_eq!(s.big, "10 d → 30 h");
    assert_eq!(
        s.big_caption,
        "median lead time before and after 2026-09-01"
    );
    assert_eq!(
        s.bullets,
        [
            format!("The change on 2026-09-01: {HOSTILE}."),
            "Median lead time fell, 10 d → 30 h; the change's 95% interval is all below zero."
                .to_string(),
            "Median batch size fell, 12 commits → 3 commits; the change's 95% interval is all below zero."
                .to_string(),
            // The interval spans zero: no claim that it fell, although it did on paper.
            "Change fail rate: 25% → 20%, but the change's 95% interval includes zero: no clear change."
                .to_string(),
            "Median recovery time: no failed deployments after, so no comparison.".to_string(),
        ]
    );
    assert!(s.notes[0].starts_with("Warning: change_fail_rate: only 12"));
    let Some(Chart::BeforeAfter(t)) = &s.chart else {
        panic!("{:?}", s.chart)
    };
    assert_eq!(t.rows[0].difference, "−8.8 d");
    // The interval's ends print apart: −230 h and −190 h in days.
    assert_eq!(t.rows[0].interval, "−9.6 to −7.9 d");
    assert_eq!(t.rows[2].difference, "−5 pp");
    assert_eq!(t.rows[2].interval, "−30 to +20 pp");
    assert!(t.rows[1].clear && !t.rows[2].clear && !t.rows[3].clear);
    assert_eq!(t.rows[3].after, "–");
    // The agenda names the slide.
    assert!(slides[0]
        .bullets
        .contains(&"What changed after 2026-09-01".to_string()));
    // The label is repository-side text: escaped in HTML.
    let html = deck_with(None, Some(before_after())).to_html().unwrap();
    assert!(html.contains("id=\"slide-before-after\""));
    assert!(!html.contains("<script>alert"));
}

#[test]
fn a_process_change_outside_the_deck_is_said_and_its_slide_left_out() {
    let mut d = deck(None);
    d.before_after_unavailable = Some(
        "not available: before/after the process change of 2027-01-01 (the deck covers 2026-07-01 – 2026-10-31, so one side is empty)".into(),
    );
    let slides = d.slides();
    assert!(slides.iter().all(|s| s.id != "before-after"));
    assert!(
        slides[0].bullets.iter().any(|b| b
            == "Not available: before/after the process change of 2027-01-01 (the deck covers \
                2026-07-01 – 2026-10-31, so one side is empty), so that slide is left out"),
        "{:?}",
        slides[0].bullets
    );
}

#[test]
fn the_whatif_slide_weighs_lead_time_against_failures() {
    let s = deck(Some(whatif())).slides().pop().unwrap();
    assert_eq!(
        s.bullets,
        ["Releasing daily instead of today's cadence: median lead time 10 d → 30 h; over the replayed history, \
          expected failed deployments 0.9 → 2.5 and changes stuck in them 13.5 → 3.6: more, smaller failures."]
    );
    // Every policy's both sides are spelled out in the notes.
    assert!(s.notes.iter().any(|n| n
        == "weekly: median lead time 4.6 d, 4.3 releases/month, median batch 7 changes, \
            expected failed deployments 1.2 (0.7–1.8), changes stuck in them 8.4 (5–12.6)"));
    // When the faster cadence fails less and strands fewer changes, the words say so.
    let mut w = whatif();
    w.policies[2].predicted_failures = Some(0.5);
    (
        w.policies[2].predicted_failures_lo,
        w.policies[2].predicted_failures_hi,
    ) = (Some(0.3), Some(0.75));
    let s = deck(Some(w)).slides().pop().unwrap();
    assert!(s.bullets[0].ends_with("fewer and smaller failures: no trade-off in this model."));
    assert!(s.bullets[1].contains("overlap"), "{:?}", s.bullets);
}

#[test]
fn deck_html_escapes_and_navigates() {
    let html = deck(Some(whatif())).to_html().unwrap();
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(html.matches("<section class=\"slide\"").count(), 5);
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the navigation script"
    );
    assert!(html.contains("ArrowRight") && html.contains("@media print"));
    // No external references; the SVG namespace is a name, not a fetch.
    assert!(!html
        .replace("http://www.w3.org/2000/svg", "")
        .contains("http://"));
    assert!(!html.contains("https://"));
}

#[test]
fn deck_pngs_are_1920_by_1080() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_deck(&deck(Some(whatif())), dir.path()).unwrap();
    // Five slides, deck.html and deck.json, which reads back as the deck.
    assert_eq!(files.len(), 7);
    let json = std::fs::read_to_string(dir.path().join("deck.json")).unwrap();
    let back: Deck = serde_json::from_str(&json).unwrap();
    assert_eq!(back, deck(Some(whatif())));
    for f in files.iter().filter(|f| f.extension().unwrap() == "png") {
        let bytes = std::fs::read(f).unwrap();
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!((w, h), SLIDE_SIZE, "{}", f.display());
    }
}

#[test]
fn markdown_escaping_neutralises_html_and_markdown() {
    assert_eq!(
        escape_markdown(HOSTILE),
        "&lt;script&gt;alert\\(1\\)&lt;/script&gt;&lt;img src=x onerror=alert\\(2\\)&gt;"
    );
    assert_eq!(
        escape_markdown("a|b\n*c* [x](y)"),
        "a\\|b \\*c\\* \\[x\\]\\(y\\)"
    );
}

/// Writes every synthetic chart and the full deck to `$FLOWMETER_CHARTS_OUT`
/// for looking at by hand: `FLOWMETER_CHARTS_OUT=/tmp/charts cargo test -p
/// flowmeter-reports -p flowmeter --lib -- --ignored write_gallery`.
#[test]
#[ignore]
fn write_gallery() {
    let dir = std::path::PathBuf::from(std::env::var("FLOWMETER_CHARTS_OUT").unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    for c in all_charts() {
        write_png(&c, &dir.join(format!("{}.png", c.slug())), PNG_SIZE).unwrap();
    }
    write_deck(&deck_with(Some(whatif()), Some(before_after())), &dir).unwrap();
}
