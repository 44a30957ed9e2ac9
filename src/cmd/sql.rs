//! `flowmeter sql`: polars SQL over every table of the store.

use std::process::ExitCode;

use anyhow::{Context, Result};
use flowmeter_store::{Store, TableKind, TABLES};
use polars::prelude::*;
use polars::sql::SQLContext;

use crate::cli::{GlobalOpts, SqlArgs};
use crate::output::write_frame;

pub fn run(global: &GlobalOpts, args: SqlArgs) -> Result<ExitCode> {
    let store = Store::open(&global.data)?;
    if args.schema {
        write_frame(
            &schema_frame()?,
            args.out.format,
            args.out.output.as_deref(),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let query = args.query.expect("clap requires a query without --schema");
    if !args.allow_files {
        confine(&query)?;
    }
    crate::cmd::analyze::ensure_fresh(global, &store)?;
    let df = query_store(&store, &query)?;
    write_frame(&df, args.out.format, args.out.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `query` with every table registered. Tables the query does not name
/// are registered empty (with their schema) so that loading stays cheap.
pub fn query_store(store: &Store, query: &str) -> Result<DataFrame> {
    let words: std::collections::HashSet<String> = query
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let mut ctx = SQLContext::new();
    for table in TABLES {
        let df = if words.contains(table.name) {
            store
                .read(table)
                .with_context(|| format!("loading table `{}`", table.name))?
        } else {
            DataFrame::empty_with_schema(&table.schema())
        };
        ctx.register(table.name, df.lazy());
    }
    let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    let mut run = || -> PolarsResult<DataFrame> { ctx.execute(query)?.collect() };
    run().map_err(|e| {
        anyhow::anyhow!(
            "{e}\n  in query: {query:?}\n  tables: {}\n  (`flowmeter sql --schema` lists their columns)",
            names.join(", ")
        )
    })
}

/// Refuses a query that reads anything but the store's tables: a table
/// function (`read_csv('/etc/passwd')`, `read_parquet(...)`) names a file,
/// and a query run from a shared script or a report definition must not be
/// able to read the machine. A query that does not parse is left to polars,
/// whose error says where.
fn confine(query: &str) -> Result<()> {
    use sqlparser::ast::{TableFactor, Visit, Visitor};
    use std::ops::ControlFlow;
    struct Files;
    impl Visitor for Files {
        type Break = String;
        fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<String> {
            match t {
                TableFactor::Table {
                    name,
                    args: Some(_),
                    ..
                } => ControlFlow::Break(name.to_string()),
                TableFactor::Function { name, .. } => ControlFlow::Break(name.to_string()),
                TableFactor::TableFunction { expr, .. } => ControlFlow::Break(expr.to_string()),
                _ => ControlFlow::Continue(()),
            }
        }
    }
    let dialect = sqlparser::dialect::GenericDialect {};
    let Ok(statements) = sqlparser::parser::Parser::parse_sql(&dialect, query) else {
        return Ok(());
    };
    for s in &statements {
        if let ControlFlow::Break(name) = s.visit(&mut Files) {
            anyhow::bail!(
                "the query reads `{name}(...)`, a table function that reads files outside the store; \
                 `flowmeter sql` reads the store's tables only (`flowmeter sql --schema` lists them). \
                 Pass --allow-files to let this query read files"
            );
        }
    }
    Ok(())
}

/// One row per column of every table.
fn schema_frame() -> Result<DataFrame> {
    let (mut t, mut k, mut c, mut ty) = (vec![], vec![], vec![], vec![]);
    for table in TABLES {
        for (name, col) in table.columns {
            t.push(table.name);
            k.push(match table.kind {
                TableKind::Base => "base",
                TableKind::Derived => "derived",
            });
            c.push(*name);
            ty.push(col.dtype().to_string());
        }
    }
    Ok(df!("table" => t, "kind" => k, "column" => c, "type" => ty)?)
}
