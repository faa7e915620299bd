//! neighbor: ARP / IPv6 neighbour discovery for the scanner's addresses and the gateway; filled in by its owner.
