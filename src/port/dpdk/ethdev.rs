//! An ethdev port: device lookup or hot-plug probe, mempool, queue set-up with RSS on the source address where
//! the device offers it, start, statistics, and stop/close on drop.

use std::ffi::{CStr, CString};
use std::str::FromStr;
use std::sync::Arc;

use dpdk_sys as sys;

use super::eal::{Eal, EalGuard};
use super::queue::DpdkQueue;
use super::{check, strerror, PortError};
use crate::port::rss::{default_key, RssSteering};
use crate::port::{MacAddr, Port, PortStats, Steering};

/// `RTE_ETH_RSS_L3_SRC_ONLY` (bit 63): bindgen's macro fallback does not resolve `RTE_BIT64(63)`.
const RSS_L3_SRC_ONLY: u64 = 1 << 63;
/// The largest burst a queue moves per call.
pub(super) const MAX_BURST: usize = 64;

/// Which device a port is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// The first ethdev port EAL found (e.g. from `--vdev` or `-a` in the EAL arguments).
    First,
    /// A port id.
    Index(u16),
    /// A virtual device by its devargs, e.g. `net_af_packet0,iface=veth0,qpairs=2`; probed if EAL has not yet.
    Vdev(String),
    /// A PCI device by address, e.g. `0000:01:00.0`; probed if EAL has not yet.
    Pci(String),
}

impl FromStr for Device {
    type Err = PortError;

    /// `first`, a port id (`0`), a PCI address (`0000:01:00.0` or `01:00.0`) or vdev devargs (`net_tap0,...`).
    fn from_str(s: &str) -> Result<Device, PortError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(PortError::InvalidConfig("empty device".into()));
        }
        if s == "first" {
            return Ok(Device::First);
        }
        if let Ok(id) = s.parse::<u16>() {
            return Ok(Device::Index(id));
        }
        if is_pci_address(s) {
            return Ok(Device::Pci(s.to_string()));
        }
        Ok(Device::Vdev(s.to_string()))
    }
}

/// `[dddd:]bb:dd.f` in hex.
fn is_pci_address(s: &str) -> bool {
    let Some((bus_dev, func)) = s.rsplit_once('.') else {
        return false;
    };
    let parts: Vec<&str> = bus_dev.split(':').collect();
    let hex = |p: &str, n: usize| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit());
    let func_ok = func.len() == 1 && func.chars().all(|c| c.is_ascii_digit());
    match parts.as_slice() {
        [bus, dev] => hex(bus, 2) && hex(dev, 2) && func_ok,
        [domain, bus, dev] => hex(domain, 4) && hex(bus, 2) && hex(dev, 2) && func_ok,
        _ => false,
    }
}

/// How to open a port.
#[derive(Debug, Clone)]
pub struct PortConfig {
    pub device: Device,
    /// RX/TX queue pairs (one per worker).
    pub queues: u16,
    /// Descriptors per RX ring and per TX ring (the driver may adjust them).
    pub rx_descriptors: u16,
    pub tx_descriptors: u16,
    /// Mbufs in the pool; 0 sizes it from the queues and rings.
    pub mbufs: u32,
    /// Per-lcore mempool cache.
    pub mbuf_cache: u32,
    /// Frames per burst (at most 64).
    pub burst: u16,
    /// Ask for RSS on the IPv4/IPv6 source address when the device offers it (and more than one queue).
    pub rss: bool,
    /// Receive frames for any MAC address.
    pub promiscuous: bool,
}

impl Default for PortConfig {
    fn default() -> Self {
        PortConfig {
            device: Device::First,
            queues: 1,
            rx_descriptors: 1024,
            tx_descriptors: 1024,
            mbufs: 0,
            mbuf_cache: 256,
            burst: 32,
            rss: true,
            promiscuous: false,
        }
    }
}

/// What the port turned out to be.
#[derive(Debug, Clone)]
pub struct PortInfo {
    pub port_id: u16,
    /// ethdev name (`net_af_packet0`, `0000:01:00.0`).
    pub name: String,
    /// PMD name (`net_af_packet`, `net_tap`, `net_ice`, ...).
    pub driver: String,
    pub mac: MacAddr,
    pub queues: u16,
    pub rx_descriptors: u16,
    pub tx_descriptors: u16,
    pub mbufs: u32,
    /// RSS hash functions the device offers (`RTE_ETH_RSS_*` bits); 0 when it has no RSS.
    pub rss_offered: u64,
    /// How received frames are spread: [`Steering::Rss`] only when RSS on IP addresses is on and its key and
    /// redirection table could be read back.
    pub steering: Steering,
    pub link_up: bool,
    /// NUMA socket of the device (-1: any).
    pub socket: i32,
}

/// Owns the started device and its mempool; stops and closes them when the last user goes.
pub(super) struct PortShared {
    pub(super) port_id: u16,
    pub(super) pool: *mut sys::rte_mempool,
    _eal: Arc<EalGuard>,
}

// SAFETY: the port id is a plain number; the mempool is thread-safe (lock-free ring, per-lcore caches), and
// the pointer is freed only in Drop, after every queue holding this struct is gone.
unsafe impl Send for PortShared {}
unsafe impl Sync for PortShared {}

impl Drop for PortShared {
    fn drop(&mut self) {
        // SAFETY: no queue of this port exists any more (each holds an Arc of this); stop and close the device,
        // then free the pool its rings drew from. Failures only get logged: there is nothing left to undo.
        unsafe {
            let ret = sys::rte_eth_dev_stop(self.port_id);
            if ret < 0 {
                log::warn!("rte_eth_dev_stop({}): {}", self.port_id, strerror(-ret));
            }
            let ret = sys::rte_eth_dev_close(self.port_id);
            if ret < 0 {
                log::warn!("rte_eth_dev_close({}): {}", self.port_id, strerror(-ret));
            }
            if !self.pool.is_null() {
                sys::rte_mempool_free(self.pool);
            }
        }
    }
}

/// A started ethdev port. Its queue pairs are taken once with [`Port::take_queues`] and given to workers.
pub struct DpdkPort {
    shared: Arc<PortShared>,
    queues: Vec<DpdkQueue>,
    info: PortInfo,
}

impl DpdkPort {
    /// Finds (or probes) the device, creates its mempool, configures `config.queues` queue pairs and starts it.
    pub fn open(eal: &Eal, config: &PortConfig) -> Result<DpdkPort, PortError> {
        if config.queues == 0 {
            return Err(PortError::InvalidConfig(
                "at least one queue pair is needed".into(),
            ));
        }
        if config.burst == 0 || usize::from(config.burst) > MAX_BURST {
            return Err(PortError::InvalidConfig(format!(
                "burst must be 1..={MAX_BURST}"
            )));
        }
        let port_id = find_port(&config.device)?;
        let mut dev_info = sys::rte_eth_dev_info::default();
        // SAFETY: valid port id, and dev_info is a writable struct of the right type.
        check("rte_eth_dev_info_get", port_id, unsafe {
            sys::rte_eth_dev_info_get(port_id, &mut dev_info)
        })?;
        let name = port_name(port_id);
        let driver = if dev_info.driver_name.is_null() {
            String::new()
        } else {
            // SAFETY: the driver name is a static NUL-terminated string of the PMD.
            unsafe { CStr::from_ptr(dev_info.driver_name) }
                .to_string_lossy()
                .into_owned()
        };
        if config.queues > dev_info.max_rx_queues || config.queues > dev_info.max_tx_queues {
            return Err(PortError::TooManyQueues {
                device: name,
                requested: config.queues,
                max_rx: dev_info.max_rx_queues,
                max_tx: dev_info.max_tx_queues,
            });
        }

        // RSS: hash IP addresses (the source alone where the device can) so a host's packets reach one queue.
        let rss_offered = dev_info.flow_type_rss_offloads;
        let rss_hf = rss_offered & (u64::from(sys::RTE_ETH_RSS_IP) | RSS_L3_SRC_ONLY);
        let want_rss =
            config.rss && config.queues > 1 && rss_hf & u64::from(sys::RTE_ETH_RSS_IP) != 0;
        let key_len = if dev_info.hash_key_size == 0 {
            40
        } else {
            usize::from(dev_info.hash_key_size)
        };
        let mut key = default_key(key_len);
        // TCP checksum offload on receive where the device offers it: the engine then trusts the mbuf's verdict
        // instead of summing every segment itself (devices without it report UNKNOWN, checked in software).
        let rx_offloads = dev_info.rx_offload_capa & u64::from(sys::RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
        let mut rss_on = false;
        if want_rss {
            let mut conf = sys::rte_eth_conf::default();
            conf.rxmode.offloads = rx_offloads;
            conf.rxmode.mq_mode = sys::RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_key = key.as_mut_ptr();
            conf.rx_adv_conf.rss_conf.rss_key_len = key_len as u8;
            conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
            // SAFETY: conf (and the key it points to) outlive the call, which copies them.
            let ret =
                unsafe { sys::rte_eth_dev_configure(port_id, config.queues, config.queues, &conf) };
            if ret == 0 {
                rss_on = true;
            } else {
                log::warn!(
                    "{name}: RSS configuration refused ({}); spreading is left to the device",
                    strerror(-ret)
                );
            }
        }
        if !rss_on {
            let mut conf = sys::rte_eth_conf::default();
            conf.rxmode.offloads = rx_offloads;
            // SAFETY: as above.
            let ret =
                unsafe { sys::rte_eth_dev_configure(port_id, config.queues, config.queues, &conf) };
            check("rte_eth_dev_configure", port_id, ret)?;
        }

        let (mut rx_desc, mut tx_desc) = (config.rx_descriptors, config.tx_descriptors);
        // SAFETY: valid port, writable u16s.
        let ret =
            unsafe { sys::rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &mut rx_desc, &mut tx_desc) };
        check("rte_eth_dev_adjust_nb_rx_tx_desc", port_id, ret)?;
        // SAFETY: plain query.
        let socket = unsafe { sys::rte_eth_dev_socket_id(port_id) };

        let mbufs = if config.mbufs > 0 {
            config.mbufs
        } else {
            // Every ring full, every queue's batches in flight, every cache full, and slack; at least 2047.
            let per_queue = u32::from(rx_desc)
                + u32::from(tx_desc)
                + 2 * u32::from(config.burst)
                + config.mbuf_cache;
            (u32::from(config.queues) * per_queue + 1024).max(2047)
        };
        let cache = config
            .mbuf_cache
            .min(sys::RTE_MEMPOOL_CACHE_MAX_SIZE)
            .min(mbufs / 2);
        let pool_name = CString::new(format!("lzr_mbufs_{port_id}"))
            .map_err(|_| PortError::InvalidConfig("pool name".into()))?;
        // SAFETY: the name is a valid C string; DPDK copies it.
        let pool = unsafe {
            sys::rte_pktmbuf_pool_create(
                pool_name.as_ptr(),
                mbufs,
                cache,
                0,
                sys::RTE_MBUF_DEFAULT_BUF_SIZE as u16,
                socket,
            )
        };
        if pool.is_null() {
            return Err(PortError::Port {
                call: "rte_pktmbuf_pool_create",
                port: port_id,
                message: format!(
                    "{} ({mbufs} mbufs: give EAL more memory with -m)",
                    super::last_error()
                ),
            });
        }
        // From here on the pool and the configured device are released by PortShared's Drop on any error.
        let shared = Arc::new(PortShared {
            port_id,
            pool,
            _eal: eal.guard(),
        });
        let socket_arg = if socket < 0 {
            sys::SOCKET_ID_ANY as u32
        } else {
            socket as u32
        };
        for q in 0..config.queues {
            // SAFETY: configured port, queue index below the configured count, live pool; NULL means defaults.
            let ret = unsafe {
                sys::rte_eth_rx_queue_setup(port_id, q, rx_desc, socket_arg, std::ptr::null(), pool)
            };
            check("rte_eth_rx_queue_setup", port_id, ret)?;
            // SAFETY: as above.
            let ret = unsafe {
                sys::rte_eth_tx_queue_setup(port_id, q, tx_desc, socket_arg, std::ptr::null())
            };
            check("rte_eth_tx_queue_setup", port_id, ret)?;
        }
        if config.promiscuous {
            // SAFETY: valid port.
            check("rte_eth_promiscuous_enable", port_id, unsafe {
                sys::rte_eth_promiscuous_enable(port_id)
            })?;
        }
        // SAFETY: every queue is set up.
        check("rte_eth_dev_start", port_id, unsafe {
            sys::rte_eth_dev_start(port_id)
        })?;

        let steering = if rss_on {
            read_rss(port_id, key_len, dev_info.reta_size)
        } else {
            None
        };
        let mut mac = sys::rte_ether_addr::default();
        // SAFETY: valid port, writable address.
        check("rte_eth_macaddr_get", port_id, unsafe {
            sys::rte_eth_macaddr_get(port_id, &mut mac)
        })?;
        let mut link = sys::rte_eth_link::default();
        // SAFETY: valid port, writable struct. A failure leaves link_status 0 (down), which is only reported.
        unsafe { sys::rte_eth_link_get_nowait(port_id, &mut link) };

        let max_frame = max_frame_len(pool);
        let queues = (0..config.queues)
            .map(|q| DpdkQueue::new(shared.clone(), q, usize::from(config.burst), max_frame))
            .collect();
        let info = PortInfo {
            port_id,
            name,
            driver,
            mac: mac.addr_bytes,
            queues: config.queues,
            rx_descriptors: rx_desc,
            tx_descriptors: tx_desc,
            mbufs,
            rss_offered,
            steering: steering.map_or(Steering::None, Steering::Rss),
            link_up: link.link_status() != 0,
            socket,
        };
        Ok(DpdkPort {
            shared,
            queues,
            info,
        })
    }

    /// What the port is and how it was set up.
    pub fn info(&self) -> &PortInfo {
        &self.info
    }

    /// Whether the link is up now (a failed query reads as down).
    pub fn link_up(&self) -> bool {
        let mut link = sys::rte_eth_link::default();
        // SAFETY: valid, started port; writable struct. A failure leaves link_status 0 (down).
        unsafe { sys::rte_eth_link_get_nowait(self.shared.port_id, &mut link) };
        link.link_status() != 0
    }

    /// Waits, polling, until the link is up or `limit` has passed; returns whether it came up. Frames sent
    /// before the link is up are lost (a NIC still negotiating, a memif peer still connecting).
    pub fn wait_link_up(&self, limit: std::time::Duration) -> bool {
        let start = std::time::Instant::now();
        loop {
            if self.link_up() {
                return true;
            }
            if start.elapsed() >= limit {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Stops and closes the port (once its queues, if handed out, are dropped too); returns the last counters.
    pub fn close(self) -> PortStats {
        self.stats()
    }
}

impl Port for DpdkPort {
    type Queue = DpdkQueue;

    fn take_queues(&mut self) -> Vec<DpdkQueue> {
        std::mem::take(&mut self.queues)
    }

    fn queue_count(&self) -> u16 {
        self.info.queues
    }

    fn mac(&self) -> MacAddr {
        self.info.mac
    }

    fn stats(&self) -> PortStats {
        let mut s = sys::rte_eth_stats::default();
        // SAFETY: valid, started port; writable struct. On failure the counters read as zero.
        let ret = unsafe { sys::rte_eth_stats_get(self.shared.port_id, &mut s) };
        if ret < 0 {
            log::warn!(
                "rte_eth_stats_get({}): {}",
                self.shared.port_id,
                strerror(-ret)
            );
        }
        PortStats {
            ipackets: s.ipackets,
            opackets: s.opackets,
            ibytes: s.ibytes,
            obytes: s.obytes,
            imissed: s.imissed,
            ierrors: s.ierrors,
            oerrors: s.oerrors,
            rx_nombuf: s.rx_nombuf,
        }
    }

    fn steering(&self) -> &Steering {
        &self.info.steering
    }
}

/// Resolves a [`Device`] to a port id, hot-plugging vdevs and PCI devices EAL has not probed yet.
fn find_port(device: &Device) -> Result<u16, PortError> {
    let by_name = |name: &str| -> Option<u16> {
        let c = CString::new(name).ok()?;
        let mut id = 0u16;
        // SAFETY: valid C string, writable id.
        (unsafe { sys::rte_eth_dev_get_port_by_name(c.as_ptr(), &mut id) } == 0).then_some(id)
    };
    match device {
        Device::First => {
            // SAFETY: plain query.
            let id = unsafe { sys::rte_eth_find_next(0) };
            if u32::from(id) >= sys::RTE_MAX_ETHPORTS {
                return Err(PortError::NoSuchDevice(
                    "any port (no --vdev or bound device given to EAL)".into(),
                ));
            }
            Ok(id)
        }
        Device::Index(id) => {
            // SAFETY: plain query.
            if unsafe { sys::rte_eth_dev_is_valid_port(*id) } == 1 {
                Ok(*id)
            } else {
                Err(PortError::NoSuchDevice(format!("port {id}")))
            }
        }
        Device::Vdev(args) | Device::Pci(args) => {
            let name = args.split(',').next().unwrap_or(args).trim();
            if let Some(id) = by_name(name) {
                return Ok(id);
            }
            let c = CString::new(args.as_str())
                .map_err(|_| PortError::InvalidConfig(format!("NUL in {args:?}")))?;
            // SAFETY: valid C string; EAL is running.
            let ret = unsafe { sys::rte_dev_probe(c.as_ptr()) };
            if ret < 0 {
                return Err(PortError::Probe {
                    device: args.clone(),
                    message: strerror(-ret),
                });
            }
            by_name(name).ok_or_else(|| PortError::NoSuchDevice(name.to_string()))
        }
    }
}

fn port_name(port_id: u16) -> String {
    let mut buf = [0 as std::ffi::c_char; sys::RTE_ETH_NAME_MAX_LEN as usize];
    // SAFETY: the buffer has RTE_ETH_NAME_MAX_LEN bytes, as the call requires.
    if unsafe { sys::rte_eth_dev_get_name_by_port(port_id, buf.as_mut_ptr()) } != 0 {
        return format!("port{port_id}");
    }
    // SAFETY: DPDK wrote a NUL-terminated name into the buffer.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// Reads back the key, hash functions and redirection table in force; None when any of them is unavailable
/// (then the engine cannot predict the queue and steers in software).
fn read_rss(port_id: u16, key_len: usize, reta_size: u16) -> Option<RssSteering> {
    let mut key = vec![0u8; key_len];
    let mut conf = sys::rte_eth_rss_conf {
        rss_key: key.as_mut_ptr(),
        rss_key_len: key_len as u8,
        rss_hf: 0,
    };
    // SAFETY: conf points at a key buffer of rss_key_len bytes.
    if unsafe { sys::rte_eth_dev_rss_hash_conf_get(port_id, &mut conf) } != 0
        || conf.rss_hf & u64::from(sys::RTE_ETH_RSS_IP) == 0
    {
        return None;
    }
    if reta_size == 0 {
        return None;
    }
    let groups = usize::from(reta_size).div_ceil(sys::RTE_ETH_RSS_RETA_SIZE_64 as usize);
    let mut entries = vec![
        sys::rte_eth_rss_reta_entry64 {
            mask: u64::MAX,
            reta: [0; 64]
        };
        groups
    ];
    // SAFETY: `entries` covers reta_size entries in groups of 64, as the call requires.
    if unsafe { sys::rte_eth_dev_rss_reta_query(port_id, entries.as_mut_ptr(), reta_size) } != 0 {
        return None;
    }
    let reta = entries
        .iter()
        .flat_map(|e| e.reta)
        .take(usize::from(reta_size))
        .collect();
    Some(RssSteering {
        key,
        reta,
        src_only: conf.rss_hf & RSS_L3_SRC_ONLY != 0,
    })
}

/// The largest frame one mbuf of `pool` holds (single segment).
fn max_frame_len(pool: *mut sys::rte_mempool) -> usize {
    // SAFETY: a live pktmbuf pool.
    let room = unsafe { sys::rte_pktmbuf_data_room_size(pool) };
    usize::from(room).saturating_sub(sys::RTE_PKTMBUF_HEADROOM as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_from_their_usual_spellings() {
        assert_eq!("first".parse::<Device>().unwrap(), Device::First);
        assert_eq!("1".parse::<Device>().unwrap(), Device::Index(1));
        assert_eq!(
            "0000:3b:00.1".parse::<Device>().unwrap(),
            Device::Pci("0000:3b:00.1".into())
        );
        assert_eq!(
            "3b:00.0".parse::<Device>().unwrap(),
            Device::Pci("3b:00.0".into())
        );
        assert_eq!(
            "net_af_packet0,iface=v,qpairs=2".parse::<Device>().unwrap(),
            Device::Vdev("net_af_packet0,iface=v,qpairs=2".into())
        );
        assert!("".parse::<Device>().is_err());
    }
}
