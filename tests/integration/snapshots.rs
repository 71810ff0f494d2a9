//! Snapshot tests (insta) of the rendered tables, colour off, on the project's captures.
//! Every number in them was checked against tshark's view of the same frames (see
//! `own_captures.rs` for the hand-worked ones).

use super::support::project_dir;
use assert_cmd::Command;

fn render(capture: &str, args: &[&str]) -> String {
    let out = Command::cargo_bin("layerscope")
        .unwrap()
        .arg("read")
        .arg(project_dir().join("captures").join(capture))
        .args(["--color", "never", "--width", "200"])
        .args(args)
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b'), "colour escape with --color never");
    text
}

#[test]
fn packets_table_http11_keepalive() {
    insta::assert_snapshot!(render("http11-keepalive.pcap", &["--view", "packets"]));
}

#[test]
fn packets_table_dns_udp() {
    insta::assert_snapshot!(render("dns-udp.pcap", &["--view", "packets"]));
}

#[test]
fn connection_tables_http11_keepalive() {
    insta::assert_snapshot!(render("http11-keepalive.pcap", &[]));
}

#[test]
fn connection_tables_http10_close() {
    insta::assert_snapshot!(render("http10-close.pcap", &[]));
}

#[test]
fn connection_table_refused() {
    insta::assert_snapshot!(render("refused.pcap", &[]));
}

#[test]
fn conns_view_http10_close() {
    insta::assert_snapshot!(render("http10-close.pcap", &["--view", "conns"]));
}

#[test]
fn elided_rows_keep_handshake_and_teardown() {
    insta::assert_snapshot!(render("http11-keepalive.pcap", &["--rows-per-conn", "8"]));
}

#[test]
fn tls_view_tls12_and_tls13() {
    let mut both = render("tls12.pcap", &["--view", "tls"]);
    both.push_str(&render("tls13.pcap", &["--view", "tls"]));
    insta::assert_snapshot!(both);
}

/// `--teach` in an 80-column terminal: the connection tables, the "What happened" lines and
/// the closing story (handshake, teardown, refused, keep-alive, DNS).
fn teach(capture: &str) -> String {
    let out = Command::cargo_bin("layerscope")
        .unwrap()
        .arg("read")
        .arg(project_dir().join("captures").join(capture))
        .args(["--color", "never", "--width", "80", "--teach"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn teach_http11_keepalive() {
    insta::assert_snapshot!(teach("http11-keepalive.pcap"));
}

#[test]
fn teach_refused_and_dns() {
    let mut both = teach("refused.pcap");
    both.push_str(&teach("dns-udp.pcap"));
    insta::assert_snapshot!(both);
}

/// `explain` of a TLS 1.3 ClientHello and of a TLS 1.2 ServerHello + Certificate flight
/// (SNI, ALPN, versions and ciphers as `tshark -V -r captures/tls13.pcap -Y frame.number==4`
/// shows them).
#[test]
fn explain_tls_hellos() {
    let explain = |capture: &str, frame: &str| {
        let out = Command::cargo_bin("layerscope")
            .unwrap()
            .arg("explain")
            .arg(project_dir().join("captures").join(capture))
            .args(["--frame", frame, "--color", "never", "--width", "80"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let mut both = explain("tls13.pcap", "4");
    both.push_str(&explain("tls12.pcap", "6"));
    insta::assert_snapshot!(both);
}

/// `layerscope SUBCOMMAND CAPTURE ARGS…` with colour off, its stdout.
fn run_cmd(subcommand: &str, capture: &str, args: &[&str]) -> String {
    let out = Command::cargo_bin("layerscope")
        .unwrap()
        .arg(subcommand)
        .arg(project_dir().join("captures").join(capture))
        .args(["--color", "never"])
        .args(args)
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{subcommand} {capture}");
    String::from_utf8(out.stdout).unwrap()
}

/// A connection inside the kernel's VXLAN: its header says it travels inside VXLAN vni 42
/// between the underlay addresses and names the tunnel's own UDP connection.
#[test]
fn connection_table_inside_vxlan() {
    insta::assert_snapshot!(render("tunnel-vxlan.pcap", &[]));
}

/// The tunnel column of `--view conns`, one capture per tunnel kind (GRE key 42, IPv4 in
/// IPv4, IPv6 in IPv4, Geneve vni 7).
#[test]
fn conns_view_tunnel_column() {
    let mut all = String::new();
    for capture in [
        "tunnel-gre.pcap",
        "tunnel-ipip.pcap",
        "tunnel-sit.pcap",
        "tunnel-geneve.pcap",
    ] {
        all.push_str(&render(capture, &["--view", "conns"]));
    }
    insta::assert_snapshot!(all);
}

/// `--teach` says in one line what the encapsulation is for; the ladder and follow work on
/// the connection inside the tunnel; explain shows the whole stack again inside it.
#[test]
fn teach_ladder_follow_explain_inside_tunnels() {
    let mut all = run_cmd("read", "tunnel-geneve.pcap", &["--width", "80", "--teach"]);
    all.push_str(&run_cmd("ladder", "tunnel-gre.pcap", &["--conn", "0"]));
    all.push_str(&run_cmd("follow", "tunnel-sit.pcap", &["--conn", "0"]));
    all.push_str(&run_cmd(
        "explain",
        "tunnel-vxlan.pcap",
        &["--frame", "4", "--width", "80"],
    ));
    insta::assert_snapshot!(all);
}
