/* The part of DPDK that lzr uses. bindgen reads this header; its static inline functions (DPDK's and the two
 * helpers below) get out-of-line C wrappers that build.rs compiles. */
#include <rte_config.h>
#include <rte_errno.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_thread.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_arp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

/* rte_errno is a thread-local variable behind a macro: Rust cannot name it. */
static inline int lzr_rte_errno(void) { return rte_errno; }

/* rte_pktmbuf_mtod is a macro: the address of the first data byte of a segment. */
static inline void *lzr_pktmbuf_mtod(struct rte_mbuf *m) { return rte_pktmbuf_mtod(m, void *); }
