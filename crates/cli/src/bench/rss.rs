//! The server's resident memory, when it listens on this machine (Linux): the socket
//! listening on the URL's port (`/proc/net/tcp{,6}`), the process holding it
//! (`/proc/*/fd`), its `VmRSS` (`/proc/PID/status`). Anything missing gives `None`.

use std::fs;

/// TCP state `LISTEN` in `/proc/net/tcp`.
const TCP_LISTEN: &str = "0A";

/// The inodes of the sockets listening on `port` in a `/proc/net/tcp` (or `tcp6`) table.
pub fn listening_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let state = fields.get(3)?;
            let inode = fields.get(9)?;
            let local_port = u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()?;
            (local_port == port && *state == TCP_LISTEN).then(|| inode.parse().ok()).flatten()
        })
        .collect()
}

/// `VmRSS` in a `/proc/PID/status`, in megabytes (MiB).
pub fn vm_rss_mb(status: &str) -> Option<f64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.trim_start_matches("VmRSS:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

/// The resident memory of the process listening on `port` here, if one is found.
pub fn server_rss_mb(port: u16) -> Option<f64> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = fs::read_to_string(table) {
            inodes.extend(listening_inodes(&text, port));
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let wanted: Vec<String> = inodes.iter().map(|inode| format!("socket:[{inode}]")).collect();
    for process in fs::read_dir("/proc").ok()?.flatten() {
        let name = process.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(fds) = fs::read_dir(process.path().join("fd")) else { continue };
        let holds = fds.flatten().any(|fd| {
            fs::read_link(fd.path()).is_ok_and(|target| wanted.iter().any(|w| target.as_os_str() == w.as_str()))
        });
        if holds {
            return vm_rss_mb(&fs::read_to_string(process.path().join("status")).ok()?);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1
   2: 00000000:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4444 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn the_listening_socket_of_a_port() {
        assert_eq!(listening_inodes(TCP, 8080), [4242], "the established connection on 8080 is not listening");
        assert_eq!(listening_inodes(TCP, 8443), [4444]);
        assert_eq!(listening_inodes(TCP, 9000), Vec::<u64>::new());
        assert_eq!(listening_inodes("", 8080), Vec::<u64>::new());
    }

    #[test]
    fn resident_memory_from_status() {
        let status = "Name:\tamzpay\nVmPeak:\t  90000 kB\nVmRSS:\t   11264 kB\nThreads:\t5\n";
        assert_eq!(vm_rss_mb(status), Some(11.0));
        assert_eq!(vm_rss_mb("Name:\tkthreadd\n"), None);
    }

    #[test]
    fn this_process_is_found_by_its_listening_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let rss = server_rss_mb(port).expect("this test's own listener");
        assert!(rss > 0.0);
        drop(listener);
        assert_eq!(server_rss_mb(port), None);
    }
}
