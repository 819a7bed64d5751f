//! The certificate of service (志愿服务记录证明) as a printable A4 page in HTML and as a PDF.
//!
//! Both show what the Ministry of Civil Affairs' measures ask of a certificate: the volunteer's
//! name, the kind and (masked) number of their identity document, their volunteer number, the
//! hours and content of their service, the issuer with its person in charge, handler and
//! contact, the certificate's number, the date and the issuer's seal; and a QR code of the page
//! where anyone checks that the certificate stands. The PDF embeds the subset of a CJK font
//! that its text uses, so it reads the same on any machine.

use std::sync::Arc;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use zhiyuan_domain::{CertificateFacts, Minutes};

use crate::id_kind_label;

/// What a certificate's page shows.
#[derive(Debug, Clone, Copy)]
pub struct CertificateDocument<'a> {
    pub number: &'a str,
    pub facts: &'a CertificateFacts,
    /// The address of the public page that verifies it.
    pub verify_url: &'a str,
    /// The reason it was revoked, if it was.
    pub revoked: Option<&'a str>,
}

/// A font for PDFs: a face of an OpenType collection, read once.
#[derive(Clone)]
pub struct PdfFont {
    data: Arc<Vec<u8>>,
    index: u32,
}

impl std::fmt::Debug for PdfFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PdfFont({} bytes, face {})", self.data.len(), self.index)
    }
}

impl PdfFont {
    /// Face `index` of the font file's bytes; none if the bytes hold no such face.
    pub fn new(data: Vec<u8>, index: u32) -> Option<PdfFont> {
        let data = Arc::new(data);
        Font::new(data.clone().into(), index)?;
        Some(PdfFont { data, index })
    }

    fn font(&self) -> Font {
        Font::new(self.data.clone().into(), self.index).expect("checked when read")
    }
}

/// Hours with one decimal, as certificates state them.
pub fn hours(minutes: Minutes) -> String {
    let tenths = (minutes.get() * 10 + 30) / 60;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Text made safe to place in HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// The lines of the certificate's statement, shared by the page and the PDF.
fn statement(facts: &CertificateFacts) -> Vec<String> {
    vec![
        format!("志愿者姓名:{}", facts.volunteer_name),
        format!(
            "证件类型:{}    证件号码:{}",
            id_kind_label(facts.id_kind),
            facts.id_number_masked
        ),
        format!("志愿者编号:{}", facts.volunteer_number),
        format!("服务期间:{} 至 {}", facts.period_from, facts.period_to),
        format!(
            "经核实,该志愿者在上述期间累计参加志愿服务 {} 小时,服务内容如下:",
            hours(facts.total_minutes)
        ),
    ]
}

fn issuer_lines(number: &str, facts: &CertificateFacts) -> Vec<String> {
    vec![
        format!("出具单位:{}", facts.issuer),
        format!("负责人:{}", facts.person_in_charge),
        format!("经办人:{}", facts.handler),
        format!("联系方式:{}", facts.contact),
        format!("证明编号:{number}"),
        format!("出具日期:{}", facts.issued_on),
    ]
}

/// The certificate as a printable A4 page: no script, styles inline, the QR code as SVG.
pub fn html(document: &CertificateDocument<'_>) -> Result<String, String> {
    let facts = document.facts;
    let mut rows = String::new();
    for line in &facts.lines {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{} 至 {}</td><td class=\"n\">{}</td></tr>\n",
            escape(&line.content),
            escape(&line.first_day),
            escape(&line.last_day),
            hours(line.minutes)
        ));
    }
    let statement: String = statement(facts)
        .iter()
        .map(|line| format!("<p>{}</p>\n", escape(line)))
        .collect();
    let issuer: String = issuer_lines(document.number, facts)
        .iter()
        .map(|line| format!("<p>{}</p>\n", escape(line)))
        .collect();
    let revoked = document
        .revoked
        .map(|reason| format!("<p class=\"revoked\">本证明已撤销:{}</p>\n", escape(reason)))
        .unwrap_or_default();
    let qr = crate::qr::svg(document.verify_url)?;
    let qr = qr.trim_start_matches("<?xml version=\"1.0\" standalone=\"yes\"?>");
    Ok(format!(
        r##"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>志愿服务记录证明 {number}</title>
<style>
@page {{ size: A4; margin: 20mm; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; color: #000; max-width: 170mm; margin: 0 auto; }}
h1 {{ text-align: center; font-size: 22pt; letter-spacing: 0.3em; }}
table {{ width: 100%; border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #000; padding: 4px 6px; font-size: 11pt; }}
td.n {{ text-align: right; }}
.issuer {{ position: relative; margin-left: 50%; margin-top: 2em; }}
.seal {{ position: absolute; left: 40%; top: -10px; width: 120px; height: 120px; opacity: 0.8; }}
.qr {{ width: 30mm; }}
.revoked {{ color: #c00; font-size: 18pt; font-weight: bold; }}
</style>
</head>
<body>
<h1>志愿服务记录证明</h1>
{revoked}{statement}<table>
<tr><th>服务项目(内容)</th><th>服务日期</th><th>时长(小时)</th></tr>
{rows}<tr><td colspan="2">合计</td><td class="n">{total}</td></tr>
</table>
<p>特此证明。</p>
<div class="issuer">
<svg class="seal" viewBox="0 0 120 120" aria-hidden="true"><circle cx="60" cy="60" r="56" fill="none" stroke="#c00" stroke-width="4"/><text x="60" y="68" font-size="24" text-anchor="middle" fill="#c00">★</text><text x="60" y="96" font-size="10" text-anchor="middle" fill="#c00">{seal}</text></svg>
{issuer}</div>
<div class="qr">{qr}</div>
<p>扫描二维码或访问 {url} 核验本证明。</p>
</body>
</html>
"##,
        number = escape(document.number),
        total = hours(facts.total_minutes),
        seal = escape(&facts.issuer),
        url = escape(document.verify_url),
    ))
}

/// The certificate as an A4 PDF, with the font's subset embedded.
pub fn pdf(document: &CertificateDocument<'_>, font: &PdfFont) -> Result<Vec<u8>, String> {
    const WIDTH: f32 = 595.0;
    const HEIGHT: f32 = 842.0;
    const LEFT: f32 = 60.0;
    let facts = document.facts;
    let font = font.font();
    let mut pdf = Document::new();
    pdf.set_metadata(
        Metadata::new()
            .title(format!("志愿服务记录证明 {}", document.number))
            .language("zh-CN".to_owned()),
    );
    let settings = PageSettings::from_wh(WIDTH, HEIGHT).ok_or("A4 is a page size")?;
    let mut page = pdf.start_page_with(settings);
    let mut surface = page.surface();
    let black = Fill::default();
    let red = Fill {
        paint: rgb::Color::new(200, 0, 0).into(),
        ..Fill::default()
    };
    surface.set_stroke(None);
    surface.set_fill(Some(black.clone()));
    let text =
        |surface: &mut krilla::surface::Surface<'_>, x: f32, y: f32, size: f32, line: &str| {
            surface.draw_text(
                Point::from_xy(x, y),
                font.clone(),
                size,
                line,
                false,
                TextDirection::Auto,
            );
        };
    let title = "志愿服务记录证明";
    text(
        &mut surface,
        (WIDTH - 22.0 * title.chars().count() as f32) / 2.0,
        90.0,
        22.0,
        title,
    );
    let mut y = 140.0;
    if let Some(reason) = document.revoked {
        surface.set_fill(Some(red.clone()));
        text(
            &mut surface,
            LEFT,
            y,
            16.0,
            &format!("本证明已撤销:{reason}"),
        );
        surface.set_fill(Some(black.clone()));
        y += 30.0;
    }
    for line in statement(facts) {
        text(&mut surface, LEFT, y, 12.0, &line);
        y += 22.0;
    }
    // The table of service: content, days, hours.
    y += 6.0;
    let columns = [LEFT, LEFT + 250.0, LEFT + 400.0, WIDTH - LEFT];
    let mut rows = vec![(
        "服务项目(内容)".to_owned(),
        "服务日期".to_owned(),
        "时长(小时)".to_owned(),
    )];
    for line in &facts.lines {
        let content: String = line.content.chars().take(18).collect();
        rows.push((
            content,
            format!("{} 至 {}", line.first_day, line.last_day),
            hours(line.minutes),
        ));
    }
    rows.push(("合计".to_owned(), String::new(), hours(facts.total_minutes)));
    let table_top = y;
    for (content, days, minutes) in &rows {
        text(&mut surface, columns[0] + 4.0, y + 15.0, 10.0, content);
        text(&mut surface, columns[1] + 4.0, y + 15.0, 10.0, days);
        text(&mut surface, columns[2] + 4.0, y + 15.0, 10.0, minutes);
        y += 22.0;
    }
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        width: 0.75,
        ..Stroke::default()
    }));
    let mut grid = PathBuilder::new();
    for row in 0..=rows.len() {
        let at = table_top + 22.0 * row as f32;
        grid.move_to(columns[0], at);
        grid.line_to(columns[3], at);
    }
    for x in columns {
        grid.move_to(x, table_top);
        grid.line_to(x, y);
    }
    if let Some(path) = grid.finish() {
        surface.draw_path(&path);
    }
    surface.set_stroke(None);
    surface.set_fill(Some(black.clone()));
    y += 30.0;
    text(&mut surface, LEFT, y, 12.0, "特此证明。");
    // The issuer's block, with its seal over it.
    let mut issuer_y = y + 50.0;
    let issuer_x = WIDTH / 2.0;
    for line in issuer_lines(document.number, facts) {
        text(&mut surface, issuer_x, issuer_y, 11.0, &line);
        issuer_y += 20.0;
    }
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: rgb::Color::new(200, 0, 0).into(),
        width: 3.0,
        ..Stroke::default()
    }));
    let (cx, cy, r) = (issuer_x + 150.0, y + 80.0, 50.0);
    let mut seal = PathBuilder::new();
    // A circle of four cubic arcs.
    let k = 0.552_284_8 * r;
    seal.move_to(cx + r, cy);
    seal.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    seal.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    seal.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    seal.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    seal.close();
    if let Some(path) = seal.finish() {
        surface.draw_path(&path);
    }
    surface.set_stroke(None);
    surface.set_fill(Some(red));
    text(&mut surface, cx - 9.0, cy + 6.0, 18.0, "★");
    let seal_name: String = facts.issuer.chars().take(10).collect();
    let seal_size = 8.0;
    text(
        &mut surface,
        cx - seal_size * seal_name.chars().count() as f32 / 2.0,
        cy + 30.0,
        seal_size,
        &seal_name,
    );
    // The QR code of the verification page, bottom left.
    surface.set_fill(Some(black));
    let modules = crate::qr::modules(document.verify_url)?;
    let module = 2.5;
    let (qx, qy) = (LEFT, HEIGHT - 60.0 - module * modules.len() as f32);
    let mut qr = PathBuilder::new();
    for (row, line) in modules.iter().enumerate() {
        for (column, dark) in line.iter().enumerate() {
            let rect = Rect::from_xywh(
                qx + column as f32 * module,
                qy + row as f32 * module,
                module,
                module,
            );
            if let (true, Some(rect)) = (*dark, rect) {
                qr.push_rect(rect);
            }
        }
    }
    if let Some(path) = qr.finish() {
        surface.draw_path(&path);
    }
    text(
        &mut surface,
        LEFT,
        HEIGHT - 40.0,
        9.0,
        &format!("扫描二维码或访问 {} 核验本证明", document.verify_url),
    );
    surface.finish();
    page.finish();
    pdf.finish()
        .map_err(|error| format!("the PDF was not made: {error:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_have_one_decimal() {
        assert_eq!(hours(Minutes::new(0)), "0.0");
        assert_eq!(hours(Minutes::new(90)), "1.5");
        assert_eq!(hours(Minutes::new(100)), "1.7");
        assert_eq!(hours(Minutes::new(12 * 60)), "12.0");
    }

    #[test]
    fn the_page_escapes_what_people_typed() {
        assert_eq!(
            escape("<b>\"A&B\"</b>"),
            "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;"
        );
    }
}
