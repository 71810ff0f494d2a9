//! The captures the project recorded itself (`captures/`), with hand-worked numbers.

use super::support::*;

#[test]
fn every_own_capture_reads() {
    for path in captures_in(&project_dir().join("captures")) {
        let c = run_file(&path);
        assert!(c.failed.is_none(), "{}: {:?}", path.display(), c.failed);
        assert!(!c.frames.is_empty(), "{}: no frames", path.display());
        assert!(
            c.frames.iter().all(|f| f.issue.is_none()),
            "{}: decode issues",
            path.display()
        );
    }
}
