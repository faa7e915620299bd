//! `fox` (Niagara Fox, Tridium): a 513-byte ASCII hello as a Workbench client (reference §6.3; every line ends
//! in `\n`). The probe says `fox a 1 -1 fox hello`; a station answers `fox a 0 -1 fox hello`.
//!
//! Rule: the answer **starts with** `fox a 0 -1 fox hello` → `fox`.

use super::FixedProbe;

const HELLO: &str = concat!(
    "fox a 1 -1 fox hello\n",
    "{\n",
    "fox.version=s:1.0\n",
    "id=i:1\n",
    "hostName=s:xpvm-0omdc01xmy\n",
    "hostAddress=s:192.168.1.125\n",
    "app.name=s:Workbench\n",
    "app.version=s:3.7.44\n",
    "vm.name=s:Java HotSpot(TM) Server VM\n",
    "vm.version=s:20.4-b02\n",
    "os.name=s:Windows XP\n",
    "os.version=s:5.1\n",
    "lang=s:en\n",
    "timeZone=s:America/Los_Angeles;-28800000;3600000;02:00:00.000,wall,march,8,on or after,sunday,undefined;",
    "02:00:00.000,wall,november,1,on or after,sunday,undefined\n",
    "hostId=s:Win-99CB-D49D-5442-07BB\n",
    "vmUuid=s:8b530bc8-76c5-4139-a2ea-0fabd394d305\n",
    "brandId=s:vykon\n",
    "};;\n",
);

#[derive(Debug, Default)]
pub struct Fox;

impl FixedProbe for Fox {
    const NAME: &'static str = "fox";
    const PROBE: &'static [u8] = HELLO.as_bytes();

    fn rule(data: &[u8]) -> Option<&'static str> {
        data.starts_with(b"fox a 0 -1 fox hello").then_some("fox")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_and_rule() {
        assert_eq!(Fox::PROBE.len(), 513);
        assert!(Fox::PROBE.ends_with(b"brandId=s:vykon\n};;\n"));
        assert_eq!(Fox::PROBE.iter().filter(|&&b| b == b'\n').count(), 18);
        assert_eq!(
            Fox::rule(b"fox a 0 -1 fox hello\n{\nfox.version=s:1.0\n"),
            Some("fox")
        );
        assert_eq!(Fox::rule(b"fox a 1 -1 fox hello\n"), None, "our own hello");
        assert_eq!(Fox::rule(b" fox a 0 -1 fox hello"), None, "prefix only");
    }
}
