//! A seeded SecurityEvent-like table with the shape of ../shared/bench/kql-engines/peers.py
//! (`make_table`): 50 hosts, 200 users plus SYSTEM, five event ids, process command lines on
//! 4688, logon JSON on 4624/4625, five accounts that only ever fail. Plain Rust rows, so tests
//! can compute expected answers independently of the engine.

#![allow(dead_code)]

pub const HOUR: i64 = 36_000_000_000;

#[derive(Clone, Debug)]
pub struct Row {
    /// 100-ns ticks since 1970.
    pub time: i64,
    pub computer: String,
    pub account: String,
    pub event_id: i64,
    pub command_line: String,
    pub process: String,
    pub event_data: String,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` rows ending at `now` (ticks), spread over 72 hours, sorted by time.
pub fn make_table(n: usize, now: i64, seed: u64) -> Vec<Row> {
    let mut r = Rng(seed);
    let mut rows = Vec::with_capacity(n);
    let procs = [
        "powershell.exe",
        "cmd.exe",
        "rundll32.exe",
        "svchost.exe",
        "whoami.exe",
    ];
    for _ in 0..n {
        let secs = r.below(72 * 3600) as i64;
        let time = now - secs * 10_000_000;
        let p = r.unit();
        let event_id = if p < 0.40 {
            4624
        } else if p < 0.65 {
            4625
        } else if p < 0.90 {
            4688
        } else if p < 0.95 {
            4672
        } else {
            4720
        };
        let proc_ = procs[r.below(5) as usize];
        let u = r.unit();
        let cl = match proc_ {
            "powershell.exe" if u < 0.3 => "powershell.exe -nop -enc SQBFAFgAKABOAGUAdwA=",
            "powershell.exe" => "powershell.exe -File C:\\scripts\\backup.ps1",
            "cmd.exe" if u < 0.5 => "cmd.exe /c whoami /all",
            "cmd.exe" => "cmd.exe /c dir C:\\",
            "rundll32.exe" => "rundll32.exe C:\\Windows\\System32\\shell32.dll,Control_RunDLL",
            "svchost.exe" => "svchost.exe -k netsvcs",
            _ => "whoami.exe /groups",
        };
        let acct = r.below(222);
        let account = if acct < 200 {
            format!("user{acct:03}")
        } else {
            "SYSTEM".to_string()
        };
        let logon = [2, 3, 10][r.below(3) as usize];
        let event_data = if event_id == 4624 || event_id == 4625 {
            format!("{{\"LogonType\": {logon}, \"IpAddress\": \"10.0.0.5\"}}")
        } else {
            "{}".to_string()
        };
        let computer = format!("host-{:03}", r.below(50));
        let is4688 = event_id == 4688;
        rows.push(Row {
            time,
            computer,
            account,
            event_id,
            command_line: if is4688 {
                cl.to_string()
            } else {
                String::new()
            },
            process: if is4688 {
                proc_.to_string()
            } else {
                String::new()
            },
            event_data,
        });
    }
    // Five accounts that only ever fail (for leftanti).
    let mut k = 0;
    for row in rows.iter_mut() {
        if row.event_id == 4625 && k < 5 {
            row.account = format!("attacker{k}");
            k += 1;
        }
    }
    rows.sort_by_key(|r| r.time);
    rows
}

/// The table as JSON Lines (datetimes as ISO strings).
pub fn to_jsonl(rows: &[Row], format_time: impl Fn(i64) -> String) -> String {
    let mut out = String::new();
    for r in rows {
        out.push_str(
            &serde_json::json!({
                "TimeGenerated": format_time(r.time),
                "Computer": r.computer,
                "Account": r.account,
                "EventID": r.event_id,
                "CommandLine": r.command_line,
                "Process": r.process,
                "EventData": r.event_data,
            })
            .to_string(),
        );
        out.push('\n');
    }
    out
}
