//! A minimal writer of MaxMind DB files (format 2.0, IPv4 tree, 32-bit records), written from
//! the published format specification so tests can build a City database with known answers
//! (vigil bundles no geo-IP data, and tests must not depend on a downloaded one).

#![allow(dead_code)]

/// One network of the database: `a.b.c.d/prefix` and its City record.
pub struct Network {
    pub addr: [u8; 4],
    pub prefix: u8,
    pub country: &'static str,
    pub state: Option<&'static str>,
    pub city: Option<&'static str>,
    pub location: Option<(f64, f64)>,
}

fn ctrl(out: &mut Vec<u8>, ty: u8, size: usize) {
    let (head, ext): (u8, Vec<u8>) = match size {
        s if s < 29 => (s as u8, vec![]),
        s if s < 29 + 256 => (29, vec![(s - 29) as u8]),
        s if s < 285 + 65536 => {
            let v = s - 285;
            (30, vec![(v >> 8) as u8, v as u8])
        }
        s => {
            let v = s - 65821;
            (31, vec![(v >> 16) as u8, (v >> 8) as u8, v as u8])
        }
    };
    if ty <= 7 {
        out.push((ty << 5) | head);
    } else {
        out.push(head);
        out.push(ty - 7);
    }
    out.extend(ext);
}

fn string(out: &mut Vec<u8>, s: &str) {
    ctrl(out, 2, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn double(out: &mut Vec<u8>, x: f64) {
    ctrl(out, 3, 8);
    out.extend_from_slice(&x.to_be_bytes());
}

fn uint(out: &mut Vec<u8>, ty: u8, x: u64) {
    let bytes = x.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    ctrl(out, ty, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn names(out: &mut Vec<u8>, en: &str) {
    ctrl(out, 7, 1);
    string(out, "names");
    ctrl(out, 7, 2);
    string(out, "en");
    string(out, en);
    string(out, "de");
    string(out, "nicht englisch");
}

fn record(n: &Network) -> Vec<u8> {
    let mut out = Vec::new();
    let pairs =
        1 + n.state.is_some() as usize + n.city.is_some() as usize + n.location.is_some() as usize;
    ctrl(&mut out, 7, pairs);
    string(&mut out, "country");
    names(&mut out, n.country);
    if let Some(s) = n.state {
        string(&mut out, "subdivisions");
        ctrl(&mut out, 11, 1);
        names(&mut out, s);
    }
    if let Some(c) = n.city {
        string(&mut out, "city");
        names(&mut out, c);
    }
    if let Some((lat, lon)) = n.location {
        string(&mut out, "location");
        ctrl(&mut out, 7, 2);
        string(&mut out, "latitude");
        double(&mut out, lat);
        string(&mut out, "longitude");
        double(&mut out, lon);
    }
    out
}

/// The bytes of an IPv4 City database holding `networks`.
pub fn city_database(networks: &[Network]) -> Vec<u8> {
    // The search tree: node i has two records; None is "no data".
    #[derive(Clone, Copy)]
    enum Rec {
        Empty,
        Node(usize),
        Data(usize),
    }
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for n in networks {
        offsets.push(data.len());
        data.extend(record(n));
    }
    for (k, n) in networks.iter().enumerate() {
        let ip = u32::from_be_bytes(n.addr);
        let mut node = 0;
        for depth in 0..n.prefix {
            let bit = ((ip >> (31 - depth)) & 1) as usize;
            if depth + 1 == n.prefix {
                nodes[node][bit] = Rec::Data(k);
            } else {
                node = match nodes[node][bit] {
                    Rec::Node(next) => next,
                    _ => {
                        nodes.push([Rec::Empty, Rec::Empty]);
                        let next = nodes.len() - 1;
                        nodes[node][bit] = Rec::Node(next);
                        next
                    }
                };
            }
        }
    }
    let count = nodes.len() as u32;
    let mut out = Vec::new();
    for n in &nodes {
        for r in n {
            let v = match r {
                Rec::Empty => count,
                Rec::Node(i) => *i as u32,
                Rec::Data(k) => count + 16 + offsets[*k] as u32,
            };
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend(data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    ctrl(&mut out, 7, 9);
    string(&mut out, "node_count");
    uint(&mut out, 6, count as u64);
    string(&mut out, "record_size");
    uint(&mut out, 5, 32);
    string(&mut out, "ip_version");
    uint(&mut out, 5, 4);
    string(&mut out, "database_type");
    string(&mut out, "GeoLite2-City");
    string(&mut out, "languages");
    ctrl(&mut out, 11, 1);
    string(&mut out, "en");
    string(&mut out, "binary_format_major_version");
    uint(&mut out, 5, 2);
    string(&mut out, "binary_format_minor_version");
    uint(&mut out, 5, 0);
    string(&mut out, "build_epoch");
    uint(&mut out, 9, 1_700_000_000);
    string(&mut out, "description");
    ctrl(&mut out, 7, 1);
    string(&mut out, "en");
    string(&mut out, "vigil test database");
    out
}

/// The networks the tests use: the documentation page's example address (Sydney) and two
/// more, with the page's values.
pub fn sample() -> Vec<u8> {
    city_database(&[
        Network {
            addr: [20, 53, 203, 0],
            prefix: 24,
            country: "Australia",
            state: Some("New South Wales"),
            city: Some("Sydney"),
            location: Some((-33.8715, 151.2006)),
        },
        Network {
            addr: [81, 2, 0, 0],
            prefix: 16,
            country: "Germany",
            state: None,
            city: None,
            location: Some((51.2993, 9.491)),
        },
        Network {
            addr: [10, 0, 0, 0],
            prefix: 8,
            country: "Testland",
            state: Some("Inner"),
            city: Some("Private City"),
            location: None,
        },
    ])
}
