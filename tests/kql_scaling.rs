//! No super-linear blow-up in the KQL front end: doubling the input at most doubles the time
//! (with a margin for timer noise). The test asserts ratios, never absolute times.

use std::sync::Mutex;
use std::time::Instant;

/// The tests time things: run them one at a time, not in parallel with each other.
static SERIAL: Mutex<()> = Mutex::new(());

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
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let small = make(n);
    let large = make(2 * n);
    // Warm up allocator and caches, and repeat enough that one measurement lasts a while.
    let t = Instant::now();
    let _ = vigil::kql::parse(&small);
    let reps = ((0.04 / t.elapsed().as_secs_f64().max(1e-6)) as usize).clamp(1, 400);
    let run = |q: &str| {
        for _ in 0..reps {
            std::hint::black_box(vigil::kql::parse(q));
        }
    };
    // Interleave the two sizes so a burst of load on the machine hits both.
    let mut a = f64::INFINITY;
    let mut b = f64::INFINITY;
    for _ in 0..11 {
        a = a.min(best_of(1, || run(&small)));
        b = b.min(best_of(1, || run(&large)));
    }
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
