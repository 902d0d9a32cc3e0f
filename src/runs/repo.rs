//! Which repository a run belongs to: runs are kept per repository so that
//! `loop-tui runs` can say where each one happened.

use std::fs;
use std::path::{Path, PathBuf};

/// The longest repository name used as a directory name.
const MAX_NAME: usize = 64;

/// The name runs in `cwd` are filed under: the base name of the git
/// repository's top level when `cwd` is inside one (the main repository's,
/// for a linked worktree, so a `--worktree` run is filed with its
/// repository), else of `cwd` itself; made safe as a directory name.
pub fn repo_name(cwd: &Path) -> String {
    let root = git_toplevel(cwd).unwrap_or_else(|| cwd.to_path_buf());
    sanitize(
        &root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    )
}

/// The top level of the git repository containing `dir`, found by walking
/// up to the first `.git`. A `.git` file (a linked worktree) points into
/// the main repository's `.git/worktrees/NAME`, whose parent is returned.
fn git_toplevel(dir: &Path) -> Option<PathBuf> {
    let mut dir = Some(dir);
    while let Some(d) = dir {
        let git = d.join(".git");
        if git.is_dir() {
            return Some(d.to_path_buf());
        }
        if git.is_file() {
            return Some(main_worktree(&git).unwrap_or_else(|| d.to_path_buf()));
        }
        dir = d.parent();
    }
    None
}

/// For a worktree's `.git` file (`gitdir: /repo/.git/worktrees/NAME`), the
/// main repository's top level `/repo`.
fn main_worktree(git_file: &Path) -> Option<PathBuf> {
    let text = fs::read_to_string(git_file).ok()?;
    let gitdir = PathBuf::from(text.trim().strip_prefix("gitdir:")?.trim());
    let worktrees = gitdir.parent()?;
    if worktrees.file_name()? != "worktrees" {
        return None;
    }
    let dot_git = worktrees.parent()?;
    if dot_git.file_name()? != ".git" {
        return None;
    }
    dot_git.parent().map(Path::to_path_buf)
}

/// `name` as a safe directory name: letters, digits, `.`, `-` and `_` are
/// kept, anything else becomes `_`; no leading dot (no hidden or `..`
/// directories); at most [`MAX_NAME`] characters; `root` when nothing is left.
pub fn sanitize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed: String = cleaned
        .trim_start_matches('.')
        .chars()
        .take(MAX_NAME)
        .collect();
    if trimmed.is_empty() {
        "root".to_owned()
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::test_dir::TestDir;

    #[test]
    fn names_are_safe_directory_names() {
        assert_eq!(sanitize("loop-tui"), "loop-tui");
        assert_eq!(sanitize("my repo (copy)"), "my_repo__copy_");
        assert_eq!(sanitize("..."), "root");
        assert_eq!(sanitize(".hidden"), "hidden");
        assert_eq!(sanitize(""), "root");
        assert_eq!(sanitize("café"), "caf_");
        assert_eq!(sanitize(&"x".repeat(100)).len(), MAX_NAME);
    }

    #[test]
    fn a_directory_inside_a_repository_is_filed_under_the_repository() {
        let dir = TestDir::new("repo-name");
        let repo = dir.path().join("My Project");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("src/deep")).unwrap();
        assert_eq!(repo_name(&repo), "My_Project");
        assert_eq!(repo_name(&repo.join("src/deep")), "My_Project");
        // Outside any repository, the directory itself names the runs.
        let plain = dir.path().join("scratch");
        std::fs::create_dir_all(&plain).unwrap();
        assert_eq!(repo_name(&plain), "scratch");
        assert_eq!(repo_name(Path::new("/")), "root");
    }

    #[test]
    fn a_linked_worktree_is_filed_under_its_main_repository() {
        let dir = TestDir::new("repo-worktree");
        let repo = dir.path().join("proj");
        std::fs::create_dir_all(repo.join(".git/worktrees/proj.loop-tui-1")).unwrap();
        let worktree = dir.path().join("proj.loop-tui-1");
        std::fs::create_dir_all(&worktree).unwrap();
        std::fs::write(
            worktree.join(".git"),
            format!(
                "gitdir: {}\n",
                repo.join(".git/worktrees/proj.loop-tui-1").display()
            ),
        )
        .unwrap();
        assert_eq!(repo_name(&worktree), "proj");
        // A submodule's `.git` file points elsewhere: its own directory counts.
        let sub = dir.path().join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(".git"), "gitdir: ../proj/.git/modules/sub\n").unwrap();
        assert_eq!(repo_name(&sub), "sub");
    }
}
