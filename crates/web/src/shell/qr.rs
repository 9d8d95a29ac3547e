//! QR codes: as an SVG path (for pages and downloads) and as a PNG image (for printing), with
//! the standard quiet zone of 4 modules. The PNG is written here (1-bit grayscale, one stored
//! deflate block per 64 KiB), so no image library is needed; and the public base URL such a
//! code points at ([`public_base`]).

use super::AppState;
use super::auth::secure;
use axum::http::HeaderMap;

/// `scheme://host` of the request, for the absolute URL a QR code must carry (the rating
/// pages of cases and windows, the ballot slips of polls): the request's `Host` when it is a
/// plain host name, `localhost` otherwise; `https` behind TLS.
pub(crate) fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = if secure(state, headers) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// Quiet zone around a QR code, in modules (the standard asks for 4).
pub(crate) const QUIET_ZONE: usize = 4;

/// A QR code as its dark modules.
#[derive(Debug)]
pub(crate) struct Qr {
    /// Width and height with the quiet zone, in modules.
    pub(crate) size: usize,
    /// Dark modules, row by row, `size × size`.
    dark: Vec<bool>,
    /// The dark modules as an SVG path, one unit per module: `M x y h1 v1 h-1 z` for each.
    pub(crate) path: String,
}

impl Qr {
    /// The QR code of `text`, `None` when it does not fit one.
    pub(crate) fn new(text: &str) -> Option<Self> {
        let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
        let width = code.width();
        let size = width + 2 * QUIET_ZONE;
        let mut dark = vec![false; size * size];
        let mut path = String::new();
        for (i, color) in code.to_colors().into_iter().enumerate() {
            if color == qrcode::Color::Dark {
                let (x, y) = (i % width + QUIET_ZONE, i / width + QUIET_ZONE);
                dark[y * size + x] = true;
                path.push_str(&format!("M{x} {y}h1v1h-1z"));
            }
        }
        Some(Self { size, dark, path })
    }

    /// A standalone SVG document, `pixels` wide, with `caption` under the code.
    pub(crate) fn svg(&self, pixels: usize, caption: &str) -> String {
        let s = self.size;
        let caption = caption
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {s} {h}\" width=\"{pixels}\" height=\"{ph}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{s}\" height=\"{h}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/>\
             <text x=\"{mid}\" y=\"{ty}\" font-size=\"2.2\" text-anchor=\"middle\" font-family=\"sans-serif\">{caption}</text></svg>",
            h = s + 3,
            ph = pixels * (s + 3) / s,
            path = self.path,
            mid = s as f64 / 2.0,
            ty = s + 2,
        )
    }

    /// A PNG image, `scale` pixels per module, black on white.
    pub(crate) fn png(&self, scale: usize) -> Vec<u8> {
        let scale = scale.clamp(1, 32);
        let side = self.size * scale;
        let row_bytes = side.div_ceil(8);
        let mut raw = Vec::with_capacity((row_bytes + 1) * side);
        for y in 0..side {
            raw.push(0); // filter: none
            let mut row = vec![0xffu8; row_bytes];
            for x in 0..side {
                if self.dark[(y / scale) * self.size + x / scale] {
                    row[x / 8] &= !(0x80 >> (x % 8));
                }
            }
            raw.extend_from_slice(&row);
        }
        let side = u32::try_from(side).unwrap_or(u32::MAX);
        let mut ihdr = Vec::with_capacity(13);
        ihdr.extend_from_slice(&side.to_be_bytes());
        ihdr.extend_from_slice(&side.to_be_bytes());
        ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // 1 bit, grayscale, deflate, no filter, no interlace
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut png, b"IHDR", &ihdr);
        chunk(&mut png, b"IDAT", &zlib_stored(&raw));
        chunk(&mut png, b"IEND", &[]);
        png
    }
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(65_535).collect()
    };
    let last = blocks.len() - 1;
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i == last));
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_have_a_quiet_zone_and_dark_modules() {
        let Some(qr) = Qr::new("otpauth://totp/kaohe:li?secret=JBSWY3DPEHPK3PXP") else {
            panic!("the URI fits a QR code");
        };
        // Version 3 or 4 for a URI of this length: 29 or 33 modules, plus 8 of quiet zone.
        assert!(matches!(qr.size, 37 | 41), "{}", qr.size);
        // The finder pattern's top-left corner is dark, right after the quiet zone.
        assert!(qr.path.starts_with("M4 4h1v1h-1z"), "{}", &qr.path[..40]);
        assert!(!qr.path.contains("M0 "), "nothing in the quiet zone");
    }

    #[test]
    fn png_is_well_formed_and_matches_the_modules() {
        let Some(qr) = Qr::new("https://example.org/rate/abcdefghijklmnop") else {
            panic!("fits");
        };
        let png = qr.png(4);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        let side = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        assert_eq!(side as usize, qr.size * 4);
        // The IHDR checksum covers its type and data.
        let crc = u32::from_be_bytes([png[29], png[30], png[31], png[32]]);
        assert_eq!(crc, crc32fast::hash(&png[12..29]));
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        // Decode the stored blocks back and check a dark finder module and a white quiet zone.
        let idat = &png[41..];
        assert_eq!(&idat[..2], &[0x78, 0x01]);
        let mut raw = Vec::new();
        let mut at = 2;
        loop {
            let last = idat[at] == 1;
            let len = usize::from(u16::from_le_bytes([idat[at + 1], idat[at + 2]]));
            raw.extend_from_slice(&idat[at + 5..at + 5 + len]);
            at += 5 + len;
            if last {
                break;
            }
        }
        let row_bytes = (side as usize).div_ceil(8) + 1;
        let pixel = |x: usize, y: usize| raw[y * row_bytes + 1 + x / 8] & (0x80 >> (x % 8)) == 0;
        assert!(!pixel(0, 0), "quiet zone is white");
        assert!(
            pixel(QUIET_ZONE * 4, QUIET_ZONE * 4),
            "finder corner is black"
        );
    }

    #[test]
    fn svg_escapes_its_caption() {
        let Some(qr) = Qr::new("x") else {
            panic!("fits")
        };
        let svg = qr.svg(200, "窗口 <W-01> & 二维码");
        assert!(svg.contains("&lt;W-01&gt; &amp;"));
        assert!(svg.starts_with("<svg xmlns"));
    }
}
