//! Small kernel-interface chores for the ports lzr creates itself (the ZMap exception tap).

use std::net::Ipv4Addr;

/// Gives a kernel interface an IPv4 address (one of its own creation: the tap's kernel side).
pub fn set_ipv4_address(ifname: &str, addr: Ipv4Addr) -> std::io::Result<()> {
    let name = ifname.as_bytes();
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad interface name"));
    }
    // SAFETY: a zeroed ifreq is valid; the name fits (checked) and stays NUL-terminated; the socket is closed
    // on every path; the address is written as the sockaddr_in the ioctl expects in ifr_addr.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (dst, &src) in req.ifr_name.iter_mut().zip(name) {
            *dst = src as libc::c_char;
        }
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr { s_addr: u32::from(addr).to_be() },
            sin_zero: [0; 8],
        };
        std::ptr::copy_nonoverlapping(
            (&sin as *const libc::sockaddr_in).cast::<u8>(),
            (&mut req.ifr_ifru as *mut libc::__c_anonymous_ifr_ifru).cast::<u8>(),
            std::mem::size_of::<libc::sockaddr_in>(),
        );
        let ret = libc::ioctl(fd, libc::SIOCSIFADDR, &req);
        let err = std::io::Error::last_os_error();
        libc::close(fd);
        if ret < 0 {
            return Err(err);
        }
    }
    Ok(())
}
