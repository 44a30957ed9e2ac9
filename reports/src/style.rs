//! One palette, one font, and the number formats every chart and report shares.

use std::sync::Once;

use plotters::style::{FontStyle, RGBColor};

/// The font family every chart uses; DejaVu Sans is registered under it.
pub const FONT: &str = "sans-serif";

/// The Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"): eight
/// colours that stay distinguishable with every common colour-vision deficiency.
pub mod okabe_ito {
    use plotters::style::RGBColor;
    pub const BLACK: RGBColor = RGBColor(0x00, 0x00, 0x00);
    pub const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
    pub const SKY_BLUE: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
    pub const BLUISH_GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
    pub const YELLOW: RGBColor = RGBColor(0xF0, 0xE4, 0x42);
    pub const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
    pub const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
    pub const REDDISH_PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
    /// The order series take their colours in.
    pub const SERIES: [RGBColor; 7] = [
        BLUE,
        ORANGE,
        BLUISH_GREEN,
        REDDISH_PURPLE,
        SKY_BLUE,
        VERMILLION,
        YELLOW,
    ];
}

/// Neutral grey for grids and secondary text.
pub const GREY: RGBColor = RGBColor(0x59, 0x59, 0x59);

/// The colour of series `i`, cycling through the palette.
pub fn series_color(i: usize) -> RGBColor {
    okabe_ito::SERIES[i % okabe_ito::SERIES.len()]
}

/// `#rrggbb` of a colour, for CSS.
pub fn css(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

pub use flowmeter_analysis::Tier;

/// A tier's colour (Okabe–Ito; the name is always printed too, so colour is
/// never the only cue).
pub fn tier_color(t: Tier) -> RGBColor {
    match t {
        Tier::Elite => okabe_ito::BLUISH_GREEN,
        Tier::High => okabe_ito::SKY_BLUE,
        Tier::Medium => okabe_ito::ORANGE,
        Tier::Low => okabe_ito::VERMILLION,
    }
}

static FONTS: Once = Once::new();

/// Registers DejaVu Sans (regular and bold) as [`FONT`], so PNG text renders
/// on a machine with no system fonts. Idempotent; every renderer calls it.
pub fn register_fonts() {
    FONTS.call_once(|| {
        // The bundled fonts are valid TrueType files; failure here is a build defect.
        let ok = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok();
        assert!(ok, "the bundled DejaVu Sans font failed to load");
    });
}

/// A duration in hours as a short human string: `45 min`, `5.2 h`, `3.1 d`, `2.0 w`.
pub fn fmt_hours(h: f64) -> String {
    if !h.is_finite() {
        return "–".into();
    }
    let a = h.abs();
    if a < 1.0 {
        format!("{:.0} min", h * 60.0)
    } else if a < 48.0 {
        format!("{} h", trim(h))
    } else if a < 24.0 * 14.0 {
        format!("{} d", trim(h / 24.0))
    } else {
        format!("{} w", trim(h / 168.0))
    }
}

/// A compact duration for axis ticks: `6m`, `1h`, `10h`, `4d`, `6w`.
pub fn fmt_hours_tick(h: f64) -> String {
    if h < 1.0 {
        format!("{}m", trim(h * 60.0))
    } else if h < 48.0 {
        format!("{}h", trim(h))
    } else if h < 24.0 * 14.0 {
        format!("{}d", trim(h / 24.0))
    } else {
        format!("{}w", trim(h / 168.0))
    }
}

/// One decimal, without a trailing `.0`.
pub fn trim(x: f64) -> String {
    let s = if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    };
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A fraction as a percentage: `0.125` → `12.5%`.
pub fn fmt_pct(x: f64) -> String {
    format!("{}%", trim(x * 100.0))
}

/// The unit a set of durations reads best in: hours below three days, else days.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeUnit {
    pub divisor: f64,
    pub name: &'static str,
}

impl TimeUnit {
    pub fn for_max_hours(max: f64) -> TimeUnit {
        if max < 72.0 {
            TimeUnit {
                divisor: 1.0,
                name: "hours",
            }
        } else {
            TimeUnit {
                divisor: 24.0,
                name: "days",
            }
        }
    }
}

/// A round upper bound at least `x` (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k),
/// so axes end near the data and on a tick.
pub(crate) fn nice_ceiling(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * p >= x {
            return m * p;
        }
    }
    10.0 * p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(fmt_hours(0.75), "45 min");
        assert_eq!(fmt_hours(5.25), "5.2 h");
        assert_eq!(fmt_hours(72.0), "3 d");
        assert_eq!(fmt_hours(24.0 * 21.0), "3 w");
        assert_eq!(fmt_hours_tick(0.1), "6m");
        assert_eq!(fmt_hours_tick(100.0), "4.2d");
        assert_eq!(fmt_pct(0.125), "12.5%");
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_ceiling(7.3), 8.0);
        assert_eq!(nice_ceiling(13.4), 15.0);
        assert_eq!(nice_ceiling(1.7), 2.0);
        assert_eq!(nice_ceiling(0.21), 0.25);
        assert_eq!(nice_ceiling(0.0), 1.0);
    }
}
