//! Giving up root once the capture is open (like `tcpdump -Z`).
//!
//! An open capture socket keeps working after the process drops to an ordinary user: only
//! opening needs CAP_NET_RAW. Dropping early limits what a bug in a protocol parser could do.

use super::LiveError;
use nix::unistd::{geteuid, setgid, setgroups, setuid, User};

/// The user `drop_privileges` is usually given.
pub const DEFAULT_UNPRIVILEGED_USER: &str = "nobody";

/// Switches the whole process to `user` (supplementary groups, then group, then user: the
/// order that leaves no way back). Does nothing when the process is not root. Call it after
/// the capture is open.
pub fn drop_privileges(user: &str) -> Result<(), LiveError> {
    if !geteuid().is_root() {
        return Ok(());
    }
    let failed = |step: &'static str| {
        move |errno: nix::errno::Errno| LiveError::PrivilegeDrop {
            user: user.to_string(),
            step,
            source: std::io::Error::from(errno),
        }
    };
    let account = User::from_name(user)
        .map_err(failed("getpwnam"))?
        .ok_or_else(|| LiveError::UnknownUser {
            user: user.to_string(),
        })?;
    setgroups(&[account.gid]).map_err(failed("setgroups"))?;
    setgid(account.gid).map_err(failed("setgid"))?;
    setuid(account.uid).map_err(failed("setuid"))?;
    // Root must be gone for good: getting it back has to fail.
    if account.uid.is_root() {
        return Ok(());
    }
    if setuid(nix::unistd::Uid::from_raw(0)).is_ok() {
        return Err(LiveError::PrivilegeDrop {
            user: user.to_string(),
            step: "setuid (root could be regained)",
            source: std::io::Error::other("root could be regained"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{LiveOptions, LiveSource};
    use std::process::Command;

    const CHILD_ENV: &str = "LAYERSCOPE_PRIVILEGE_CHILD";

    #[test]
    fn unknown_user_is_an_error_when_root() {
        if !geteuid().is_root() {
            assert!(
                drop_privileges("no-such-user-xyz").is_ok(),
                "no-op when not root"
            );
            return;
        }
        let err = drop_privileges("no-such-user-xyz").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no user named \"no-such-user-xyz\" to drop privileges to"
        );
        assert!(geteuid().is_root(), "nothing was changed");
    }

    /// Runs in a child process (dropping privileges is for the whole process): opens lo,
    /// drops to nobody, checks the open capture still reads and a new one is refused.
    #[test]
    fn privilege_drop_child() {
        if std::env::var(CHILD_ENV).as_deref() != Ok("1") {
            return; // only meaningful when started by dropping_privileges_keeps_the_capture
        }
        let options = LiveOptions {
            read_timeout: std::time::Duration::from_millis(20),
            count: Some(1),
            duration: Some(std::time::Duration::from_secs(3)),
            ..LiveOptions::default()
        };
        let mut open = LiveSource::open("lo", &options).expect("open lo as root");
        drop_privileges(DEFAULT_UNPRIVILEGED_USER).expect("drop to nobody");
        assert_eq!(geteuid().as_raw(), 65534);
        assert_eq!(nix::unistd::getegid().as_raw(), 65534);
        // The capture opened before still works: make a frame and read it.
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp bind");
        sock.send_to(b"after drop", "127.0.0.1:9")
            .expect("udp send");
        let frame = open
            .next_live()
            .expect("read")
            .expect("a frame after the drop");
        assert_eq!(frame.number, 1);
        // A new capture is refused, with the how-to-grant message.
        let err = LiveSource::open("lo", &options).unwrap_err();
        println!("CHILD-ERROR: {err}");
        assert!(matches!(err, LiveError::NotPermitted { .. }), "{err:?}");
    }

    #[test]
    fn dropping_privileges_keeps_the_capture() {
        if !crate::capture::live::e2e::can_run_live() || !geteuid().is_root() {
            return;
        }
        let out = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "capture::privileges::tests::privilege_drop_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1")
            .output()
            .expect("run child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("1 passed"), "{stdout}");
        let exe = std::env::current_exe().unwrap().display().to_string();
        assert!(
            stdout.contains(&format!(
                "CHILD-ERROR: capturing on lo needs CAP_NET_RAW: run as root, or grant it \
                 once with sudo setcap cap_net_raw,cap_net_admin=eip {exe}"
            )),
            "{stdout}"
        );
    }
}
