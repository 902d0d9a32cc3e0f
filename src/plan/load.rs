//! Reading PLAN.md: the text, or why there is none to show.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use super::markdown::{parse, PlanDoc};

/// The largest plan shown. A plan is a page or two; a file this big is not
/// one, and parsing and wrapping it on every change would stall the pane.
pub const MAX_PLAN_BYTES: u64 = 4 << 20;

/// What reading the plan file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanLoad {
    Loaded(PlanDoc),
    /// There is no file at the path (yet).
    Missing,
    /// The file is there but cannot be shown; the text says why.
    Unreadable(String),
}

/// Reads and parses the plan at `path`.
pub fn load(path: &Path) -> PlanLoad {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == ErrorKind::NotFound => return PlanLoad::Missing,
        Err(err) => return PlanLoad::Unreadable(format!("it cannot be opened: {err}")),
    };
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return PlanLoad::Unreadable("it is a directory, not a file".to_owned());
    }
    let mut bytes = Vec::new();
    if let Err(err) = file.take(MAX_PLAN_BYTES + 1).read_to_end(&mut bytes) {
        return PlanLoad::Unreadable(format!("it cannot be read: {err}"));
    }
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        return PlanLoad::Unreadable(format!(
            "it is larger than {} MiB, the most this pane shows",
            MAX_PLAN_BYTES >> 20
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => PlanLoad::Loaded(parse(text.strip_prefix('\u{feff}').unwrap_or(&text))),
        Err(err) => PlanLoad::Unreadable(format!(
            "it is not UTF-8 text (an invalid byte follows the first {} bytes)",
            err.utf8_error().valid_up_to()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("loop-tui-plan-load-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn loads_parses_and_explains_what_it_cannot_show() {
        let dir = temp_dir("cases");
        let path = dir.join("PLAN.md");
        assert_eq!(load(&path), PlanLoad::Missing);

        std::fs::write(&path, "\u{feff}- [x] one\n- [ ] two\n").unwrap();
        let PlanLoad::Loaded(doc) = load(&path) else {
            panic!("a markdown file loads");
        };
        assert_eq!(doc.progress.total, 2);
        assert_eq!(doc.lines[0].text(), "☑ one", "a byte order mark is skipped");

        std::fs::write(&path, b"ok \xff\xfe bad").unwrap();
        match load(&path) {
            PlanLoad::Unreadable(why) => assert!(why.contains("not UTF-8"), "{why}"),
            other => panic!("invalid UTF-8 is unreadable, got {other:?}"),
        }

        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        match load(&path) {
            PlanLoad::Unreadable(why) => assert!(why.contains("directory"), "{why}"),
            other => panic!("a directory is unreadable, got {other:?}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
