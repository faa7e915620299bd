//! `mqtt`: sends CONNECT (protocol `MQTT` level 4, no flags, keep-alive 10, client id `LZR`; 17 bytes).
//!
//! Rule: the answer is exactly 4 bytes, byte[0] == 0x20 (CONNACK) and byte[3] ≤ 5 (return code) → `mqtt`.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Mqtt;

impl FixedProbe for Mqtt {
    const NAME: &'static str = "mqtt";
    const PROBE: &'static [u8] = &[
        0x10, 0x0f, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x0a, 0x00, 0x03, 0x4c,
        0x5a, 0x52,
    ];

    fn rule(data: &[u8]) -> Option<&'static str> {
        matches!(data, [0x20, _, _, code] if *code <= 5).then_some("mqtt")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_and_rule() {
        assert_eq!(Mqtt::PROBE.len(), 17);
        assert_eq!(
            usize::from(Mqtt::PROBE[1]),
            Mqtt::PROBE.len() - 2,
            "remaining length"
        );
        assert_eq!(
            Mqtt::rule(&[0x20, 0x02, 0x00, 0x00]),
            Some("mqtt"),
            "mosquitto: accepted"
        );
        assert_eq!(
            Mqtt::rule(&[0x20, 0x02, 0x00, 0x05]),
            Some("mqtt"),
            "not authorised"
        );
        assert_eq!(Mqtt::rule(&[0x20, 0x02, 0x00, 0x06]), None);
        assert_eq!(Mqtt::rule(&[0x20, 0x02, 0x00]), None, "3 bytes");
        assert_eq!(Mqtt::rule(&[0x20, 0x02, 0x00, 0x00, 0x00]), None, "5 bytes");
        assert_eq!(Mqtt::rule(&[0x21, 0x02, 0x00, 0x00]), None);
    }
}
