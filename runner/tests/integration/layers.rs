//! The layering rule of `src/lib.rs`: every `crate::` path in the runner's code points down.
//! A module may use its own submodules, and otherwise only modules that the nearest common
//! ancestor declares before the module's own branch (`lib.rs`: util, config, stores, terraform,
//! commands, cli; each `mod.rs` likewise). Test modules (`#[cfg(test)]`, at the end of a file)
//! are exempt.
use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};

/// A module path below the crate root, e.g. `["commands", "status", "human"]`.
type ModulePath = Vec<String>;

/// The crate as the checker sees it: each module's non-test source, and the order in which
/// each parent declares its submodules.
struct Crate {
    sources: BTreeMap<ModulePath, String>,
    declared: BTreeMap<ModulePath, Vec<String>>,
}

impl Crate {
    fn read(src: &Path) -> Result<Crate> {
        let mut files = BTreeMap::new();
        collect(src, src, &mut files)?;
        Ok(Crate::from_files(files))
    }

    /// `files`: path relative to `src/` → content.
    fn from_files(files: BTreeMap<String, String>) -> Crate {
        let mut sources = BTreeMap::new();
        let mut declared = BTreeMap::new();
        for (file, text) in files {
            let Some(module) = module_of(&file) else {
                continue;
            };
            let code = match text.find("#[cfg(test)]") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            let children: Vec<String> = code
                .lines()
                .filter_map(|l| {
                    let l = l.trim().strip_prefix("pub ").unwrap_or(l.trim());
                    l.strip_prefix("mod ")?
                        .strip_suffix(';')
                        .map(str::to_string)
                })
                .collect();
            declared.insert(module.clone(), children);
            sources.insert(module, code);
        }
        Crate { sources, declared }
    }

    /// The module a `crate::…` path names: its longest prefix that is a module.
    fn resolve(&self, path: &[String]) -> ModulePath {
        (0..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|prefix| self.sources.contains_key(prefix))
            .unwrap_or_default()
    }

    /// Every `crate::` edge as (from, to), in source order.
    fn edges(&self) -> Vec<(ModulePath, ModulePath)> {
        let mut edges = Vec::new();
        for (module, code) in &self.sources {
            for path in crate_paths(code) {
                edges.push((module.clone(), self.resolve(&path)));
            }
        }
        edges
    }

    /// Why `from` may not use `to`, or None when the edge points down.
    fn violation(&self, from: &ModulePath, to: &ModulePath) -> Option<String> {
        if to.starts_with(from) {
            return None; // itself or one of its submodules
        }
        let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
        if common == to.len() {
            return Some("uses a module that contains it".into());
        }
        let siblings = self.declared.get(&from[..common])?;
        let rank = |name: &String| siblings.iter().position(|s| s == name);
        match (rank(&from[common]), rank(&to[common])) {
            (Some(a), Some(b)) if b < a => None,
            _ => Some(format!(
                "`{}` is not declared before `{}` in {}",
                to[common],
                from[common],
                declaring_file(&from[..common])
            )),
        }
    }

    fn violations(&self) -> Vec<String> {
        self.edges()
            .into_iter()
            .filter_map(|(from, to)| {
                let why = self.violation(&from, &to)?;
                Some(format!(
                    "crate::{} uses crate::{}: {why}",
                    from.join("::"),
                    to.join("::")
                ))
            })
            .collect()
    }
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root)?.to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            files.insert(relative, text);
        }
    }
    Ok(())
}

/// `lib.rs` → [], `a/mod.rs` → [a], `a/b.rs` → [a, b]; `main.rs` (the binary) → None.
fn module_of(file: &str) -> Option<ModulePath> {
    let file = file.strip_suffix(".rs")?;
    let mut parts: Vec<String> = file.split('/').map(str::to_string).collect();
    match parts.last().map(String::as_str) {
        Some("main") if parts.len() == 1 => return None,
        Some("lib") if parts.len() == 1 => parts.clear(),
        Some("mod") => {
            parts.pop();
        }
        _ => {}
    }
    Some(parts)
}

fn declaring_file(module: &[String]) -> String {
    match module {
        [] => "src/lib.rs".into(),
        _ => format!("src/{}/mod.rs", module.join("/")),
    }
}

/// Every path that starts with `crate::`, with `use crate::a::{b, c::{d}}` groups expanded.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let code: String = code
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue; // e.g. `tailscale_manager_crate::`
        }
        let end = tree_end(rest);
        expand(&rest[..end], &[], &mut paths);
        rest = &rest[end..];
    }
    paths
}

/// Where a use-tree starting at `text` ends: at the first character outside identifiers,
/// `::`, and balanced braces.
fn tree_end(text: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            c if c.is_alphanumeric() || c == '_' || c == ':' => {}
            _ => return i,
        }
    }
    text.len()
}

/// Expands `a::b::{c, d::{e, f}}` (after `crate::`) into paths.
fn expand(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    match tree.find('{') {
        None => {
            let mut path = prefix.to_vec();
            path.extend(
                tree.split("::")
                    .map(|s| s.trim().split(" as ").next().unwrap_or("").to_string())
                    .filter(|s| !s.is_empty() && s != "self" && s != "*"),
            );
            out.push(path);
        }
        Some(open) => {
            let mut path = prefix.to_vec();
            path.extend(
                tree[..open]
                    .split("::")
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&inner[start..i], &path, out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if !inner[start..].trim().is_empty() {
                expand(&inner[start..], &path, out);
            }
        }
    }
}

#[test]
fn every_crate_path_in_the_runner_points_down() -> Result<()> {
    let krate = Crate::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))?;
    let top: Vec<&str> = krate.declared[&Vec::new()]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        top,
        ["util", "config", "stores", "terraform", "commands", "cli"],
        "lib.rs declares the six layers, lowest first"
    );
    let edges = krate.edges();
    let edge = |from: &str, to: &str| {
        let split = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
        (split(from), split(to))
    };
    assert!(
        edges.contains(&edge("commands::apply", "stores::backup"))
            && edges.contains(&edge("terraform::process", "util::signals")),
        "the checker sees `use` lines and inline paths ({} edges)",
        edges.len()
    );
    let violations = krate.violations();
    assert!(
        violations.is_empty(),
        "these edges point up or sideways:\n{}",
        violations.join("\n")
    );
    Ok(())
}

#[test]
fn the_checker_reports_upward_and_sideways_edges() {
    let files = [
        ("lib.rs", "pub mod util;\npub mod cli;\n"),
        ("util/mod.rs", "pub mod a;\npub mod b;\n"),
        (
            "util/a.rs",
            "use crate::util::{b::Thing, a::helper};\nfn f() { crate::cli::main(); }\n",
        ),
        (
            "util/b.rs",
            "use crate::util::a;\nfn h() { crate::util::helper(); }\n#[cfg(test)]\nuse crate::cli;\n",
        ),
        (
            "cli/mod.rs",
            "use crate::util::{self, a};\nfn g() { crate::cli::x(); }\n",
        ),
        ("main.rs", "fn main() { crate::cli::main() }\n"),
    ];
    let krate = Crate::from_files(
        files
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect(),
    );
    assert_eq!(
        krate.violations(),
        [
            "crate::util::a uses crate::util::b: `b` is not declared before `a` in src/util/mod.rs",
            "crate::util::a uses crate::cli: `cli` is not declared before `util` in src/lib.rs",
            "crate::util::b uses crate::util: uses a module that contains it",
        ],
        "a sibling declared later, a higher layer and a parent are refused; lower layers, earlier \
         siblings, submodules, test code and main.rs are not"
    );
}

#[test]
fn every_print_goes_through_the_console_module() -> Result<()> {
    // `println!` and friends panic when stdout or stderr is closed (a reader that went away),
    // which would abort a run before its record; util/console.rs never does.
    let krate = Crate::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))?;
    let mut found = Vec::new();
    for (module, code) in &krate.sources {
        for (i, line) in code.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for banned in [
                "println!",
                "print!",
                "eprintln!",
                "eprint!",
                "dbg!",
                "io::stdout()",
                "io::stderr()",
            ] {
                let whole_word = code.match_indices(banned).any(|(at, _)| {
                    !code[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if whole_word && module != &["util", "console"] {
                    found.push(format!("{}:{}: {}", module.join("::"), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "print through util/console.rs (outln!, errln!, payload):\n{}",
        found.join("\n")
    );
    Ok(())
}
