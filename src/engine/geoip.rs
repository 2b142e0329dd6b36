//! `geo_info_from_ip_address()` over a MaxMind City database the user supplies
//! (`[sandbox] geoip`; vigil bundles none). Kusto builds the function on the same reader
//! (`maxminddb`, ISC) over GeoLite2-City; the result is the page's bag: `country`, `state`
//! (the first subdivision), `city`, `latitude`, `longitude`, English names, each only when the
//! database has it. An address the database does not hold gives an empty bag; text that is not
//! an address gives null.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;

use super::value::Value;

/// The largest database file vigil reads (GeoLite2-City is about 60 MB).
pub const MAX_BYTES: u64 = 512 << 20;

pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("GeoIp")
    }
}

#[derive(Deserialize, Default)]
struct Named {
    #[serde(default)]
    names: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct Location {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(Deserialize, Default)]
struct City {
    #[serde(default)]
    country: Option<Named>,
    #[serde(default)]
    subdivisions: Option<Vec<Named>>,
    #[serde(default)]
    city: Option<Named>,
    #[serde(default)]
    location: Option<Location>,
}

impl GeoIp {
    /// A database from its bytes; a file that is not a MaxMind database is an error.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<GeoIp, String> {
        let reader = super::error::contain_panics(|| {
            maxminddb::Reader::from_source(bytes).map_err(|e| e.to_string())
        })
        .map_err(|e| format!("not a readable MaxMind database: {e}"))?;
        Ok(GeoIp { reader })
    }

    /// The bag for one address (see the module documentation).
    pub fn lookup(&self, text: &str) -> Result<Value, String> {
        let Ok(ip) = text.trim().parse::<IpAddr>() else {
            return Ok(Value::Null);
        };
        let found = super::error::contain_panics(|| {
            Ok(self.reader.lookup(ip).and_then(|r| r.decode::<City>()))
        })
        .map_err(|e| format!("the geo-IP database is damaged: {e}"))?;
        let city = match found {
            Ok(c) => c.unwrap_or_default(),
            // An IPv6 address in an IPv4-only database: not there.
            Err(maxminddb::MaxMindDbError::InvalidInput { .. }) => City::default(),
            Err(e) => return Err(format!("the geo-IP database could not be read: {e}")),
        };
        let en = |n: &Option<Named>| n.as_ref().and_then(|n| n.names.get("en").cloned());
        let mut bag = serde_json::Map::new();
        if let Some(c) = en(&city.country) {
            bag.insert("country".into(), c.into());
        }
        if let Some(s) = city
            .subdivisions
            .as_ref()
            .and_then(|s| s.first())
            .and_then(|s| s.names.get("en").cloned())
        {
            bag.insert("state".into(), s.into());
        }
        if let Some(c) = en(&city.city) {
            bag.insert("city".into(), c.into());
        }
        if let Some(l) = &city.location {
            for (k, v) in [("latitude", l.latitude), ("longitude", l.longitude)] {
                if let Some(n) = v.and_then(serde_json::Number::from_f64) {
                    bag.insert(k.into(), serde_json::Value::Number(n));
                }
            }
        }
        Ok(Value::dynamic(serde_json::Value::Object(bag)))
    }
}
