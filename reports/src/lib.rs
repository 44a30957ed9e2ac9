//! flowmeter's reports: charts drawn with plotters (PNG and SVG, with an
//! embedded DejaVu Sans font so no system fonts are needed) and HTML, Markdown
//! and JSON reports. This crate draws and formats; it never computes a metric.
//!
//! ```
//! assert_eq!(flowmeter_reports::escape_html("<b>&</b>"), "&lt;b&gt;&amp;&lt;/b&gt;");
//! ```

/// Escapes text for HTML element content and attribute values. Everything that
/// comes from a repository (messages, titles, names) goes through this.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
