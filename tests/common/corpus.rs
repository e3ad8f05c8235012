//! The hostile-input corpus (tests/corpus/bad_inputs.txt) and the overlong strings added to it, shared by the
//! tests of the server functions and of the public API.

/// Decodes the corpus escapes: \0, \xHH, \u{H..}, \n, \r, \t, \\.
fn unescape(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('\0'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(char::from(
                    u8::from_str_radix(&hex, 16).expect("\\x escape"),
                ));
            }
            Some('u') => {
                assert_eq!(chars.next(), Some('{'));
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                out.push(
                    char::from_u32(u32::from_str_radix(&hex, 16).expect("\\u escape"))
                        .expect("char"),
                );
            }
            other => panic!("unknown escape \\{other:?} in corpus line {line:?}"),
        }
    }
    out
}

/// The inputs of tests/corpus/bad_inputs.txt: every line but the empty ones and the comments, which start with
/// `# ` (a hash and a space; `#fragment` is an input).
pub fn corpus_file() -> Vec<String> {
    include_str!("../corpus/bad_inputs.txt")
        .lines()
        .filter(|l| !l.starts_with("# ") && !l.is_empty())
        .map(unescape)
        .collect()
}

pub fn corpus() -> Vec<String> {
    let mut inputs = corpus_file();
    inputs.push("x".repeat(201));
    inputs.push("a".repeat(10_000));
    inputs.push(format!("{}@example.com", "j".repeat(5_000)));
    inputs.push("\u{202E}".repeat(1_000));
    inputs
}
