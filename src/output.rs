//! Output formats shared by every query-like command: one writer per format,
//! `-` or no `--output` meaning stdout. Files are written atomically.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::DateTime;
use polars::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// Comma-separated, with a header row.
    Csv,
    /// An array of objects.
    Json,
    /// A GitHub-flavoured Markdown table.
    Markdown,
    /// Apache Parquet (sql only; needs --output or a pipe).
    Parquet,
}

/// Writes `bytes` to `output`, or stdout when it is `None` or `-`.
pub fn emit(output: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match output {
        Some(p) if p != Path::new("-") => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            flowmeter_store::write_atomic(p, bytes)?;
            Ok(())
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Renders `df` in `format` and writes it.
pub fn write_frame(df: &DataFrame, format: Format, output: Option<&Path>) -> Result<()> {
    let bytes = render(df, format, output)?;
    emit(output, &bytes)
}

/// Renders `df` in `format`.
pub fn render(df: &DataFrame, format: Format, output: Option<&Path>) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Table => table(df).into_bytes(),
        Format::Markdown => markdown(df).into_bytes(),
        Format::Csv => csv(df)?,
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&json_rows(df))?;
            s.push('\n');
            s.into_bytes()
        }
        Format::Parquet => {
            use std::io::IsTerminal;
            let to_stdout = output.is_none_or(|p| p == Path::new("-"));
            if to_stdout && std::io::stdout().is_terminal() {
                bail!("--format parquet writes binary data: give --output FILE or pipe it");
            }
            let mut buf = Vec::new();
            let mut df = df.clone();
            ParquetWriter::new(&mut buf)
                .with_compression(ParquetCompression::Zstd(None))
                .finish(&mut df)?;
            buf
        }
    })
}

/// One cell as text: times as RFC 3339 UTC, lists as `a;b`, null as empty.
pub fn cell(v: &AnyValue) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::String(s) => (*s).to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(f) => fmt_float(*f),
        AnyValue::Float32(f) => fmt_float(*f as f64),
        AnyValue::Datetime(t, unit, _) => fmt_time(*t, *unit),
        AnyValue::DatetimeOwned(t, unit, _) => fmt_time(*t, *unit),
        AnyValue::List(s) => s.iter().map(|v| cell(&v)).collect::<Vec<_>>().join(";"),
        other => other.to_string().trim_matches('"').to_string(),
    }
}

fn fmt_float(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        let s = format!("{f:.4}");
        let s = s.trim_end_matches('0');
        s.strip_suffix('.').unwrap_or(s).to_string()
    }
}

/// RFC 3339 in UTC with a `Z`, seconds precision unless there is a fraction.
pub fn fmt_time(t: i64, unit: TimeUnit) -> String {
    let micros = match unit {
        TimeUnit::Nanoseconds => t / 1000,
        TimeUnit::Microseconds => t,
        TimeUnit::Milliseconds => t * 1000,
    };
    match DateTime::from_timestamp_micros(micros) {
        Some(dt) if micros % 1_000_000 == 0 => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => t.to_string(),
    }
}

fn json_value(v: &AnyValue) -> serde_json::Value {
    use serde_json::Value;
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(s) => Value::String((*s).into()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Int8(i) => (*i).into(),
        AnyValue::Int16(i) => (*i).into(),
        AnyValue::Int32(i) => (*i).into(),
        AnyValue::Int64(i) => (*i).into(),
        AnyValue::UInt8(i) => (*i).into(),
        AnyValue::UInt16(i) => (*i).into(),
        AnyValue::UInt32(i) => (*i).into(),
        AnyValue::UInt64(i) => (*i).into(),
        AnyValue::Float32(f) => {
            serde_json::Number::from_f64(*f as f64).map_or(Value::Null, Value::Number)
        }
        AnyValue::Float64(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        AnyValue::List(s) => Value::Array(s.iter().map(|v| json_value(&v)).collect()),
        other => Value::String(cell(other)),
    }
}

/// The frame as an array of objects, columns in order.
pub fn json_rows(df: &DataFrame) -> serde_json::Value {
    let cols = df.columns();
    let names: Vec<String> = cols.iter().map(|c| c.name().to_string()).collect();
    let rows = (0..df.height())
        .map(|i| {
            let mut obj = serde_json::Map::with_capacity(cols.len());
            for (name, col) in names.iter().zip(cols) {
                let v = col.get(i).unwrap_or(AnyValue::Null);
                obj.insert(name.clone(), json_value(&v));
            }
            serde_json::Value::Object(obj)
        })
        .collect();
    serde_json::Value::Array(rows)
}

fn text_grid(df: &DataFrame) -> (Vec<String>, Vec<Vec<String>>) {
    let header = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let rows = (0..df.height())
        .map(|i| {
            df.columns()
                .iter()
                .map(|c| cell(&c.get(i).unwrap_or(AnyValue::Null)).replace('\n', " "))
                .collect()
        })
        .collect();
    (header, rows)
}

fn csv(df: &DataFrame) -> Result<Vec<u8>> {
    let (header, rows) = text_grid(df);
    let mut w = csv_writer();
    w.write_record(&header)?;
    for r in rows {
        w.write_record(&r)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

fn csv_writer() -> ::csv::Writer<Vec<u8>> {
    ::csv::Writer::from_writer(Vec::new())
}

fn is_numeric(df: &DataFrame, idx: usize) -> bool {
    df.columns()[idx].dtype().is_primitive_numeric()
}

fn widths(header: &[String], rows: &[Vec<String>]) -> Vec<usize> {
    header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect()
}

fn pad(s: &str, w: usize, right: bool) -> String {
    let n = s.chars().count();
    let fill = " ".repeat(w.saturating_sub(n));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

/// Aligned plain-text table; numbers right-aligned, a row count at the end.
pub fn table(df: &DataFrame) -> String {
    let (header, rows) = text_grid(df);
    let w = widths(&header, &rows);
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| pad(c, w[i], is_numeric(df, i)))
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&header, &mut out);
    let rule: Vec<String> = w.iter().map(|n| "-".repeat(*n)).collect();
    out.push_str(&rule.join("  "));
    out.push('\n');
    for r in &rows {
        line(r, &mut out);
    }
    out.push_str(&format!(
        "({} row{})\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    ));
    out
}

/// A Markdown table with `|` in cells escaped.
pub fn markdown(df: &DataFrame) -> String {
    let (header, rows) = text_grid(df);
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = String::new();
    out.push_str(&format!(
        "| {} |\n",
        header
            .iter()
            .map(|h| esc(h))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    let seps: Vec<&str> = (0..header.len())
        .map(|i| if is_numeric(df, i) { "---:" } else { "---" })
        .collect();
    out.push_str(&format!("| {} |\n", seps.join(" | ")));
    for r in rows {
        out.push_str(&format!(
            "| {} |\n",
            r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    out
}

/// The error and its causes on one line, each cause once (a library error
/// that quotes its source is not followed by that source again), with a hint
/// where the cause is the machine's, not flowmeter's: a full disk, a
/// read-only data directory.
pub fn error_line(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let s = cause.to_string();
        if text.ends_with(&s) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&s);
    }
    let os = err
        .chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .find_map(std::io::Error::raw_os_error)
        .or_else(|| {
            // Errors that carry the io::Error only as text (Parquet's writer).
            [(28, "(os error 28)"), (30, "(os error 30)")]
                .into_iter()
                .find(|(_, t)| text.contains(t))
                .map(|(n, _)| n)
        });
    match os {
        Some(28) => text.push_str(
            "\n  hint: the disk is full: free space, or put the store elsewhere with --data DIR (each file flowmeter writes is written whole or not at all, so a rerun finishes the work)",
        ),
        Some(30) => text.push_str(
            "\n  hint: the data directory is on a read-only file system: use --data DIR for a writable one",
        ),
        _ => {}
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A library error that quotes its source, under a context: each cause
    /// once, and the hint for a full disk or a read-only file system.
    #[test]
    fn error_line_says_each_cause_once_with_the_machine_hint() {
        #[derive(Debug)]
        struct Quoting(std::io::Error);
        impl std::fmt::Display for Quoting {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "writing /s/x.parquet: {}", self.0)
            }
        }
        impl std::error::Error for Quoting {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let full = anyhow::Error::new(Quoting(std::io::Error::from_raw_os_error(28)))
            .context("ingesting repo");
        let line = error_line(&full);
        assert_eq!(line.matches("os error 28").count(), 1, "{line}");
        assert!(
            line.starts_with("ingesting repo: writing /s/x.parquet: "),
            "{line}"
        );
        assert!(line.contains("\n  hint: the disk is full"), "{line}");
        let ro = anyhow::Error::new(std::io::Error::from_raw_os_error(30)).context("/s/.lock");
        assert!(error_line(&ro).contains("hint: the data directory is on a read-only"));
        // Parquet's writer carries the io::Error only as text.
        let text =
            anyhow::anyhow!("parquet: underlying IO error: No space left on device (os error 28)");
        assert!(error_line(&text).contains("hint: the disk is full"));
        let plain = anyhow::anyhow!("deployment `1` not found");
        assert_eq!(error_line(&plain), "deployment `1` not found");
    }

    fn sample() -> DataFrame {
        let t = Series::new("at".into(), [Some(1_700_000_000_000_000i64), None])
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .unwrap();
        let mut df = df!("name" => ["a|b", "c,d"], "n" => [1i64, 22]).unwrap();
        df.with_column(t.into_column()).unwrap();
        df
    }

    #[test]
    fn csv_has_header_and_quotes() {
        let s = String::from_utf8(render(&sample(), Format::Csv, None).unwrap()).unwrap();
        assert_eq!(s, "name,n,at\na|b,1,2023-11-14T22:13:20Z\n\"c,d\",22,\n");
    }

    #[test]
    fn json_is_an_array_of_objects() {
        let v = json_rows(&sample());
        assert_eq!(
            v,
            serde_json::json!([
                {"name": "a|b", "n": 1, "at": "2023-11-14T22:13:20Z"},
                {"name": "c,d", "n": 22, "at": null}
            ])
        );
    }

    #[test]
    fn markdown_escapes_pipes_and_table_aligns() {
        let md = markdown(&sample());
        assert!(md.contains("| a\\|b | 1 | 2023-11-14T22:13:20Z |"), "{md}");
        assert!(md.starts_with("| name | n | at |\n| --- | ---: | --- |\n"));
        let t = table(&sample());
        assert_eq!(t.lines().nth(2).unwrap(), "a|b    1  2023-11-14T22:13:20Z");
        assert!(t.ends_with("(2 rows)\n"));
    }
}
