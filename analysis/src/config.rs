//! `flowmeter.toml`. The format and its checks live in
//! `flowmeter_parse::config` (a crate without polars, so it can be fuzzed);
//! this module supplies what the file is checked against that the analysis
//! owns: the benchmark years and the Quick Check's populations.

use std::path::Path;

pub use flowmeter_parse::config::*;

use crate::error::Result;

/// The benchmark years `tiers` accepts: the tier tables and the Quick Check's.
pub fn benchmark_years() -> Vec<u16> {
    let mut y = crate::tiers::YEARS.to_vec();
    y.push(crate::quickcheck::YEAR);
    y
}

/// Parses and validates a `flowmeter.toml`. `path` is only used in errors.
pub fn parse_config(text: &str, path: &Path) -> Result<Config> {
    let years = benchmark_years();
    let known = Known {
        years: &years,
        population: crate::quickcheck::check_population,
    };
    Ok(Config::parse(text, path, &known)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One environment is enough here; the format's own tests are in
    /// `flowmeter_parse::config`. Line 3 is the line the tests replace.
    const GOOD: &str = "\nlead_time_start = \"committed\"\ntiers = 2023\n\n[[environment]]\nname = \"production\"\nbranch = \"main\"\n";

    #[test]
    fn benchmarks_default_to_2025_with_an_optional_population() {
        let plain = GOOD.replace("tiers = 2023\n", "");
        let c = parse_config(&plain, Path::new("f.toml")).unwrap();
        assert_eq!(c.tiers, 2025);
        assert_eq!(c.population, Population::All);
        assert_eq!(Config::default_for_repos().tiers, 2025);
        for y in [2023, 2024, 2025] {
            let t = GOOD.replace("tiers = 2023", &format!("tiers = {y}"));
            assert_eq!(parse_config(&t, Path::new("f.toml")).unwrap().tiers, y);
        }
        let t = GOOD.replace("tiers = 2023", "tiers = 2025\nindustry = \"technology\"");
        let c = parse_config(&t, Path::new("f.toml")).unwrap();
        assert_eq!(c.population, Population::Industry("technology".into()));
        let t = GOOD.replace("tiers = 2023", "org_size = \"fewer_than_100\"");
        let c = parse_config(&t, Path::new("f.toml")).unwrap();
        assert_eq!(c.population, Population::OrgSize("fewer_than_100".into()));

        let t = GOOD.replace("tiers = 2023", "industry = \"banking\"");
        let e = parse_config(&t, Path::new("f.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.toml:3: `industry`: `industry = \"banking\"` is not a key of dora-team/dora.dev svelte/quick-check/src/lib/data/editions/2025/industry_metrics.json; valid values: \"all\" (All industries), \"consumer\""), "{e}");
        assert!(
            e.contains("\"financial_services\" (Financial Services)"),
            "{e}"
        );
        let t = GOOD.replace("tiers = 2023", "org_size = \"tiny\"");
        let e = parse_config(&t, Path::new("f.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("organization_size_metrics.json; valid values: \"all\" (All organizations), \"solo\" (1 employee)"), "{e}");
        let t = GOOD.replace("tiers = 2023", "industry = \"energy\"\norg_size = \"solo\"");
        let e = parse_config(&t, Path::new("f.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("f.toml:4: `org_size`: give `industry` or `org_size`, not both"),
            "{e}"
        );
    }
}
