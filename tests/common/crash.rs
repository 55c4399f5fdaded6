//! The SIGKILL crash-loop harness: re-run the current test binary on one test as a child that
//! prints `ACK …` after each durable write, kill it after a delay, and collect what it
//! acknowledged in full (a line cut by the kill has no newline and does not count).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs `test` of this binary as a child with `envs`, SIGKILLs it after `delay` (fine if it
/// already ended), and returns the text after `ACK ` of every complete acknowledgement line.
pub fn run_and_kill(test: &str, envs: &[(&str, &std::ffi::OsStr)], delay: Duration) -> Vec<String> {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut acked = Vec::new();
        let mut r = BufReader::new(stdout);
        let mut line = Vec::new();
        while r.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            if let Some(text) = line.strip_suffix(b"\n") {
                if let Some(rest) = String::from_utf8_lossy(text).strip_prefix("ACK ") {
                    acked.push(rest.to_owned());
                }
            }
            line.clear();
        }
        acked
    });
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL on Unix
    child.wait().unwrap();
    reader.join().unwrap()
}
