//! Locating things in TOML source: byte offset → line and column, and the key path of the
//! table a byte offset falls in (for parse errors, whose messages name no key).

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
    }
}
