//! A small fixture for end-to-end tests that need their own network: namespaces, veth pairs, tap devices and
//! child processes, all removed or killed on drop (also when the test fails). Names include the test process's
//! pid and a caller tag so tests running at the same time do not collide. Needs root; [`is_root`] tells.
//!
//! Use from a test file with `#[path = "common/netns.rs"] mod netns;`.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// True when the tests run as root (namespaces and DPDK vdevs need it).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// An interface name unique to this process: `<prefix><pid><tag>`, at most 15 bytes (the kernel's limit).
pub fn ifname(prefix: &str, tag: &str) -> String {
    let name = format!("{prefix}{}{tag}", std::process::id());
    assert!(
        name.len() <= 15,
        "interface name {name:?} longer than 15 bytes"
    );
    name
}

/// Runs a command to completion, failing with its output when it exits non-zero.
pub fn sh(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{program} {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A network namespace, deleted on drop (with every interface in it).
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// Creates `lzr-<tag>-<pid>` with its loopback up.
    pub fn new(tag: &str) -> Result<Netns, String> {
        let name = format!("lzr-{tag}-{}", std::process::id());
        // A namespace left by an earlier crashed run with the same pid would make `add` fail.
        let _ = sh("ip", &["netns", "del", &name]);
        sh("ip", &["netns", "add", &name])?;
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// `ip -n <ns> ...`
    pub fn ip(&self, args: &[&str]) -> Result<String, String> {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        sh("ip", &full)
    }

    /// A command that runs inside the namespace.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]).args(args);
        c
    }

    /// Runs a command inside the namespace to completion.
    pub fn exec(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let mut full = vec!["netns", "exec", self.name.as_str(), program];
        full.extend_from_slice(args);
        sh("ip", &full)
    }

    /// Brings an interface up and gives it an address (CIDR), if one is given.
    pub fn up(&self, iface: &str, cidr: Option<&str>) -> Result<(), String> {
        if let Some(cidr) = cidr {
            self.ip(&["addr", "add", cidr, "dev", iface])?;
        }
        self.ip(&["link", "set", iface, "up"]).map(drop)
    }

    /// Turns checksum and segmentation offloads off, so frames on the wire carry real checksums and sizes.
    pub fn offloads_off(&self, iface: &str) -> Result<(), String> {
        self.exec(
            "ethtool",
            &[
                "-K", iface, "tx", "off", "tso", "off", "gso", "off", "gro", "off",
            ],
        )
        .map(drop)
    }

    /// The interface's MAC address (lower case).
    pub fn mac(&self, iface: &str) -> Result<String, String> {
        let text = self.ip(&["-o", "link", "show", iface])?;
        text.split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .map(str::to_lowercase)
            .ok_or_else(|| format!("no MAC in {text:?}"))
    }

    /// Creates a persistent multi-queue tap device in the namespace (for DPDK's net_tap to attach to).
    pub fn tap(&self, iface: &str) -> Result<(), String> {
        self.exec(
            "ip",
            &["tuntap", "add", "dev", iface, "mode", "tap", "multi_queue"],
        )
        .map(drop)
    }

    /// Starts a long-running process in the namespace; it is killed (by pid) when the guard drops.
    pub fn spawn(&self, program: &str, args: &[&str]) -> Result<ChildGuard, String> {
        let child = self
            .command(program, args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        Ok(ChildGuard(child))
    }

    /// Waits until something listens on TCP `ip:port` inside the namespace.
    pub fn wait_listening(&self, addr: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let listening = self.exec("ss", &["-Hltn"]).unwrap_or_default();
            if listening.split_whitespace().any(|w| w == addr) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "nothing listens on {addr} in {} after {timeout:?}",
            self.name
        ))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh("ip", &["netns", "del", &self.name]);
    }
}

/// Joins two namespaces with a veth pair: `a_if` in `a`, `b_if` in `b` (both down, no address).
pub fn veth_pair(a: &Netns, a_if: &str, b: &Netns, b_if: &str) -> Result<(), String> {
    sh(
        "ip",
        &[
            "link", "add", a_if, "netns", &a.name, "type", "veth", "peer", "name", b_if, "netns",
            &b.name,
        ],
    )
    .map(drop)
}

/// A child process killed by its pid and reaped on drop.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }

    /// What the process wrote to stderr (after it ended; empty while it runs).
    pub fn stderr(&mut self) -> String {
        let mut text = String::new();
        if !self.running() {
            if let Some(err) = self.0.stderr.as_mut() {
                let _ = err.read_to_string(&mut text);
            }
        }
        text
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a command to completion with a time limit; past it the command is killed and an error returned.
pub fn run_bounded(mut command: Command, timeout: Duration) -> Result<Output, String> {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let mut guard = ChildGuard(child);
    let deadline = Instant::now() + timeout;
    // Read output on threads so a chatty child cannot block on a full pipe.
    let mut out = guard.0.stdout.take();
    let mut err = guard.0.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut s);
        }
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut s);
        }
        s
    });
    let status = loop {
        match guard.0.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                drop(guard);
                return Err(format!(
                    "{command:?} did not finish within {timeout:?}; killed"
                ));
            }
            Err(e) => return Err(format!("waiting for {command:?}: {e}")),
        }
    };
    Ok(Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    })
}
