//! Finds the system DPDK with pkg-config, generates bindings for the part lzr uses, and compiles C wrappers for
//! DPDK's static inline functions (rte_eth_rx_burst, rte_pktmbuf_alloc, ...) so Rust can call them.
//!
//! pkg-config's cflags are passed raw to both bindgen and the C compiler: they carry `-include rte_config.h` and
//! `-march=...`, which the DPDK headers need and which the pkg-config crate's parsed view drops.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const MIN_VERSION: &str = "22.11";

/// Functions, types and constants lzr uses: EAL, lcores and launch, ethdev, mbuf, mempool, ring, the
/// Ethernet/ARP/IP/TCP headers, cycles, errno. Everything they reference comes along.
const FUNCTIONS: &str = "rte_eal_.*|rte_lcore_.*|rte_get_main_lcore|rte_get_next_lcore|rte_socket_id\
    |rte_thread_register|rte_thread_unregister|rte_eth_.*|rte_pktmbuf_.*|rte_mbuf_.*|rte_mempool_.*|rte_ring_.*\
    |rte_ether_.*|rte_ipv4_.*|rte_ipv6_.*|rte_get_tsc_.*|rte_get_timer_.*|rte_rdtsc.*|rte_delay_.*|rte_strerror\
    |rte_dev_probe|rte_dev_remove|lzr_.*";
const TYPES: &str =
    "rte_ether_hdr|rte_vlan_hdr|rte_arp_hdr|rte_ipv4_hdr|rte_ipv6_hdr|rte_tcp_hdr|rte_eth_.*\
    |rte_mbuf|rte_mempool|rte_ring|rte_lcore_state_t|rte_rmt_call_main_t";
const VARS: &str = "RTE_ETH_.*|RTE_MBUF_.*|RTE_PKTMBUF_.*|RTE_MAX_LCORE|RTE_MAX_ETHPORTS|RTE_MEMPOOL_.*\
    |RTE_RING_.*|RTE_ETHER_.*|RTE_ARP_.*|RTE_IPV4_.*|RTE_TCP_.*|SOCKET_ID_ANY|LCORE_ID_ANY|RTE_CACHE_LINE_SIZE\
    |E_RTE_.*|RTE_MIN_ERRNO|RTE_MAX_ERRNO|RTE_VER_.*";
/// Packed structs that contain `rte_ether_addr` (declared 2-byte aligned): Rust cannot express an aligned member
/// inside a packed struct, so these stay opaque (right size, no fields); lzr parses those headers itself.
const OPAQUE: &[&str] = &["rte_arp_hdr", "rte_arp_ipv4"];

/// Driver and library archives for `--features static` (whole-archive, so driver constructors register).
const STATIC_LIBS: &[&str] = &[
    "rte_net_af_packet",
    "rte_net_tap",
    "rte_net_memif",
    "rte_net_ring",
    "rte_net_null",
    "rte_bus_vdev",
    "rte_bus_pci",
    "rte_mempool_ring",
    "rte_ethdev",
    "rte_net",
    "rte_meter",
    "rte_mbuf",
    "rte_mempool",
    "rte_ring",
    "rte_rcu",
    "rte_hash",
    "rte_pci",
    "rte_gso",
    "rte_eal",
    "rte_telemetry",
    "rte_kvargs",
];
/// System libraries the static archives need.
const STATIC_SYSTEM_LIBS: &[&str] = &["numa", "bsd", "pthread", "dl", "m"];
/// Shared libraries lzr calls into; PMDs are loaded by EAL from its plugin directory at run time.
const SHARED_LIBS: &[&str] = &[
    "rte_eal",
    "rte_ethdev",
    "rte_mbuf",
    "rte_mempool",
    "rte_ring",
    "rte_net",
    "rte_kvargs",
];

fn pkg_config(args: &[&str]) -> String {
    let out = Command::new("pkg-config")
        .args(args)
        .arg("libdpdk")
        .output()
        .unwrap_or_else(|e| {
            panic!("dpdk-sys: cannot run pkg-config ({e}); run scripts/setup to install it")
        });
    if !out.status.success() {
        panic!(
            "dpdk-sys: `pkg-config {} libdpdk` failed: {}\nInstall DPDK >= {MIN_VERSION} (scripts/setup installs libdpdk-dev).",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    pkg_config(&[&format!("--atleast-version={MIN_VERSION}")]);
    let version = pkg_config(&["--modversion"]);
    let cflags: Vec<String> = pkg_config(&["--cflags"])
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let libdir = pkg_config(&["--variable=libdir"]);
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let header = manifest_dir.join("wrapper.h");
    let wrappers = out_dir.join("static_fns");

    let mut builder = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .clang_args(&cflags)
        .clang_arg("-DALLOW_EXPERIMENTAL_API")
        .allowlist_function(FUNCTIONS)
        .allowlist_type(TYPES)
        .allowlist_var(VARS)
        .wrap_static_fns(true)
        .wrap_static_fns_path(&wrappers)
        .clang_macro_fallback()
        .clang_macro_fallback_build_dir(&out_dir)
        .layout_tests(true)
        .derive_default(true)
        .derive_debug(false)
        .prepend_enum_name(false)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for t in OPAQUE {
        builder = builder.opaque_type(t);
    }
    let bindings = builder
        .generate()
        .expect("dpdk-sys: bindgen failed on wrapper.h");
    bindings
        .write_to_file(out_dir.join("bindings.rs"))
        .expect("dpdk-sys: cannot write bindings.rs");

    // The wrappers for static inline functions, compiled with exactly the flags DPDK asked for.
    let mut build = cc::Build::new();
    build
        .file(wrappers.with_extension("c"))
        .include(&manifest_dir)
        .define("ALLOW_EXPERIMENTAL_API", None);
    for flag in &cflags {
        build.flag(flag);
    }
    build.warnings(false).compile("lzr_dpdk_static_fns");

    println!("cargo:rustc-link-search=native={libdir}");
    if env::var_os("CARGO_FEATURE_STATIC").is_some() {
        for lib in STATIC_LIBS {
            println!("cargo:rustc-link-lib=static:+whole-archive,-bundle={lib}");
        }
        for lib in STATIC_SYSTEM_LIBS {
            println!("cargo:rustc-link-lib=dylib={lib}");
        }
    } else {
        for lib in SHARED_LIBS {
            println!("cargo:rustc-link-lib=dylib={lib}");
        }
    }
    println!("cargo:version={version}");
    println!("cargo:rustc-env=DPDK_SYS_DPDK_VERSION={version}");
}
