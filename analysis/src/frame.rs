//! Small helpers to move between polars frames and plain Rust rows.

use polars::prelude::*;

use crate::error::{polars_err, Result};

/// Column accessors that name the table and column on failure.
pub(crate) struct Cols<'a> {
    pub df: &'a DataFrame,
    pub table: &'static str,
}

impl<'a> Cols<'a> {
    pub fn new(df: &'a DataFrame, table: &'static str) -> Self {
        Cols { df, table }
    }

    fn col(&self, name: &str) -> Result<&'a Column> {
        self.df
            .column(name)
            .map_err(polars_err(format!("reading `{}.{name}`", self.table)))
    }

    pub fn str(&self, name: &str) -> Result<Vec<Option<String>>> {
        Ok(self.strs(name)?.map(|v| v.map(str::to_owned)).collect())
    }

    /// The strings of a column, borrowed from the frame: no copy per row.
    pub fn strs(&self, name: &str) -> Result<impl Iterator<Item = Option<&'a str>> + 'a> {
        let c = self.col(name)?;
        let ca = c
            .str()
            .map_err(polars_err(format!("reading `{}.{name}`", self.table)))?;
        Ok(ca.iter())
    }

    /// Integers, and times as microseconds since the epoch.
    pub fn int(&self, name: &str) -> Result<Vec<Option<i64>>> {
        let c = self
            .col(name)?
            .cast(&DataType::Int64)
            .map_err(polars_err(format!("reading `{}.{name}`", self.table)))?;
        let ca = c
            .i64()
            .map_err(polars_err(format!("reading `{}.{name}`", self.table)))?;
        Ok(ca.iter().collect())
    }

    pub fn float(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let c = self
            .col(name)?
            .cast(&DataType::Float64)
            .map_err(polars_err(format!("reading `{}.{name}`", self.table)))?;
        let ca = c
            .f64()
            .map_err(polars_err(format!("reading `{}.{name}`", self.table)))?;
        Ok(ca.iter().collect())
    }

    pub fn bool(&self, name: &str) -> Result<Vec<Option<bool>>> {
        let c = self.col(name)?;
        let ca = c
            .bool()
            .map_err(polars_err(format!("reading `{}.{name}`", self.table)))?;
        Ok(ca.iter().collect())
    }

    pub fn str_list(&self, name: &str) -> Result<Vec<Vec<String>>> {
        let c = self.col(name)?;
        let ca = c
            .list()
            .map_err(polars_err(format!("reading `{}.{name}`", self.table)))?;
        let mut out = Vec::with_capacity(ca.len());
        for i in 0..ca.len() {
            let v = match ca.get_as_series(i) {
                None => vec![],
                Some(s) => s
                    .str()
                    .map_err(polars_err(format!("reading `{}.{name}`", self.table)))?
                    .iter()
                    .flatten()
                    .map(str::to_owned)
                    .collect(),
            };
            out.push(v);
        }
        Ok(out)
    }
}

/// A `List(String)` column.
pub(crate) fn list_col(name: &str, rows: &[Vec<String>]) -> Column {
    let ca: ListChunked = rows
        .iter()
        .map(|r| {
            Some(Series::new(
                PlSmallStr::EMPTY,
                r.iter().map(String::as_str).collect::<Vec<_>>(),
            ))
        })
        .collect();
    let mut s = ca.into_series();
    if rows.is_empty() {
        s = Series::new_empty(name.into(), &DataType::List(Box::new(DataType::String)));
    }
    s.with_name(name.into()).into_column()
}

/// A `Datetime(µs)` column from microseconds.
pub(crate) fn time_col(name: &str, v: Vec<Option<i64>>) -> Result<Column> {
    Series::new(name.into(), v)
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
        .map(|s| s.into_column())
        .map_err(polars_err(format!("building `{name}`")))
}
