//! Every population profile in config/populations parses, validates, covers Table 4's ports, and its shares are
//! the ones its [source] counts give (so a hand edit of one without the other is caught).

use std::path::Path;

use lzr::sim::{load_dir, Population, Profile, Space};

fn profiles() -> Vec<Profile> {
    load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/populations"))
        .expect("all profiles load")
}

#[test]
fn every_table4_port_has_a_valid_profile() {
    let ports: Vec<u16> = profiles().iter().map(|p| p.port).collect();
    assert_eq!(
        ports,
        vec![21, 23, 80, 443, 5672, 5900, 27017, 47808, 62220]
    );
}

#[test]
fn shares_match_the_source_counts() {
    let close = |got: f64, want: f64, what: &str, port: u16| {
        assert!(
            (got - want).abs() <= 1e-5 * want.max(1e-3),
            "port {port}: {what} = {got}, counts give {want}"
        );
    };
    for p in profiles() {
        let s = p
            .source
            .clone()
            .expect("every shipped profile names its source");
        close(p.synack, s.synack / s.space, "synack", p.port);
        close(
            p.zero_window,
            s.zero_window / s.synack,
            "zero_window",
            p.port,
        );
        close(p.rst, s.rst / s.synack, "rst", p.port);
        close(p.acks_data, s.acks_data / s.synack, "acks_data", p.port);
        close(p.expected, s.expected / s.acks_data, "expected", p.port);
        close(
            p.unexpected,
            s.unexpected / s.acks_data,
            "unexpected",
            p.port,
        );
        assert_eq!(
            p.unexpected_protocols.len(),
            s.unique_unexpected as usize,
            "port {}",
            p.port
        );
        assert!(
            !p.unexpected_protocols.contains_key(&p.protocol),
            "port {}",
            p.port
        );
    }
}

#[test]
fn all_profiles_form_one_population() {
    let space: Space = "198.18.128.0/17".parse().unwrap();
    let pop = Population::new(space, profiles(), 1).expect("one population of all ports");
    assert_eq!(pop.profiles().count(), 9);
    // Port 80 of a /17: about 1.7% of 32768 addresses SYN-ACK.
    let synack = (0..space.len())
        .filter(|i| pop.host(space.nth(*i), 80).behaviour.synacks())
        .count();
    assert!(
        (400..800).contains(&synack),
        "{synack} of 32768 SYN-ACK on port 80"
    );
}
