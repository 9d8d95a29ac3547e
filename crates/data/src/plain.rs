//! The fast path of [`crate::read_wide_columns`] for plain CSV files: UTF-8, no quoted field, no
//! carriage return other than in a line end. Such a file's records are its lines and its fields
//! are split at every comma, so it can be cut at line ends and read by several threads at once.
//!
//! The file is streamed twice in blocks, never held whole in memory: a first pass checks that it
//! is plain and counts the lines of each part, which sizes the column-major number buffer; a
//! second pass parses each part's lines straight into its rows of every column of that buffer
//! (numbers with a byte-level float parser, no per-cell allocation for numbers).

use crate::error::{ImportError, RowErrors};
use crate::wide::{WideColumns, blank, text_of};
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::Path;

/// Bytes read at a time by each thread.
const BLOCK: usize = 4 << 20;
/// Files whose body is smaller than this are read by one thread.
const SPLIT_FROM: u64 = 1 << 20;
/// Most threads used.
const MAX_PARTS: usize = 8;

/// What the parser does with one column of the file.
#[derive(Clone, Copy)]
enum Role {
    /// A named column that was not chosen.
    Ignore,
    /// No header (beyond the header's end, or an empty header): values are errors.
    Unnamed,
    /// The `t`-th chosen text column.
    Text(usize),
    /// The `j`-th chosen number column.
    Number(usize),
}

/// The outcome of [`read_plain`].
pub(crate) enum Plain<C> {
    /// The file was plain: its columns.
    Read(WideColumns),
    /// The file is not plain: `choose` handed back, not called.
    Other(C),
    /// The file is plain but a column was chosen twice: the choice, for the general path.
    Chosen(Vec<usize>, Vec<usize>),
}

/// Reads a CSV file by the fast path when it is plain; hands `choose` back otherwise (before
/// calling it), so that the caller reads the file by the general path.
pub(crate) fn read_plain<C>(path: &Path, choose: C) -> Result<Plain<C>, ImportError>
where
    C: FnOnce(&[String]) -> Result<(Vec<usize>, Vec<usize>), ImportError>,
{
    let io_err = |source| ImportError::Io {
        file: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(io_err)?;
    let size = file.metadata().map_err(io_err)?.len();
    let mut head = vec![0u8; usize::try_from(size.min(SPLIT_FROM)).unwrap_or(0)];
    let got = read_full(&mut file, &mut head).map_err(io_err)?;
    head.truncate(got);
    let Some((header, body_start)) = header_of(&head, size) else {
        return Ok(Plain::Other(choose));
    };
    drop(head);
    if header.iter().all(String::is_empty) {
        return Err(ImportError::Empty {
            file: path.to_owned(),
        });
    }
    let bounds = split(&mut file, body_start, size).map_err(io_err)?;
    drop(file);
    let surveys: Vec<Option<usize>> = on_threads(&bounds, |&(a, b)| survey(path, a, b))
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(io_err)?;
    let Some(lines) = surveys.into_iter().collect::<Option<Vec<usize>>>() else {
        return Ok(Plain::Other(choose));
    };
    let (text_cols, num_cols) = choose(&header)?;
    let Some(roles) = roles(&header, &text_cols, &num_cols) else {
        return Ok(Plain::Chosen(text_cols, num_cols));
    };

    let total: usize = lines.iter().sum();
    let k = num_cols.len();
    // Zeroed by the allocator, lazily: each page is touched first by the thread that fills it.
    let mut numbers = vec![0.0; total * k];
    let mut cols: Vec<Vec<&mut [f64]>> = bounds.iter().map(|_| Vec::with_capacity(k)).collect();
    if total > 0 {
        for col in numbers.chunks_mut(total) {
            let mut rest = col;
            for (p, &l) in lines.iter().enumerate() {
                let (mine, after) = rest.split_at_mut(l);
                cols[p].push(mine);
                rest = after;
            }
        }
    } else {
        for c in &mut cols {
            c.extend((0..k).map(|_| &mut [][..]));
        }
    }
    let mut first_line = 2;
    let jobs: Vec<Job<'_>> = bounds
        .iter()
        .zip(&lines)
        .zip(cols)
        .map(|((&range, &l), cols)| {
            let job = Job {
                range,
                first_line,
                lines: l,
                cols,
            };
            first_line += l;
            job
        })
        .collect();
    let ctx = Ctx {
        path,
        header: &header,
        roles: &roles,
        texts: text_cols.len(),
    };
    let parts: Vec<Part> = on_threads_owned(jobs, |job| parse_part(&ctx, job))
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(io_err)?;

    let n: usize = parts.iter().map(|p| p.rows.len()).sum();
    if n < total {
        // Blank lines were skipped: close the gaps they left in each column.
        let mut dst = 0;
        for j in 0..k {
            let mut src = j * total;
            for (p, &l) in parts.iter().zip(&lines) {
                let r = p.rows.len();
                numbers.copy_within(src..src + r, dst);
                dst += r;
                src += l;
            }
        }
        numbers.truncate(n * k);
        numbers.shrink_to_fit();
    }
    let mut rows = Vec::with_capacity(n);
    let mut text: Vec<Vec<String>> = (0..text_cols.len())
        .map(|_| Vec::with_capacity(n))
        .collect();
    let mut errors = RowErrors::new(path);
    for mut p in parts {
        rows.append(&mut p.rows);
        for (t, pt) in text.iter_mut().zip(&mut p.text) {
            t.append(pt);
        }
        errors.append(p.errors);
    }
    Ok(Plain::Read(WideColumns {
        file: path.to_owned(),
        header,
        rows,
        text,
        numbers,
        errors,
    }))
}

/// The header of a plain file from the file's first bytes, and where its body starts; `None`
/// when the start is not plain (byte-order marks other than UTF-8's, a zip archive, a first line
/// that is blank, not UTF-8, holds a quote, or does not end within `head`).
fn header_of(head: &[u8], size: u64) -> Option<(Vec<String>, u64)> {
    let bom = usize::from(head.starts_with(b"\xEF\xBB\xBF")) * 3;
    let rest = &head[bom..];
    let (line, next) = match memchr::memchr(b'\n', rest) {
        Some(e) => (&rest[..e], bom + e + 1),
        None if head.len() as u64 == size => (rest, head.len()),
        None => return None,
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() || memchr::memchr2(b'"', b'\r', line).is_some() {
        return None;
    }
    let line = std::str::from_utf8(line).ok()?;
    if line.starts_with('\u{feff}') {
        return None;
    }
    let header: Vec<String> = line.split(',').map(|h| h.trim().to_owned()).collect();
    // A title or a note above the header: the general path finds the header below it.
    if header.iter().filter(|h| !h.is_empty()).count() < 2 {
        return None;
    }
    Some((header, next as u64))
}

/// Cuts `[start, end)` at line ends into parts for the threads.
fn split(file: &mut File, start: u64, end: u64) -> std::io::Result<Vec<(u64, u64)>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_PARTS));
    if end - start < SPLIT_FROM || threads < 2 {
        return Ok(vec![(start, end)]);
    }
    let mut cuts = vec![start];
    let mut probe = vec![0u8; 1 << 16];
    for t in 1..threads {
        let at = start + (end - start) * t as u64 / threads as u64;
        if at <= *cuts.last().unwrap_or(&start) {
            continue;
        }
        file.seek(SeekFrom::Start(at))?;
        let got = read_full(file, &mut probe)?;
        if let Some(p) = memchr::memchr(b'\n', &probe[..got]) {
            let cut = at + p as u64 + 1;
            if cut < end {
                cuts.push(cut);
            }
        }
    }
    cuts.push(end);
    Ok(cuts.windows(2).map(|w| (w[0], w[1])).collect())
}

/// Checks that `[start, end)` is plain; returns its number of lines, or `None` when not plain.
fn survey(path: &Path, start: u64, end: u64) -> std::io::Result<Option<usize>> {
    let mut lines = 0;
    let mut plain = true;
    let whole = blocks(path, start, end, |block| {
        plain = std::str::from_utf8(block).is_ok();
        for p in memchr::memchr3_iter(b'\n', b'\r', b'"', block) {
            match block[p] {
                b'\n' => lines += 1,
                b'\r' if block.get(p + 1).is_none_or(|&b| b == b'\n') => {}
                _ => plain = false,
            }
        }
        if !block.ends_with(b"\n") {
            lines += 1;
        }
        plain
    })?;
    Ok((whole && plain).then_some(lines))
}

/// Calls `f` with successive blocks of `[start, end)` of the file, each ending at a line end
/// (except the last, which ends at `end`), until `f` returns false. Returns whether the whole
/// range was seen.
fn blocks(
    path: &Path,
    start: u64,
    end: u64,
    mut f: impl FnMut(&[u8]) -> bool,
) -> std::io::Result<bool> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut left = usize::try_from(end - start).unwrap_or(usize::MAX);
    let mut buf = vec![0u8; BLOCK.min(left)];
    let mut filled = 0;
    while left > 0 || filled > 0 {
        if filled == buf.len() {
            // One line longer than the buffer.
            buf.resize(buf.len() * 2, 0);
        }
        let want = (buf.len() - filled).min(left);
        let got = read_full(&mut file, &mut buf[filled..filled + want])?;
        left = if got < want { 0 } else { left - got };
        filled += got;
        let cut = if left == 0 {
            filled
        } else {
            match memchr::memrchr(b'\n', &buf[..filled]) {
                Some(p) => p + 1,
                None => continue,
            }
        };
        if !f(&buf[..cut]) {
            return Ok(false);
        }
        buf.copy_within(cut..filled, 0);
        filled -= cut;
    }
    Ok(true)
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The role of each column of the file (the header's and one for anything beyond), or `None`
/// when a column is chosen twice.
fn roles(header: &[String], text_cols: &[usize], num_cols: &[usize]) -> Option<Vec<Role>> {
    let mut roles: Vec<Role> = header
        .iter()
        .map(|h| {
            if h.is_empty() {
                Role::Unnamed
            } else {
                Role::Ignore
            }
        })
        .collect();
    let chosen = text_cols
        .iter()
        .enumerate()
        .map(|(t, &c)| (c, Role::Text(t)))
        .chain(
            num_cols
                .iter()
                .enumerate()
                .map(|(j, &c)| (c, Role::Number(j))),
        );
    for (c, role) in chosen {
        match roles.get_mut(c) {
            Some(r @ (Role::Ignore | Role::Unnamed)) => *r = role,
            _ => return None,
        }
    }
    Some(roles)
}

/// What every part's parser shares.
struct Ctx<'a> {
    path: &'a Path,
    header: &'a [String],
    roles: &'a [Role],
    texts: usize,
}

/// One part of the file to parse, and its rows of every number column.
struct Job<'a> {
    range: (u64, u64),
    first_line: usize,
    lines: usize,
    cols: Vec<&'a mut [f64]>,
}

/// The rows of one part besides their numbers.
struct Part {
    rows: Vec<usize>,
    text: Vec<Vec<String>>,
    errors: RowErrors,
}

fn parse_part(ctx: &Ctx<'_>, job: Job<'_>) -> std::io::Result<Part> {
    let Job {
        range: (start, end),
        first_line,
        lines,
        mut cols,
    } = job;
    let mut part = Part {
        rows: Vec::with_capacity(lines),
        text: (0..ctx.texts).map(|_| Vec::with_capacity(lines)).collect(),
        errors: RowErrors::new(ctx.path),
    };
    let mut number = first_line;
    let mut changed = false;
    blocks(ctx.path, start, end, |block| {
        let mut from = 0;
        while from < block.len() {
            let to = memchr::memchr(b'\n', &block[from..]).map_or(block.len(), |e| from + e);
            let line = &block[from..to];
            from = to + 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let row = number;
            number += 1;
            if line.first().is_none_or(|b| !b.is_ascii_alphanumeric())
                && line.split(|&b| b == b',').all(blank)
            {
                continue;
            }
            if part.rows.len() == lines {
                // More lines than the first pass counted.
                changed = true;
                return false;
            }
            parse_line(ctx, line, row, &mut cols, &mut part);
        }
        true
    })?;
    if changed {
        return Err(std::io::Error::other("the file changed while it was read"));
    }
    Ok(part)
}

/// Parses the fields of one non-blank line (row number `row`) into the next row of `part`.
fn parse_line(ctx: &Ctx<'_>, line: &[u8], row: usize, cols: &mut [&mut [f64]], part: &mut Part) {
    let r = part.rows.len();
    let mut pos = 0;
    let mut i = 0;
    loop {
        let rest = &line[pos..];
        let used = match ctx.roles.get(i).copied().unwrap_or(Role::Unnamed) {
            Role::Number(j) => {
                let fast = simple_decimal(rest).or_else(|| {
                    fast_float2::parse_partial::<f64, _>(rest)
                        .ok()
                        .filter(|&(x, used)| {
                            x.is_finite() && rest.get(used).is_none_or(|&b| b == b',')
                        })
                });
                let (x, used) = match fast {
                    Some(parsed) => parsed,
                    None => {
                        let used = field_end(rest);
                        let x =
                            number_or_error(&rest[..used], row, &ctx.header[i], &mut part.errors);
                        (x, used)
                    }
                };
                cols[j][r] = x;
                used
            }
            Role::Text(t) => {
                let used = field_end(rest);
                part.text[t].push(text_of(&rest[..used]));
                used
            }
            Role::Ignore => field_end(rest),
            Role::Unnamed => {
                let used = field_end(rest);
                if !blank(&rest[..used]) {
                    part.errors.push_at(
                        row,
                        format!("column {}", i + 1),
                        "a value in a column without a header",
                    );
                }
                used
            }
        };
        i += 1;
        pos += used + 1;
        if pos > line.len() {
            break;
        }
    }
    // Cells missing at the end of a short line are empty.
    for role in ctx.roles.iter().skip(i) {
        match *role {
            Role::Number(j) => cols[j][r] = f64::NAN,
            Role::Text(t) => part.text[t].push(String::new()),
            Role::Ignore | Role::Unnamed => {}
        }
    }
    part.rows.push(row);
}

/// Powers of ten that are exact as `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The usual number cell, `[-]digits[.digits]` ended by a comma or the end of `s`: its value
/// and length, or `None` for anything else (which the general parsers handle). Exact, as
/// Rust's parser: with at most 2^53 as digits and at most 22 decimals, both the digits and the
/// power of ten are exact `f64`s, and their quotient is rounded once, correctly (Clinger's fast
/// path).
fn simple_decimal(s: &[u8]) -> Option<(f64, usize)> {
    let neg = s.first() == Some(&b'-');
    let mut i = usize::from(neg);
    let mut digits: u64 = 0;
    let mut count = 0;
    let mut decimals = 0;
    let mut point = false;
    while let Some(&b) = s.get(i) {
        if b.is_ascii_digit() {
            if count == 19 {
                return None;
            }
            digits = digits * 10 + u64::from(b - b'0');
            count += 1;
            decimals += usize::from(point);
        } else if b == b'.' && !point {
            point = true;
        } else if b == b',' {
            break;
        } else {
            return None;
        }
        i += 1;
    }
    if count == 0 || digits > 1 << 53 || decimals >= POW10.len() {
        return None;
    }
    let x = digits as f64 / POW10[decimals];
    Some((if neg { -x } else { x }, i))
}

fn field_end(rest: &[u8]) -> usize {
    memchr::memchr(b',', rest).unwrap_or(rest.len())
}

/// The number in a cell that the fast parser did not take: `NaN` when empty, else parsed as
/// Rust parses it, or `NaN` and an error at the cell.
fn number_or_error(field: &[u8], row: usize, column: &str, errors: &mut RowErrors) -> f64 {
    let f = field.trim_ascii();
    if f.is_empty() {
        return f64::NAN;
    }
    match std::str::from_utf8(f)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
    {
        Some(x) if x.is_finite() => x,
        _ => {
            let t = text_of(f);
            if !t.is_empty() {
                errors.push_at(row, column, format!("{t:?} is not a number"));
            }
            f64::NAN
        }
    }
}

/// Runs `f` on each item, the first on this thread and the others on their own.
fn on_threads<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let f = &f;
    std::thread::scope(|s| {
        let others: Vec<_> = items[1.min(items.len())..]
            .iter()
            .map(|item| s.spawn(move || f(item)))
            .collect();
        let mut out: Vec<R> = items.first().map(f).into_iter().collect();
        for h in others {
            out.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out
    })
}

/// [`on_threads`] for items that are moved into their thread.
fn on_threads_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let f = &f;
    let mut items = items.into_iter();
    let first = items.next();
    std::thread::scope(|s| {
        let others: Vec<_> = items.map(|item| s.spawn(move || f(item))).collect();
        let mut out: Vec<R> = first.map(f).into_iter().collect();
        for h in others {
            out.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_decimals_are_parsed_exactly_as_rust_parses_them() {
        for t in [
            "-0",
            "5.",
            ".5",
            "0.1",
            "111.38",
            "-45.36",
            "9007199254740992",
            "0.3",
        ] {
            let (x, used) = simple_decimal(t.as_bytes()).expect(t);
            assert_eq!(used, t.len());
            assert_eq!(x.to_bits(), t.parse::<f64>().expect(t).to_bits(), "{t}");
        }
        assert_eq!(simple_decimal(b"1.5,2"), Some((1.5, 3)));
        for t in [
            "",
            "-",
            ".",
            "+1",
            "1e5",
            " 1",
            "1 ",
            "1.2.3",
            "9007199254740993",
            "12345678901234567890",
            "0.00000000000000000000001",
            "inf",
        ] {
            assert_eq!(simple_decimal(t.as_bytes()), None, "{t:?}");
        }
        // Pseudo-random decimals of every length and point position.
        let mut bits = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..300_000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let len = 1 + (bits % 19) as usize;
            let mut t: String = (0..len)
                .map(|k| char::from(b'0' + ((bits >> (k * 3)) % 10) as u8))
                .collect();
            t.insert((bits >> 60) as usize % (len + 1), '.');
            if bits & 1 == 1 {
                t.insert(0, '-');
            }
            let want = t.parse::<f64>().expect("a decimal");
            if let Some((x, _)) = simple_decimal(t.as_bytes()) {
                assert_eq!(x.to_bits(), want.to_bits(), "{t}");
            }
        }
    }
}
