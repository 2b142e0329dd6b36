//! Geospatial functions on a sphere: distance, circles and geohashes.

use super::args::*;
use super::*;

pub(super) fn lookup(name: &str) -> Option<F> {
    let f: F = match name {
        "geo_distance_2points" => |a| {
            Ok(opt_real(
                match (real(a, 0), real(a, 1), real(a, 2), real(a, 3)) {
                    (Some(lo1), Some(la1), Some(lo2), Some(la2)) => {
                        geo_distance(lo1, la1, lo2, la2)
                    }
                    _ => None,
                },
            ))
        },
        "geo_point_in_circle" => |a| {
            let (Some(lo), Some(la), Some(clo), Some(cla), Some(r)) =
                (real(a, 0), real(a, 1), real(a, 2), real(a, 3), real(a, 4))
            else {
                return Ok(Value::Null);
            };
            if !(r >= 0.0 && r.is_finite()) {
                return Ok(Value::Null);
            }
            Ok(geo_distance(lo, la, clo, cla)
                .map(|d| Value::Bool(d <= r))
                .unwrap_or(Value::Null))
        },
        "geo_point_to_geohash" => |a| {
            let accuracy = if a.len() > 2 { long(a, 2) } else { Some(5) };
            Ok(Value::string(
                match (real(a, 0), real(a, 1), accuracy) {
                    (Some(lo), Some(la), Some(n)) => geohash(lo, la, n),
                    _ => None,
                }
                .unwrap_or_default(),
            ))
        },
        "geo_geohash_to_central_point" => |a| {
            Ok(match geohash_box(&s(a, 0)) {
                Some(([lo0, la0], [lo1, la1])) => json(serde_json::json!({
                    "type": "Point",
                    "coordinates": [(lo0 + lo1) / 2.0, (la0 + la1) / 2.0],
                })),
                None => Value::Null,
            })
        },
        _ => return None,
    };
    Some(f)
}

/// Kusto's `geo_distance_2points`: the great-circle distance in meters on a sphere of radius
/// 6,371,010 m (haversine; matches the documentation's Seattle-Los Angeles example to the
/// printed digits); `None` for coordinates out of range.
pub(super) fn geo_distance(lo1: f64, la1: f64, lo2: f64, la2: f64) -> Option<f64> {
    let ok = |lo: f64, la: f64| (-180.0..=180.0).contains(&lo) && (-90.0..=90.0).contains(&la);
    if !ok(lo1, la1) || !ok(lo2, la2) {
        return None;
    }
    let (p1, p2) = (la1.to_radians(), la2.to_radians());
    let (dp, dl) = (p2 - p1, (lo2 - lo1).to_radians());
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    Some(2.0 * 6_371_010.0 * h.sqrt().min(1.0).asin())
}

const GEOHASH: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// The geohash of a point with `n` characters (1 to 18): the bits of longitude and latitude
/// interleaved, longitude first, five bits a character. `None` for a coordinate out of range or
/// an accuracy outside 1..=18 (Kusto returns an empty string then).
fn geohash(lo: f64, la: f64, n: i64) -> Option<String> {
    if !(-180.0..=180.0).contains(&lo) || !(-90.0..=90.0).contains(&la) || !(1..=18).contains(&n) {
        return None;
    }
    let (mut lo_r, mut la_r) = ([-180.0f64, 180.0], [-90.0f64, 90.0]);
    let mut out = String::with_capacity(n as usize);
    let mut even = true;
    for _ in 0..n {
        let mut c = 0usize;
        for _ in 0..5 {
            let (r, v) = if even {
                (&mut lo_r, lo)
            } else {
                (&mut la_r, la)
            };
            let mid = (r[0] + r[1]) / 2.0;
            c <<= 1;
            if v >= mid {
                c |= 1;
                r[0] = mid;
            } else {
                r[1] = mid;
            }
            even = !even;
        }
        out.push(GEOHASH[c] as char);
    }
    Some(out)
}

/// The cell of a geohash as (west, south) and (east, north) corners; `None` for an empty or
/// over-long text or a character outside the geohash alphabet.
fn geohash_box(h: &str) -> Option<([f64; 2], [f64; 2])> {
    if h.is_empty() || h.len() > 18 {
        return None;
    }
    let (mut lo_r, mut la_r) = ([-180.0f64, 180.0], [-90.0f64, 90.0]);
    let mut even = true;
    for ch in h.bytes() {
        let c = GEOHASH.iter().position(|&g| g == ch)?;
        for bit in (0..5).rev() {
            let r = if even { &mut lo_r } else { &mut la_r };
            let mid = (r[0] + r[1]) / 2.0;
            if c >> bit & 1 == 1 {
                r[0] = mid;
            } else {
                r[1] = mid;
            }
            even = !even;
        }
    }
    Some(([lo_r[0], la_r[0]], [lo_r[1], la_r[1]]))
}
