//! QR codes of card codes and certificate links: SVG and PNG for screens and printers, and the
//! modules themselves for the certificate's PDF to draw.

use qrcode::{Color, EcLevel, QrCode};

/// Modules of quiet zone around a code, as the standard asks.
const QUIET: usize = 4;

/// The code of `text` at error correction M (15% of it may be damaged), the level the cards'
/// codes are sized for.
fn code(text: &str) -> Result<QrCode, String> {
    QrCode::with_error_correction_level(text, EcLevel::M)
        .map_err(|error| format!("the text does not fit a QR code: {error}"))
}

/// The QR version (1 to 40) the text needs at error correction M.
pub fn version(text: &str) -> Result<i16, String> {
    match code(text)?.version() {
        qrcode::Version::Normal(version) | qrcode::Version::Micro(version) => Ok(version),
    }
}

/// The code's modules, row by row, with the quiet zone: true where dark.
pub fn modules(text: &str) -> Result<Vec<Vec<bool>>, String> {
    let code = code(text)?;
    let width = code.width();
    let colors = code.to_colors();
    let side = width + 2 * QUIET;
    Ok((0..side)
        .map(|y| {
            (0..side)
                .map(|x| {
                    let inside =
                        (QUIET..QUIET + width).contains(&x) && (QUIET..QUIET + width).contains(&y);
                    inside && colors[(y - QUIET) * width + (x - QUIET)] == Color::Dark
                })
                .collect()
        })
        .collect())
}

/// The code as an SVG image, at least 240 pixels a side.
pub fn svg(text: &str) -> Result<String, String> {
    Ok(code(text)?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

/// The code as a grayscale PNG, `scale` pixels a module.
pub fn png(text: &str, scale: u32) -> Result<Vec<u8>, String> {
    let modules = modules(text)?;
    let side = modules.len() as u32 * scale;
    let mut pixels = vec![255u8; (side * side) as usize];
    for (y, row) in modules.iter().enumerate() {
        for (x, dark) in row.iter().enumerate() {
            if !dark {
                continue;
            }
            for dy in 0..scale {
                let start = ((y as u32 * scale + dy) * side + x as u32 * scale) as usize;
                pixels[start..start + scale as usize].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|error| error.to_string())?;
    writer
        .write_image_data(&pixels)
        .map_err(|error| error.to_string())?;
    writer.finish().map_err(|error| error.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_drawn_with_its_quiet_zone() {
        let modules = modules("ZY1:HELLO").unwrap();
        // Version 1: 21 modules and 4 of quiet zone each side.
        assert_eq!(modules.len(), 29);
        assert!(modules[0].iter().all(|dark| !dark));
        // The finder pattern's corner.
        assert!(modules[QUIET][QUIET]);
        assert!(svg("ZY1:HELLO").unwrap().starts_with("<?xml"));
        let png = png("ZY1:HELLO", 4).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
