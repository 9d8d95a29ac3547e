//! Locating things in TOML source: byte offset → line and column, and the key path of the
//! table a byte offset falls in (for parse errors, whose messages name no key); setting aside
//! the table an error falls in, so that a reading can go on to find the other problems.

use std::collections::HashMap;

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, col)
}

/// Best-effort key path at a byte offset, e.g. `dimensions[1].indicators[0].weight`, found by
/// replaying the table headers above it. Inline tables and multi-line arrays are not followed.
pub(crate) fn key_path_at(src: &str, offset: usize) -> String {
    let mut counters: HashMap<String, usize> = HashMap::new();
    let mut path = String::new();
    let mut pos = 0usize;
    for raw in src.split_inclusive('\n') {
        let line_end = pos + raw.len();
        let line = raw.trim();
        let is_target = offset >= pos && offset < line_end.max(pos + 1);
        if let Some(inner) = line.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
            let name = clean(inner);
            let count = counters.entry(name.clone()).or_insert(0);
            *count += 1;
            let prefix = format!("{name}.");
            counters.retain(|k, _| !k.starts_with(&prefix));
            path = resolve(&name, &counters);
        } else if let Some(inner) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            let name = clean(inner);
            path = resolve(&name, &counters);
        } else if is_target && let Some((key, _)) = line.split_once('=') {
            let key = clean(key);
            return if path.is_empty() {
                key
            } else {
                format!("{path}.{key}")
            };
        }
        if is_target {
            return path;
        }
        pos = line_end;
    }
    path
}

fn clean(s: &str) -> String {
    s.split('.')
        .map(|p| p.trim().trim_matches('"'))
        .collect::<Vec<_>>()
        .join(".")
}

/// Turns `dimensions.indicators` into `dimensions[i].indicators[j]` using the current counts of
/// each array of tables.
fn resolve(name: &str, counters: &HashMap<String, usize>) -> String {
    let mut out = String::new();
    let mut prefix = String::new();
    for part in name.split('.') {
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(part);
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(part);
        if let Some(c) = counters.get(&prefix) {
            out.push_str(&format!("[{}]", c.saturating_sub(1)));
        }
    }
    out
}

/// The lines of `text` with the byte offset each starts at.
fn lines_at(text: &str) -> Vec<(usize, &str)> {
    text.split_inclusive('\n')
        .scan(0usize, |pos, l| {
            let at = *pos;
            *pos += l.len();
            Some((at, l))
        })
        .collect()
}

/// The table that holds byte `offset`: the index of its header line, its name and whether it
/// is an array of tables. `None` before any header.
pub(crate) fn table_at(text: &str, offset: usize) -> Option<(usize, String, bool)> {
    let lines = lines_at(text);
    let target = lines
        .iter()
        .rposition(|(at, _)| *at <= offset.min(text.len().saturating_sub(1)))?;
    lines[..=target]
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, (_, l))| header_of(l).map(|(name, array)| (i, name, array)))
}

/// Blanks the line holding byte `offset` into a comment of the same length, when that line is
/// a whole `key = value` on its own; returns whether it did.
pub(crate) fn blank_line(text: &mut String, offset: usize) -> bool {
    let Some((at, line)) = lines_at(text)
        .into_iter()
        .rfind(|(at, _)| *at <= offset)
        .map(|(at, l)| (at, l.trim_end_matches(['\n', '\r']).to_owned()))
    else {
        return false;
    };
    let whole = header_of(&line).is_none()
        && line.contains('=')
        && toml::from_str::<toml::Table>(&line).is_ok_and(|t| !t.is_empty());
    if whole {
        text.replace_range(at..at + line.len(), &blanked(line.len()));
    }
    whole
}

/// A comment of `len` bytes.
fn blanked(len: usize) -> String {
    format!("#{}", " ".repeat(len.saturating_sub(1)))
}

/// Sets aside the array-of-tables element (a dimension or an indicator, with everything nested
/// under it) or the plain table (other than `[framework]`) that holds byte `offset` of `text`,
/// by blanking its lines into comments of the same length, so that every byte offset and line
/// of the rest stays where it was. Returns the element's header line (1-based), or `None` when
/// the offset lies before any header, in `[framework]`, or in lines already set aside.
pub(crate) fn set_aside(text: &mut String, offset: usize) -> Option<usize> {
    let (header, name, array) = table_at(text, offset)?;
    if !array && name == "framework" {
        return None;
    }
    let nested = format!("{name}.");
    let lines = lines_at(text);
    let end = lines[header + 1..]
        .iter()
        .position(|(_, l)| header_of(l).is_some_and(|(n, _)| !n.starts_with(&nested)))
        .map_or(lines.len(), |k| header + 1 + k);
    let ranges: Vec<(usize, usize)> = lines[header..end]
        .iter()
        .map(|(at, l)| (*at, l.trim_end_matches(['\n', '\r']).len()))
        .filter(|(_, len)| *len > 0)
        .collect();
    for (at, len) in ranges {
        text.replace_range(at..at + len, &blanked(len));
    }
    Some(header + 1)
}

/// The table named by a header line (`[a.b]` or `[[a.b]]`) and whether it is an array of tables.
fn header_of(line: &str) -> Option<(String, bool)> {
    let line = line.trim();
    if let Some(inner) = line.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
        Some((clean(inner), true))
    } else {
        line.strip_prefix('[')
            .and_then(|l| l.split(']').next())
            .map(|inner| (clean(inner), false))
    }
}

/// The element part of a key path: `dimensions[1].indicators[0]` of
/// `dimensions[1].indicators[0].weight`; empty when the path names no element.
pub(crate) fn element_of(path: &str) -> &str {
    path.rfind(']').map_or("", |i| &path[..=i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_and_paths() {
        let src = "[framework]\nid = \"x\"\n[[dimensions]]\nid = \"a\"\n[[dimensions.indicators]]\nid = \"i\"\n[[dimensions]]\nid = \"b\"\n[[dimensions.indicators]]\nid = \"j\"\n[[dimensions.indicators]]\nweight = \"x\"\n";
        let off = src.find("weight").expect("present");
        assert_eq!(line_col(src, off), (12, 1));
        assert_eq!(key_path_at(src, off), "dimensions[1].indicators[1].weight");
        let off = src.find("id = \"x\"").expect("present");
        assert_eq!(key_path_at(src, off), "framework.id");
        assert_eq!(
            element_of("dimensions[1].indicators[1].weight"),
            "dimensions[1].indicators[1]"
        );
        assert_eq!(element_of("grading.thresholds"), "");
    }

    #[test]
    fn sets_aside_an_element_with_what_is_nested_under_it_and_keeps_offsets() {
        let src = "[framework]\nid = \"x\"\n[[dimensions]]\nid = \"a\"\n[[dimensions.indicators]]\nid = \"i\"\n[[dimensions]]\nid = \"b\"\n[grading]\nscale = \"annual\"\n";
        let mut text = src.to_owned();
        let off = src.find("id = \"a\"").expect("present");
        assert_eq!(set_aside(&mut text, off), Some(3));
        assert_eq!(text.len(), src.len());
        assert_eq!(text.lines().filter(|l| l.starts_with('#')).count(), 4);
        assert!(text.contains("[[dimensions]]\nid = \"b\""));
        // Lines set aside are not set aside again, and `[framework]` never is.
        assert_eq!(set_aside(&mut text, off), None);
        assert_eq!(
            set_aside(&mut text, src.find("id = \"x\"").expect("present")),
            None
        );
        let off = src.find("scale").expect("present");
        assert_eq!(set_aside(&mut text, off), Some(9));
        assert!(!text.contains("annual"));
    }

    #[test]
    fn blanks_a_whole_key_and_value_but_not_part_of_a_longer_value() {
        let src = "[grading]\nscale = \"bogus\"\nthresholds = [\n  90, 80,\n  60]\n";
        let mut text = src.to_owned();
        assert!(blank_line(&mut text, src.find("bogus").expect("present")));
        assert!(!text.contains("bogus"));
        assert_eq!(text.len(), src.len());
        assert!(!blank_line(&mut text, src.find("90").expect("present")));
        assert!(!blank_line(&mut text, 0));
        assert_eq!(
            table_at(src, src.find("60").expect("present")),
            Some((0, "grading".to_owned(), false))
        );
    }
}
