//! The statistics behind `risk`, `whatif` and `compare`: quantiles, Wilson
//! intervals, a two-parameter logistic regression, the Mann–Whitney U test and
//! a seeded bootstrap.
//!
//! Everything here is a pure function of its inputs. Randomness comes only from
//! [`SplitMix64`] with an explicit seed, so the same seed gives the same numbers
//! on every machine.

use serde::Serialize;

/// Errors of the risk statistics and the commands built on them.
///
/// Kept beside the statistics (not in a crate-wide `error.rs`) so that this
/// branch merges without touching the DORA branch's error enum; it can become
/// a `#[from]` variant there.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    /// A model could not be fitted (no failures, no variation, separation).
    #[error("cannot fit the risk model: {0}")]
    Fit(String),
    /// An input table lacks a column or has the wrong type.
    #[error("table `{table}`: {message}")]
    Table { table: String, message: String },
    /// A bad argument (range, cadence, duration).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Polars(#[from] polars::prelude::PolarsError),
}

/// Result of the risk statistics.
pub type Result<T> = std::result::Result<T, RiskError>;
use RiskError as Error;

/// `erfc(x)` to about 1e-13 relative accuracy: the Maclaurin series of `erf`
/// for `|x| < 2.5`, and the Laplace continued fraction (evaluated with the
/// modified Lentz method) beyond, where it converges fast.
///
/// Written here rather than taken from `statrs`: statrs turns on num-traits'
/// `libm` feature, which changes num-traits' fingerprint and recompiles all of
/// polars. Checked against scipy in the tests.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.5 {
        // erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
        let x2 = x * x;
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= -x2 / n as f64;
            let add = term / (2 * n + 1) as f64;
            sum += add;
            if add.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        return 1.0 - sum * std::f64::consts::FRAC_2_SQRT_PI;
    }
    if x > 27.0 {
        return 0.0;
    }
    // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
    let tiny = 1e-300;
    let mut f = x;
    let (mut c, mut d) = (x, 0.0);
    for k in 1..500 {
        let a = k as f64 / 2.0;
        d = x + a * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = x + a / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

/// The standard normal upper tail, `P(Z > z)`, accurate far into the tail.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The standard normal cdf, `P(Z ≤ z)`.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The standard normal quantile, e.g. `normal_quantile(0.975) = 1.959964`:
/// Acklam's rational approximation (relative error 1.2e-9) refined by one
/// Halley step on [`normal_cdf`].
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let plow = 0.02425;
    let x = if p < plow {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - plow {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley step.
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// The `p`-quantile of **sorted** data by linear interpolation between order
/// statistics: Hyndman & Fan type 7, the default of R, numpy and polars
/// (`h = (n − 1)·p`, `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`).
/// `None` for empty data.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// The type-7 `p`-quantile of unsorted data (NaNs are not allowed).
pub fn quantile(data: &[f64], p: f64) -> Option<f64> {
    let mut v = data.to_vec();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, p)
}

/// The median (type 7: the mean of the two middle values for even `n`), by
/// selection in O(n) rather than a sort: the bootstrap calls it thousands of
/// times.
pub fn median(data: &[f64]) -> Option<f64> {
    if data.is_empty() {
        return None;
    }
    let mut v = data.to_vec();
    let k = (v.len() - 1) / 2;
    let (_, mid, right) = v.select_nth_unstable_by(k, f64::total_cmp);
    let mid = *mid;
    if data.len() % 2 == 1 {
        return Some(mid);
    }
    let next = right.iter().copied().min_by(f64::total_cmp)?;
    Some(mid + 0.5 * (next - mid))
}

/// The Wilson score interval for `successes` out of `n` at confidence `level`
/// (e.g. 0.95). Unlike the Wald interval it stays inside [0, 1] and behaves at
/// 0 and `n` successes. `None` when `n = 0`.
pub fn wilson(successes: u64, n: u64, level: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let p = successes as f64 / n;
    let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // Exact bounds at 0 and n successes (the formula gives them up to rounding).
    let lo = if successes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if successes as f64 == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((lo, hi))
}

/// A fitted logistic regression `P(y = 1) = 1 / (1 + exp(−(b0 + b1·x)))`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogisticFit {
    /// Observations used.
    pub n: usize,
    /// Observations with `y = 1`.
    pub events: usize,
    pub intercept: f64,
    pub slope: f64,
    pub se_intercept: f64,
    pub se_slope: f64,
    /// The covariance of the intercept and slope estimates.
    pub cov_intercept_slope: f64,
    /// The Wald statistic of the slope, `slope / se_slope`.
    pub z: f64,
    /// The two-sided Wald p-value of the slope.
    pub p_value: f64,
    /// IRLS iterations to convergence.
    pub iterations: usize,
}

impl LogisticFit {
    /// `P(y = 1)` at `x`.
    pub fn predict(&self, x: f64) -> f64 {
        logistic(self.intercept + self.slope * x)
    }

    /// `exp(slope)`: the odds ratio for a one-unit increase of `x` (per doubling
    /// when `x` is a log2).
    pub fn odds_ratio(&self) -> f64 {
        self.slope.exp()
    }

    /// The Wald confidence interval of the odds ratio at `level`.
    pub fn odds_ratio_ci(&self, level: f64) -> (f64, f64) {
        let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
        (
            (self.slope - z * self.se_slope).exp(),
            (self.slope + z * self.se_slope).exp(),
        )
    }

    /// `draws` coefficient pairs from the asymptotic normal distribution of the
    /// estimates (mean the estimate, covariance the inverse Fisher information),
    /// for parametric uncertainty of anything computed from the fit.
    pub fn draw_coefficients(&self, draws: usize, rng: &mut SplitMix64) -> Vec<(f64, f64)> {
        // Cholesky of the 2×2 covariance.
        let l11 = self.se_intercept;
        let l21 = if l11 > 0.0 {
            self.cov_intercept_slope / l11
        } else {
            0.0
        };
        let l22 = (self.se_slope * self.se_slope - l21 * l21).max(0.0).sqrt();
        (0..draws)
            .map(|_| {
                let (z1, z2) = (rng.normal(), rng.normal());
                (self.intercept + l11 * z1, self.slope + l21 * z1 + l22 * z2)
            })
            .collect()
    }
}

/// The logistic function `1 / (1 + e^−t)`, stable for large `|t|`.
pub fn logistic(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

/// Fits `P(y) = logistic(b0 + b1·x)` by maximum likelihood with iteratively
/// reweighted least squares (Newton–Raphson on the log-likelihood).
///
/// Why our own IRLS: the maintained Rust options (linfa-logistic, smartcore)
/// bring ndarray/argmin or nalgebra and still give no standard errors. With
/// one predictor the Fisher information is a 2×2 matrix inverted in closed
/// form, so the whole fit is a few lines, and it is checked against statsmodels
/// in the tests.
///
/// Errors when `y` has no variation, `x` has no variation, or the data are
/// (quasi-)separated so that the maximum likelihood estimate does not exist.
pub fn logistic_regression(x: &[f64], y: &[bool]) -> Result<LogisticFit> {
    assert_eq!(x.len(), y.len(), "x and y must have the same length");
    let n = x.len();
    let events = y.iter().filter(|b| **b).count();
    if n < 3 {
        return Err(Error::Fit(format!(
            "only {n} observations (with a batch size of at least 1): too few to fit a slope"
        )));
    }
    if events == 0 || events == n {
        return Err(Error::Fit(format!(
            "{events} failures in {n} observations: a logistic fit needs both failures and successes"
        )));
    }
    let xmin = x.iter().copied().fold(f64::INFINITY, f64::min);
    let xmax = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if xmax - xmin <= 0.0 {
        return Err(Error::Fit(
            "every observation has the same batch size: no slope can be fitted".into(),
        ));
    }
    let rate = events as f64 / n as f64;
    let (mut b0, mut b1) = ((rate / (1.0 - rate)).ln(), 0.0);
    for iter in 1..=100 {
        // Score and Fisher information at (b0, b1).
        let (mut g0, mut g1) = (0.0, 0.0);
        let (mut h00, mut h01, mut h11) = (0.0, 0.0, 0.0);
        for (&xi, &yi) in x.iter().zip(y) {
            let p = logistic(b0 + b1 * xi);
            let w = p * (1.0 - p);
            let r = f64::from(u8::from(yi)) - p;
            g0 += r;
            g1 += r * xi;
            h00 += w;
            h01 += w * xi;
            h11 += w * xi * xi;
        }
        let det = h00 * h11 - h01 * h01;
        if det.abs() < 1e-300 || !det.is_finite() {
            return Err(separation(n, events));
        }
        let d0 = (h11 * g0 - h01 * g1) / det;
        let d1 = (-h01 * g0 + h00 * g1) / det;
        b0 += d0;
        b1 += d1;
        if !b0.is_finite() || !b1.is_finite() || b1.abs() > 50.0 {
            return Err(separation(n, events));
        }
        if d0.abs().max(d1.abs()) < 1e-10 {
            // Recompute the information at the final estimate.
            let (mut h00, mut h01, mut h11) = (0.0, 0.0, 0.0);
            for &xi in x {
                let p = logistic(b0 + b1 * xi);
                let w = p * (1.0 - p);
                h00 += w;
                h01 += w * xi;
                h11 += w * xi * xi;
            }
            let det = h00 * h11 - h01 * h01;
            let (v00, v01, v11) = (h11 / det, -h01 / det, h00 / det);
            let se1 = v11.sqrt();
            let z = b1 / se1;
            return Ok(LogisticFit {
                n,
                events,
                intercept: b0,
                slope: b1,
                se_intercept: v00.sqrt(),
                se_slope: se1,
                cov_intercept_slope: v01,
                z,
                p_value: (2.0 * normal_sf(z.abs())).min(1.0),
                iterations: iter,
            });
        }
    }
    Err(Error::Fit(format!(
        "the logistic fit did not converge in 100 iterations ({n} observations, {events} failures)"
    )))
}

fn separation(n: usize, events: usize) -> Error {
    Error::Fit(format!(
        "failures are (almost) perfectly separated by batch size in {n} observations with {events} failures: the odds ratio is unbounded and cannot be estimated"
    ))
}

/// The result of a two-sided Mann–Whitney U test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MannWhitney {
    /// `U` of the first sample: the number of (x, y) pairs with x > y, ties
    /// counting one half (scipy's `statistic`).
    pub u: f64,
    /// The normal-approximation z, with continuity correction.
    pub z: f64,
    /// The two-sided p-value.
    pub p_value: f64,
}

/// The two-sided Mann–Whitney U test of `x` against `y`, by the normal
/// approximation with tie correction and continuity correction (scipy's
/// `mannwhitneyu(x, y, method="asymptotic")`). `None` when a sample is empty.
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let mut all: Vec<(f64, bool)> = x
        .iter()
        .map(|v| (*v, true))
        .chain(y.iter().map(|v| (*v, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = all.len();
    let (mut r1, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        r1 += rank * all[i..=j].iter().filter(|e| e.1).count() as f64;
        i = j + 1;
    }
    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, n as f64);
    let u = r1 - n1f * (n1f + 1.0) / 2.0;
    let mu = n1f * n2f / 2.0;
    let var = n1f * n2f / 12.0 * ((nf + 1.0) - ties / (nf * (nf - 1.0)));
    if var <= 0.0 || !var.is_finite() {
        // Every value tied: no evidence of a difference.
        return Some(MannWhitney {
            u,
            z: 0.0,
            p_value: 1.0,
        });
    }
    let z = ((u - mu).abs() - 0.5).max(0.0) / var.sqrt();
    Some(MannWhitney {
        u,
        z,
        p_value: (2.0 * normal_sf(z)).min(1.0),
    })
}

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, well-mixed PRNG. Not
/// cryptographic; used so that every resample is reproducible from its seed.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform index in `0..n` (Lemire's multiply-shift; the bias is < n/2^64).
    pub fn index(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// A standard normal draw (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A percentile bootstrap confidence interval of `stat(after) − stat(before)`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct BootstrapCi {
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
    pub resamples: usize,
    pub seed: u64,
}

/// Resamples each group with replacement `resamples` times and returns the
/// type-7 percentile interval of `stat(after*) − stat(before*)` at `level`.
/// The same seed gives the same interval. `None` when a group is empty.
pub fn bootstrap_diff(
    before: &[f64],
    after: &[f64],
    stat: fn(&[f64]) -> Option<f64>,
    resamples: usize,
    level: f64,
    seed: u64,
) -> Option<BootstrapCi> {
    let estimate = stat(after)? - stat(before)?;
    let mut rng = SplitMix64::new(seed);
    let mut diffs = Vec::with_capacity(resamples);
    let (mut b, mut a) = (vec![0.0; before.len()], vec![0.0; after.len()]);
    for _ in 0..resamples {
        for v in b.iter_mut() {
            *v = before[rng.index(before.len())];
        }
        for v in a.iter_mut() {
            *v = after[rng.index(after.len())];
        }
        diffs.push(stat(&a)? - stat(&b)?);
    }
    diffs.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some(BootstrapCi {
        estimate,
        lo: quantile_sorted(&diffs, tail)?,
        hi: quantile_sorted(&diffs, 1.0 - tail)?,
        resamples,
        seed,
    })
}

/// A percentile bootstrap interval of `stat(data)`: resamples with
/// replacement `resamples` times, type-7 percentiles at `level`. The same seed
/// gives the same interval. `None` for empty data.
pub fn bootstrap_ci(
    data: &[f64],
    stat: fn(&[f64]) -> Option<f64>,
    resamples: usize,
    level: f64,
    seed: u64,
) -> Option<BootstrapCi> {
    let estimate = stat(data)?;
    let mut rng = SplitMix64::new(seed);
    let mut draws = Vec::with_capacity(resamples);
    let mut d = vec![0.0; data.len()];
    for _ in 0..resamples {
        for v in d.iter_mut() {
            *v = data[rng.index(data.len())];
        }
        draws.push(stat(&d)?);
    }
    draws.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some(BootstrapCi {
        estimate,
        lo: quantile_sorted(&draws, tail)?,
        hi: quantile_sorted(&draws, 1.0 - tail)?,
        resamples,
        seed,
    })
}

/// Newcombe's (1998, method 10) hybrid score interval for the difference of
/// two proportions `k1/n1 − k2/n2`, from each one's Wilson interval. Unlike a
/// percentile bootstrap it stays honest when a group is small or all one
/// outcome (a bootstrap of 0 of 3 never varies). `None` when a group is empty.
pub fn newcombe(k1: u64, n1: u64, k2: u64, n2: u64, level: f64) -> Option<(f64, f64)> {
    let (l1, u1) = wilson(k1, n1, level)?;
    let (l2, u2) = wilson(k2, n2, level)?;
    let (p1, p2) = (k1 as f64 / n1 as f64, k2 as f64 / n2 as f64);
    let d = p1 - p2;
    Some((
        d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
        d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt(),
    ))
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; about 15 significant digits).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized lower incomplete gamma function `P(a, x)`, the CDF of a
/// Gamma(shape `a`, scale 1) at `x`: a series below `a + 1`, a continued
/// fraction (modified Lentz) above (Numerical Recipes, 6.2).
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let ln_front = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let (mut sum, mut term, mut n) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        (sum.ln() + ln_front).exp().min(1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (1.0 - (ln_front.exp() * h)).max(0.0)
    }
}

/// The `p` quantile of Gamma(shape `a`, scale 1), by bisection on [`gamma_p`]
/// (monotone in x; 200 halvings reach f64 resolution).
pub fn gamma_quantile(a: f64, p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0_f64, a.max(1.0));
    while gamma_p(a, hi) < p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if gamma_p(a, mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= f64::EPSILON * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The exact (Garwood 1936) interval of a Poisson mean from `k` observed
/// events at `level`: `[χ²(α/2; 2k)/2, χ²(1 − α/2; 2k + 2)/2]`, that is the
/// Gamma(k) and Gamma(k + 1) quantiles. Divide by the exposure for a rate.
pub fn poisson_ci(k: u64, level: f64) -> (f64, f64) {
    let alpha = 1.0 - level;
    let lo = if k == 0 {
        0.0
    } else {
        gamma_quantile(k as f64, alpha / 2.0)
    };
    (lo, gamma_quantile(k as f64 + 1.0, 1.0 - alpha / 2.0))
}

/// The mean, for rates of 0/1 data in [`bootstrap_diff`]./// The mean, for rates of 0/1 data in [`bootstrap_diff`].
pub fn mean(data: &[f64]) -> Option<f64> {
    if data.is_empty() {
        None
    } else {
        Some(data.iter().sum::<f64>() / data.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b} (tol {tol})");
    }

    #[test]
    fn newcombe_matches_the_paper() {
        // Newcombe (1998), Statistics in Medicine 17:873, table II, example
        // (a): 56/70 − 48/80 = 0.2000, method 10: 0.0524 to 0.3339.
        let (lo, hi) = newcombe(56, 70, 48, 80, 0.95).unwrap();
        close(lo, 0.0524, 5e-5);
        close(hi, 0.3339, 5e-5);
        // (h): 0/10 − 0/20: −0.1611 to 0.2775.
        let (lo, hi) = newcombe(0, 10, 0, 20, 0.95).unwrap();
        close(lo, -0.1611, 5e-5);
        close(hi, 0.2775, 5e-5);
        assert!(newcombe(1, 0, 1, 2, 0.95).is_none());
    }

    #[test]
    fn gamma_and_poisson_match_scipy() {
        // scipy 1.x: gamma.cdf(2.5, 3.0), gamma.cdf(10, 0.5), gamma.cdf(30, 44).
        close(gamma_p(3.0, 2.5), 0.456_186_884_116_670_35, 1e-12);
        close(gamma_p(0.5, 10.0), 0.999_992_255_783_569, 1e-12);
        close(gamma_p(44.0, 30.0), 0.009_735_196_049_858_15, 1e-12);
        // chi2.ppf(0.025, 2k) / 2 and chi2.ppf(0.975, 2k + 2) / 2.
        for (k, lo, hi) in [
            (0, 0.0, 3.688_879_454_113_935_4),
            (1, 0.025_317_807_984_289_876, 5.571_643_390_938_898),
            (3, 0.618_672_122_895_601_4, 8.767_273_069_742_323),
            (10, 4.795_388_696_132_433_5, 18.390_356_042_017_78),
            (44, 31.970_467_358_144_333, 59.067_946_280_307_73),
        ] {
            let (l, h) = poisson_ci(k, 0.95);
            close(l, lo, 1e-9);
            close(h, hi, 1e-9);
        }
    }

    #[test]
    fn bootstrap_of_one_sample_is_seeded_and_brackets_the_estimate() {
        let d: Vec<f64> = (1..=20).map(f64::from).collect();
        let a = bootstrap_ci(&d, median, 500, 0.95, 7).unwrap();
        assert_eq!(a, bootstrap_ci(&d, median, 500, 0.95, 7).unwrap());
        assert_eq!(a.estimate, 10.5);
        assert!(
            a.lo < 10.5 && 10.5 < a.hi && a.lo >= 1.0 && a.hi <= 20.0,
            "{a:?}"
        );
        assert!(bootstrap_ci(&[], median, 10, 0.95, 7).is_none());
    }

    #[test]
    fn type7_quantiles_by_hand() {
        let d = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(median(&d), Some(2.5));
        // h = 3 * 0.9 = 2.7 -> 3 + 0.7 * (4 - 3)
        close(quantile(&d, 0.9).unwrap(), 3.7, 1e-12);
        assert_eq!(quantile(&d, 0.0), Some(1.0));
        assert_eq!(quantile(&d, 1.0), Some(4.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7.0]), Some(7.0));
        // Selection gives exactly the sorted type-7 median.
        let mut rng = SplitMix64::new(3);
        for n in 1..60 {
            let d: Vec<f64> = (0..n).map(|_| (rng.uniform() * 20.0).floor()).collect();
            assert_eq!(median(&d), quantile(&d, 0.5), "{d:?}");
        }
    }

    #[test]
    fn splitmix_is_seeded_and_matches_the_reference_sequence() {
        // Reference: the first outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let a: Vec<u64> = (0..5).map(|_| SplitMix64::new(9).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
    }
    fn rel(a: f64, b: f64, tol: f64) {
        assert!(
            ((a - b) / b).abs() <= tol,
            "{a} vs {b} (relative tol {tol})"
        );
    }

    // Reference values: scipy 1.17.1, `scipy.special.erfc(x)` and
    // `scipy.stats.norm.ppf(p)`.
    #[test]
    fn erfc_and_normal_quantile_match_scipy() {
        for (x, want) in [
            (0.1, 0.8875370839817152),
            (0.5, 0.4795001221869535),
            (1.0, 0.15729920705028516),
            (2.4, 0.0006885138966450789),
            (2.6, 0.000236034416529349),
            (3.0, 2.2090496998585445e-05),
            (5.0, 1.5374597944280347e-12),
            (-1.0, 1.8427007929497148),
        ] {
            rel(erfc(x), want, 1e-11);
        }
        for (p, want) in [
            (0.975, 1.959963984540054),
            (0.001, -3.090232306167813),
            (0.9999, 3.719016485455709),
            (0.02, -2.053748910631823),
        ] {
            rel(normal_quantile(p), want, 1e-12);
        }
        assert_eq!(normal_quantile(0.5), 0.0);
    }

    // Reference: statsmodels 0.15.0,
    // `statsmodels.stats.proportion.proportion_confint(k, n, alpha=0.05, method="wilson")`.
    #[test]
    fn wilson_matches_statsmodels() {
        for (k, n, lo, hi) in [
            (3, 20, 0.052368745896216595, 0.36041886474075696),
            (0, 10, 0.0, 0.27753279986288926),
            (10, 10, 0.7224672001371106, 1.0),
            (17, 40, 0.28509392559950375, 0.5780493145800893),
        ] {
            let (a, b) = wilson(k, n, 0.95).unwrap();
            close(a, lo, 1e-12);
            close(b, hi, 1e-12);
        }
        assert_eq!(wilson(0, 0, 0.95), None);
    }

    // Reference: statsmodels 0.15.0,
    // `sm.Logit(y, sm.add_constant(np.log2(batch))).fit(disp=0, tol=1e-12)`:
    // params, bse, cov_params()[0][1], pvalues[1], np.exp(conf_int()[1]).
    #[test]
    fn logistic_fit_matches_statsmodels() {
        let batch = [
            1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5, 6, 6, 8, 8, 8, 10, 12, 12, 16, 16, 20, 24, 32, 32,
            40, 64,
        ];
        let y = [
            0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1,
        ];
        let x: Vec<f64> = batch.iter().map(|b| (*b as f64).log2()).collect();
        let y: Vec<bool> = y.iter().map(|v| *v == 1).collect();
        let f = logistic_regression(&x, &y).unwrap();
        assert_eq!((f.n, f.events), (28, 10));
        close(f.intercept, -1.9880348674808312, 1e-8);
        close(f.slope, 0.4773639834825384, 1e-8);
        close(f.se_intercept, 0.9571411148787037, 1e-8);
        close(f.se_slope, 0.2790567259806899, 1e-8);
        close(f.cov_intercept_slope, -0.24004969956372554, 1e-8);
        close(f.p_value, 0.08714865862649065, 1e-8);
        close(f.odds_ratio(), 1.6118200131586466, 1e-8);
        let (lo, hi) = f.odds_ratio_ci(0.95);
        close(lo, 0.9327881668565516, 1e-8);
        close(hi, 2.7851594253963845, 1e-8);
    }

    #[test]
    fn logistic_fit_refuses_what_has_no_estimate() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let e = logistic_regression(&x, &[false; 4])
            .unwrap_err()
            .to_string();
        assert!(e.contains("0 failures in 4"), "{e}");
        // Perfect separation: every batch of 4+ failed, every smaller one passed.
        let e = logistic_regression(&x, &[false, false, true, true])
            .unwrap_err()
            .to_string();
        assert!(e.contains("separated"), "{e}");
        let e = logistic_regression(&[1.0; 4], &[false, true, false, true])
            .unwrap_err()
            .to_string();
        assert!(e.contains("same batch size"), "{e}");
    }

    // Reference: scipy 1.17.1,
    // `scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True)`.
    #[test]
    fn mann_whitney_matches_scipy() {
        let x = [1.5, 2.0, 2.0, 3.0, 5.0, 7.0, 7.0, 9.0, 14.0];
        let y = [2.0, 3.0, 3.0, 4.0, 6.0, 8.0, 10.0, 11.0, 12.0, 12.0, 15.0];
        let r = mann_whitney(&x, &y).unwrap();
        assert_eq!(r.u, 33.0);
        close(r.p_value, 0.22239844247177543, 1e-12);
        // Heavy ties.
        let r = mann_whitney(&[1.0, 1.0, 1.0, 2.0], &[1.0, 2.0, 2.0, 2.0, 2.0]).unwrap();
        assert_eq!(r.u, 4.5);
        close(r.p_value, 0.15729920705028516, 1e-12);
        // Symmetric: the same p either way round, U + U' = n1·n2.
        let s = mann_whitney(&y, &x).unwrap();
        assert_eq!(s.u, 99.0 - 33.0);
        close(s.p_value, 0.22239844247177543, 1e-12);
        assert_eq!(mann_whitney(&[], &y), None);
        assert_eq!(mann_whitney(&[3.0, 3.0], &[3.0]).unwrap().p_value, 1.0);
    }

    #[test]
    fn bootstrap_is_reproducible_and_covers_a_clear_shift() {
        let before: Vec<f64> = (0..40).map(|i| 10.0 + (i % 7) as f64).collect();
        let after: Vec<f64> = (0..40).map(|i| 20.0 + (i % 5) as f64).collect();
        let a = bootstrap_diff(&before, &after, median, 1000, 0.95, 7).unwrap();
        let b = bootstrap_diff(&before, &after, median, 1000, 0.95, 7).unwrap();
        assert_eq!(a, b);
        // median(after) = 22, median(before) = 13.
        assert_eq!(a.estimate, 9.0);
        assert!(
            a.lo <= 9.0 && 9.0 <= a.hi && a.lo > 5.0 && a.hi < 13.0,
            "{a:?}"
        );
        let c = bootstrap_diff(&before, &after, median, 1000, 0.95, 8).unwrap();
        assert_eq!(c.estimate, 9.0);
        assert!(bootstrap_diff(&[], &after, median, 10, 0.95, 1).is_none());
    }

    #[test]
    fn coefficient_draws_have_the_fit_covariance() {
        let f = LogisticFit {
            n: 100,
            events: 20,
            intercept: -2.0,
            slope: 0.5,
            se_intercept: 0.4,
            se_slope: 0.2,
            cov_intercept_slope: -0.05,
            z: 2.5,
            p_value: 0.01,
            iterations: 5,
        };
        let d = f.draw_coefficients(20000, &mut SplitMix64::new(1));
        let n = d.len() as f64;
        let (m0, m1) = (
            d.iter().map(|p| p.0).sum::<f64>() / n,
            d.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let v1 = d.iter().map(|p| (p.1 - m1).powi(2)).sum::<f64>() / n;
        let c = d.iter().map(|p| (p.0 - m0) * (p.1 - m1)).sum::<f64>() / n;
        close(m0, -2.0, 0.01);
        close(m1, 0.5, 0.005);
        close(v1, 0.04, 0.002);
        close(c, -0.05, 0.003);
    }
}
