//! Small statistics shared by the engine's series functions and the outcome reports (a leaf:
//! it depends on nothing in the crate).

/// The median (the mean of the middle two for an even count); None for no values.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Lanczos coefficients (g = 7, n = 9): about 15 significant digits for the gamma function.
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

fn lanczos_sum(x: f64) -> f64 {
    LANCZOS[1..]
        .iter()
        .enumerate()
        .fold(LANCZOS[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0))
}

/// The gamma function (Lanczos approximation, reflected below 1/2); infinite or NaN at the
/// poles (0, -1, -2, ...).
pub fn gamma(x: f64) -> f64 {
    use std::f64::consts::PI;
    if x < 0.5 {
        return PI / ((PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let t = x + 7.5;
    (2.0 * PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * lanczos_sum(x)
}

/// The natural logarithm of |gamma(x)|, without overflowing for large x.
pub fn ln_gamma(x: f64) -> f64 {
    use std::f64::consts::PI;
    if x < 0.5 {
        return (PI / (PI * x).sin().abs()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + lanczos_sum(x).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_of_integers_is_the_factorial() {
        for (n, f) in [(1.0, 1.0), (2.0, 1.0), (5.0, 24.0), (10.0, 362_880.0)] {
            assert!(
                (gamma(n) - f).abs() / f < 1e-12,
                "gamma({n}) = {}",
                gamma(n)
            );
            assert!((ln_gamma(n) - f64::ln(f)).abs() < 1e-10);
        }
        assert!((gamma(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-12);
        assert!((gamma(-0.5) + 2.0 * std::f64::consts::PI.sqrt()).abs() < 1e-11);
        assert!((ln_gamma(200.0) - 857.933_669_825_857_2).abs() < 1e-8);
    }
}
