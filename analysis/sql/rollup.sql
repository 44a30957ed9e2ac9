-- The organisation roll-up: per calendar month (UTC) of the production
-- environments, the DORA metrics as `flowmeter metrics --by month` gives
-- them, from the derived tables alone. One text for every engine: it runs
-- unchanged on DuckDB and on Spark SQL (analysis/sql/rollup.py runs both and
-- checks every number against flowmeter's).
--
-- It reads three relations the runner defines over the store:
--   deployment_stats, changes   the derived tables (their live files)
--   production_environments     one column `environment`: the production
--                               environments of flowmeter.toml
--
-- The definitions are flowmeter's (docs/metrics.md):
--   deployments        every deployment there in the month
--   deploy_days        distinct days with a deployment whose status is not
--                      failure or error
--   change_fail_rate   failed deployments / deployments
--   recovery_median_h  median recovery_s of the failed ones, in hours
--   rework_rate        rework deployments / deployments
--   lead_time_median_h median lead_time_s, in hours, of the changes first
--                      shipped there in the month, leaving out baseline and
--                      merge commits and negative (clock-skew) spans
-- Medians interpolate linearly between the two middle values
-- (percentile_cont), as flowmeter's do.

WITH deployments_here AS (
    SELECT
        EXTRACT(YEAR FROM d.deployed_at) * 100 + EXTRACT(MONTH FROM d.deployed_at) AS month_key,
        CAST(d.deployed_at AS DATE) AS deployed_on,
        d.status,
        d.failed,
        d.recovery_s,
        d.is_rework
    FROM deployment_stats d
    WHERE d.deployed_at IS NOT NULL
      AND d.environment IN (SELECT environment FROM production_environments)
),
by_month AS (
    SELECT
        month_key,
        COUNT(*) AS deployments,
        COUNT(DISTINCT CASE
            WHEN status IS NULL OR status NOT IN ('failure', 'error') THEN deployed_on
        END) AS deploy_days,
        SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS failed,
        SUM(CASE WHEN is_rework THEN 1 ELSE 0 END) AS rework
    FROM deployments_here
    GROUP BY month_key
),
recovery AS (
    SELECT
        month_key,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY recovery_s) / 3600.0 AS recovery_median_h
    FROM deployments_here
    WHERE failed AND recovery_s IS NOT NULL
    GROUP BY month_key
),
lead_times AS (
    SELECT
        EXTRACT(YEAR FROM c.deployed_at) * 100 + EXTRACT(MONTH FROM c.deployed_at) AS month_key,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY c.lead_time_s) / 3600.0 AS lead_time_median_h
    FROM changes c
    WHERE c.deployed_at IS NOT NULL
      AND c.environment IN (SELECT environment FROM production_environments)
      AND NOT COALESCE(c.is_baseline, FALSE)
      AND NOT COALESCE(c.is_merge, FALSE)
      AND c.lead_time_s >= 0
      AND COALESCE(c.anomaly, '') <> 'clock_skew'
    GROUP BY 1
)
SELECT
    CAST(b.month_key AS INT) AS month_key,
    b.deployments,
    b.deploy_days,
    b.failed,
    CAST(b.failed AS DOUBLE) / b.deployments AS change_fail_rate,
    r.recovery_median_h,
    b.rework,
    CAST(b.rework AS DOUBLE) / b.deployments AS rework_rate,
    l.lead_time_median_h
FROM by_month b
LEFT JOIN recovery r ON r.month_key = b.month_key
LEFT JOIN lead_times l ON l.month_key = b.month_key
ORDER BY month_key
