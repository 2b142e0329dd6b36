//! No super-linear blow-up in the KQL front end: doubling the input at most doubles the time
//! (with a margin for timer noise). The test asserts ratios, never absolute times.

use std::time::Instant;

fn best_of(n: usize, f: impl Fn()) -> f64 {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn ratio(make: impl Fn(usize) -> String, n: usize) -> f64 {
    let small = make(n);
    let large = make(2 * n);
    // Warm up allocator and caches.
    let _ = vigil::kql::parse(&small);
    let a = best_of(5, || {
        std::hint::black_box(vigil::kql::parse(&small));
    });
    let b = best_of(5, || {
        std::hint::black_box(vigil::kql::parse(&large));
    });
    b / a
}

#[test]
fn chained_operators_scale_linearly() {
    let r = ratio(
        |n| {
            let mut q = String::from("T");
            for i in 0..n {
                q.push_str(&format!("\n| where Col{i} == {i} and Name has 'x'"));
            }
            q
        },
        5_000,
    );
    assert!(
        r < 3.0,
        "doubling 5,000 chained operators multiplied the time by {r:.2}"
    );
}

#[test]
fn nested_parentheses_scale_linearly() {
    let r = ratio(
        |n| format!("print {}1{}", "(".repeat(n), ")".repeat(n)),
        20_000,
    );
    assert!(
        r < 3.0,
        "doubling 20,000 nested parentheses multiplied the time by {r:.2}"
    );
}

#[test]
fn huge_string_literal_scales_linearly() {
    let r = ratio(|n| format!("print '{}'", "a".repeat(n)), 1_000_000);
    assert!(
        r < 3.0,
        "doubling a 1 MB string literal multiplied the time by {r:.2}"
    );
}
