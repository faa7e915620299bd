//! The `lzr` binary's command line: the original's flags as pipelines write them, our flags, campaign files,
//! and the errors a user sees. Runs the real binary; `--print-config` shows what a command line means.

use std::path::PathBuf;
use std::process::{Command, Output};

fn lzr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lzr")).args(args).output().expect("run lzr")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parses `--print-config` output (it must be a valid campaign file, i.e. TOML).
fn printed(args: &[&str]) -> toml::Table {
    let mut all = args.to_vec();
    all.push("--print-config");
    let o = lzr(&all);
    assert!(o.status.success(), "lzr {all:?} failed: {}", stderr(&o));
    stdout(&o).parse::<toml::Table>().expect("print-config is TOML")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("lzr-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
}

#[test]
fn help_lists_original_and_new_flags() {
    let o = lzr(&["--help"]);
    assert!(o.status.success());
    let text = stdout(&o);
    for needle in ["Original LZR flags", "original: -sendSYNs", "original: -rt", "--print-config", "--targets", "--device", "fingerprint", "selftest"] {
        assert!(text.contains(needle), "help lacks {needle}");
    }
    assert!(lzr(&["fingerprint", "--help"]).status.success());
    assert!(lzr(&["selftest", "--help"]).status.success());
}

#[test]
fn original_pipeline_flags_single_dash_go_style() {
    let t = printed(&[
        "-handshakes", "wait,http,tls", "-sendSYNs", "-sourceIP", "198.18.0.1", "-gatewayMac", "aa:bb:cc:dd:ee:ff",
        "-haf", "5", "-hafThreshold", "0.8", "-f", "out.json", "-feedZGrab", "-t", "3", "-rt", "2", "-rn", "2",
        "-c", "4", "-w", "2", "-pushDataOnly", "-onlyDataRecord", "-priorityFingerprint", "http", "-rate", "10", "-d",
    ]);
    assert_eq!(t["mode"].as_str(), Some("list"));
    assert_eq!(t["handshakes"].as_array().unwrap().len(), 3);
    assert_eq!(t["output"].as_str(), Some("out.json"));
    assert_eq!(t["feed_zgrab"].as_bool(), Some(true));
    assert_eq!(t["only_data_record"].as_bool(), Some(true));
    assert_eq!(t["push_data_only"].as_bool(), Some(true));
    assert_eq!(t["debug"].as_bool(), Some(true));
    assert_eq!(t["rate"].as_integer(), Some(10));
    assert_eq!(t["workers"].as_integer(), Some(2));
    let timers = t["timers"].as_table().unwrap();
    assert_eq!(timers["timeout_ms"].as_integer(), Some(3000));
    assert_eq!(timers["retransmit_delay_ms"].as_integer(), Some(2000));
    assert_eq!(timers["retransmits"].as_integer(), Some(2));
    assert_eq!(timers["cooldown_ms"].as_integer(), Some(4000));
    assert_eq!(t["haf"]["probes"].as_integer(), Some(5));
    assert_eq!(t["haf"]["threshold"].as_float(), Some(0.8));
    assert_eq!(t["network"]["source_ipv4"].as_str(), Some("198.18.0.1"));
    assert_eq!(t["network"]["gateway_mac"].as_str(), Some("aa:bb:cc:dd:ee:ff"));
}

#[test]
fn go_equals_and_double_dash_forms() {
    let t = printed(&["--handshakes=tls,http", "-f=-", "--t=7", "-feedZGrab=true", "-onlyDataRecord=false", "--w", "3"]);
    assert_eq!(t["handshakes"].as_array().unwrap()[0].as_str(), Some("tls"));
    assert_eq!(t["output"].as_str(), Some("-"));
    assert_eq!(t["timers"]["timeout_ms"].as_integer(), Some(7000));
    assert_eq!(t["feed_zgrab"].as_bool(), Some(true));
    assert_eq!(t["only_data_record"].as_bool(), Some(false));
    assert_eq!(t["workers"].as_integer(), Some(3));
    assert_eq!(t["mode"].as_str(), Some("zmap"));
}

#[test]
fn dryrun_ipv6_and_force_all() {
    let t = printed(&["-dryrun", "-ipv6", "-sourceIP", "2001:db8::1", "-forceAllHandshakes", "-haf", "5", "-f", "-"]);
    assert_eq!(t["mode"].as_str(), Some("dryrun"));
    assert_eq!(t["ipv6"].as_bool(), Some(true));
    assert_eq!(t["network"]["source_ipv6"].as_str(), Some("2001:db8::1"));
    // As the original: -forceAllHandshakes turns HyperACKtive filtering off.
    assert_eq!(t["haf"]["probes"].as_integer(), Some(0));
}

#[test]
fn send_interface_maps_to_af_packet_with_a_note() {
    let o = lzr(&["-sendInterface", "veth-x", "-cpuprofile", "cpu.out", "-f", "-", "--print-config"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("device = \"net_af_packet0,iface=veth-x\""));
    assert!(stderr(&o).contains("-sendInterface veth-x means --device"));
    assert!(stderr(&o).contains("-cpuprofile (Go pprof) is ignored"));
}

#[test]
fn generator_flags_and_the_default_blocklist() {
    let base = ["--targets", "198.18.0.0/24", "--ports", "80,443", "--source-ip", "198.18.0.1", "-f", "-"];
    let o = lzr(&[&base[..], &["--print-config"]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("generator.targets (--targets)"), "{}", stderr(&o));
    assert!(stderr(&o).contains("filter.allow"), "{}", stderr(&o));
    let t = printed(&[&base[..], &["--allow", "198.18.0.0/15", "--shard", "1/2", "--seed", "9", "--plan", "port-aware"]].concat());
    assert_eq!(t["mode"].as_str(), Some("generator"));
    assert_eq!(t["plan"].as_str(), Some("port-aware"));
    assert_eq!(t["generator"]["shard"].as_str(), Some("1/2"));
    assert_eq!(t["filter"]["allow"].as_array().unwrap()[0].as_str(), Some("198.18.0.0/15"));
}

#[test]
fn errors_are_exit_2_and_name_key_and_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["-handshakes", "http,ssl", "-f", "-"], "handshakes (-handshakes): handshake not found: \"ssl\""),
        (&["-priorityFingerprint", "ssl", "-f", "-"], "priority_fingerprint (-priorityFingerprint)"),
        (&["-hafThreshold", "1.5", "-f", "-"], "haf.threshold (-hafThreshold): must be between 0 and 1"),
        (&["-rate", "0", "-f", "-"], "rate (-rate)"),
        (&["-sendSYNs", "-f", "-"], "network.source_ipv4 (-sourceIP)"),
        (&["-gatewayMac", "zz", "-f", "-"], "network.gateway_mac (-gatewayMac)"),
        (&["--shard", "0/2", "--targets", "1.1.1.1", "--ports", "80", "--source-ip", "1.2.3.4", "-f", "-"], "generator.seed (--seed)"),
        (&["-t", "five"], "invalid value 'five'"),
        (&["-nosuch"], "unexpected argument"),
    ];
    for (args, needle) in cases {
        let o = lzr(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
}

#[test]
fn config_file_with_flag_overrides() {
    let path = config_dir().join("campaign-testbed.toml");
    let t = printed(&["--config", path.to_str().unwrap(), "-t", "9", "--rate", "50"]);
    assert_eq!(t["mode"].as_str(), Some("generator"));
    assert_eq!(t["timers"]["timeout_ms"].as_integer(), Some(9000));
    assert_eq!(t["timers"]["retransmit_delay_ms"].as_integer(), Some(500));
    assert_eq!(t["rate"].as_integer(), Some(50));
    // The printed campaign is itself a campaign file that gives the same campaign.
    let first = stdout(&lzr(&["--config", path.to_str().unwrap(), "--print-config"]));
    let copy = temp_file("roundtrip.toml", &first);
    let second = stdout(&lzr(&["--config", copy.to_str().unwrap(), "--print-config"]));
    std::fs::remove_file(&copy).unwrap();
    assert_eq!(first, second);
}

#[test]
fn every_example_campaign_validates() {
    for name in ["campaign-zmap.toml", "campaign-list.toml", "campaign-testbed.toml"] {
        let path = config_dir().join(name);
        let o = lzr(&["--config", path.to_str().unwrap(), "--print-config"]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
    }
}

#[test]
fn unknown_and_bad_keys_in_a_campaign_file() {
    let path = temp_file("typo.toml", "handshakes = [\"http\"]\n[timers]\ntimout_ms = 5\n");
    let o = lzr(&["--config", path.to_str().unwrap(), "--print-config"]);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown field `timout_ms`"), "{}", stderr(&o));
    let path = temp_file("bad.toml", "output = \"-\"\n[timers]\ntimeout_ms = 0\n");
    let o = lzr(&["--config", path.to_str().unwrap(), "--print-config"]);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("timers.timeout_ms (-t, --timeout-ms): must be at least 1"), "{}", stderr(&o));
    let o = lzr(&["--config", "/nonexistent/lzr.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/lzr.toml: cannot read"), "{}", stderr(&o));
}
