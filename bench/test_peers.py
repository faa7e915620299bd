"""Tests of the peers' output parsing and name mapping (bench/peers.py). No root, no network:

    /usr/bin/python3 -m unittest discover -s bench -p 'test_*.py'
"""

import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

NMAP_XML = """<?xml version="1.0"?>
<nmaprun scanner="nmap">
<host><status state="up"/><address addr="198.18.128.1" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="80"><state state="open"/><service name="http" product="nginx" method="probed" conf="10"/></port>
</ports></host>
<host><status state="up"/><address addr="198.18.128.2" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="80"><state state="open"/><service name="tcpwrapped" method="probed" conf="8"/></port>
</ports></host>
<host><status state="up"/><address addr="198.18.128.3" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="80"><state state="open"/><service name="http" method="table" conf="3"/></port>
</ports></host>
<host><status state="up"/><address addr="198.18.128.4" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="80"><state state="open"/><service name="http" tunnel="ssl" method="probed" conf="10"/></port>
</ports></host>
<host><status state="up"/><address addr="198.18.128.5" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="80"><state state="open"/><service name="ssh" method="probed" conf="10"/></port>
</ports></host>
<host><status state="up"/><address addr="198.18.128.6" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="80"><state state="filtered"/><service name="http" method="probed" conf="10"/></port>
</ports></host>
<host><status state="up"/><address addr="198.18.128.7" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="80"><state state="open"/><service name="gopher" method="probed" conf="10"/></port>
</ports></host>
<host><status state="up"/><address addr="198.18.128.8" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="443"><state state="open"/><service name="https" method="probed" conf="10"/></port>
</ports></host>
</nmaprun>
"""


class NmapTest(unittest.TestCase):
    def test_only_probed_open_services_on_the_port_count(self):
        found = dict(peers.parse_nmap_xml(NMAP_XML, 80))
        self.assertEqual(found, {
            "198.18.128.1": "http",  # probed
            "198.18.128.4": "tls",  # an SSL tunnel is TLS whatever runs inside
            "198.18.128.5": "ssh",
            "198.18.128.7": "nmap:gopher",  # named, but nothing lzr knows: scored as wrong
        })

    def test_malformed_xml_is_an_error_not_an_empty_result(self):
        with self.assertRaises(ET.ParseError):
            peers.parse_nmap_xml("<nmaprun><host>", 80)

    def test_mapped_names_are_lzr_labels(self):
        self.assertEqual(peers.nmap_label({"name": "postgresql", "method": "probed"}), "postgres")
        self.assertEqual(peers.nmap_label({"name": "iso-tsap", "method": "probed"}), "siemens")
        self.assertEqual(peers.nmap_label({"name": "domain", "method": "probed"}), "dns")
        self.assertIsNone(peers.nmap_label({"name": "unknown", "method": "probed"}))
        self.assertIsNone(peers.nmap_label({"name": "vnc", "method": "table"}))


class ZGrab2Test(unittest.TestCase):
    def test_success_only_and_bad_lines_skipped(self):
        lines = [
            '{"ip":"198.18.128.1","data":{"http":{"status":"success","protocol":"http"}}}',
            '{"ip":"198.18.128.2","data":{"http":{"status":"io-timeout"}}}',
            '{"ip":"198.18.128.3","data":{"tls":{"status":"success"}}}',
            "not json",
            '{"data":{"http":{"status":"success"}}}',
        ]
        self.assertEqual(peers.parse_zgrab2(lines, "http", "http"), [("198.18.128.1", "http")])

    def test_every_column_handshake_has_a_module(self):
        for handshakes in ("http", "tls", "ftp", "telnet", "amqp", "vnc", "mongodb"):
            self.assertIn(handshakes, peers.ZGRAB2_MODULES)


class LzrGoTest(unittest.TestCase):
    def test_data_records_with_a_fingerprint(self):
        lines = [
            '{"saddr":"198.18.128.1","sport":80,"data":"HTTP/1.1 200 OK","fingerprint":"http"}',
            '{"saddr":"198.18.128.2","sport":80,"data":"\\u0000\\u0001","fingerprint":"unknown"}',
            '{"saddr":"198.18.128.3","sport":80,"fingerprint":"http"}',
            "{",
        ]
        self.assertEqual(peers.parse_lzr_go(lines), [("198.18.128.1", "http")])


class SpaceTest(unittest.TestCase):
    def test_peer_space_stays_in_the_benchmark_range(self):
        self.assertEqual(peers.peer_space(10), ("198.18.128.0/22", 1024))
        self.assertEqual(peers.peer_space(15), ("198.18.128.0/17", 32768))
        for bad in (0, 16):
            with self.assertRaises(ValueError):
                peers.peer_space(bad)


if __name__ == "__main__":
    unittest.main()
