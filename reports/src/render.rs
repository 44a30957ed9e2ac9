//! Turning a [`Chart`] into SVG text, an RGB buffer or a PNG file.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::charts::{Chart, DrawResult};
use crate::error::{Error, Result};

/// The default PNG size of a chart.
pub const PNG_SIZE: (u32, u32) = (1600, 900);
/// The size of a chart inlined in HTML as SVG (it scales with the page).
pub const SVG_SIZE: (u32, u32) = (1200, 675);

fn draw_err(chart: &str, e: impl std::fmt::Display) -> Error {
    Error::Draw {
        chart: chart.to_string(),
        message: e.to_string(),
    }
}

/// Runs `f` on a fresh drawing area of any backend and presents it.
pub(crate) fn finish<DB: DrawingBackend>(
    name: &str,
    root: DrawingArea<DB, Shift>,
    f: impl FnOnce(&DrawingArea<DB, Shift>) -> DrawResult,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    f(&root).map_err(|e| draw_err(name, e))?;
    root.present().map_err(|e| draw_err(name, e))
}

/// The chart as a standalone SVG document of `size` pixels.
pub fn to_svg(chart: &Chart, size: (u32, u32)) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        finish(chart.slug(), root, |a| chart.draw(a))?;
    }
    Ok(out)
}

/// The chart rendered into an RGB buffer (`3 × width × height` bytes).
pub fn to_rgb(chart: &Chart, size: (u32, u32)) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        finish(chart.slug(), root, |a| chart.draw(a))?;
    }
    Ok(buf)
}

/// Writes the chart as a PNG of `size` pixels to `path`, atomically (a temporary
/// file in the same directory, then a rename).
pub fn write_png(chart: &Chart, path: &Path, size: (u32, u32)) -> Result<()> {
    png_with(chart.slug(), path, size, |a| chart.draw(a))
}

/// Writes a PNG drawn by `f`, atomically.
pub(crate) fn png_with(
    name: &str,
    path: &Path,
    size: (u32, u32),
    f: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> DrawResult,
) -> Result<()> {
    // The extension stays `.png`: plotters picks the encoder from it.
    atomically(path, ".png", |tmp| {
        finish(name, BitMapBackend::new(tmp, size).into_drawing_area(), f)
    })
}

/// Writes text to `path` atomically.
pub(crate) fn write_text(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    atomically(path, "", |tmp| {
        (|| {
            let mut f = std::fs::File::create(tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })()
        .map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// Has `write` fill a temporary file beside `path` (created with the usual
/// permissions, named `.<file>.tmp-<pid><suffix>`), then renames it over
/// `path`; on any failure the temporary file is removed and `path` is
/// untouched.
fn atomically(path: &Path, suffix: &str, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{file}.tmp-{}{suffix}", std::process::id()));
    let result = write(&tmp).and_then(|()| {
        std::fs::rename(&tmp, path).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
