//! Knowledge table costs: loading the embedded table, parsing numeric codes, resolving codes
//! and symbols. Run: `cargo bench --bench knowledge -- --warm-up-time 1 --measurement-time 3`.

use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::model::HResult;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

/// A mix of every accepted numeric form (and a few non-numbers parse_number must reject).
const NUMERIC: [&str; 10] = [
    "0x80200013",
    "0X80072ee7",
    "80190194",
    "-2145386477",
    "2149580819",
    "0x00200017",
    "2147942405",
    "-2147023838",
    "BG_E_NOT_FOUND",
    "0x8024402c",
];

/// A mix of numeric forms and symbols (upper and lower case, aliases, the HTTP rule).
const MIXED: [&str; 10] = [
    "0x80200013",
    "80072ee7",
    "-2145386477",
    "BG_E_INSUFFICIENT_RANGE_SUPPORT",
    "bg_e_http_error_403",
    "E_ACCESSDENIED",
    "wu_e_pt_winhttp_name_not_resolved",
    "ERROR_WINHTTP_INVALID_SERVER_RESPONSE",
    "BG_E_HTTP_ERROR_429",
    "2149580819",
];

fn bench(c: &mut Criterion) {
    c.bench_function("knowledge/builtin", |b| {
        b.iter(|| black_box(Knowledge::builtin()))
    });
    c.bench_function("knowledge/from_csv", |b| {
        b.iter(|| {
            black_box(Knowledge::from_csv(
                bitsdoctor::knowledge::CODES_CSV,
                "codes.csv",
            ))
        })
    });

    c.bench_function("knowledge/parse_number x1M", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for i in 0..1_000_000usize {
                if let Some(h) = HResult::parse_number(black_box(NUMERIC[i % NUMERIC.len()])) {
                    acc = acc.wrapping_add(h.0);
                }
            }
            acc
        })
    });

    let k = Knowledge::builtin();
    c.bench_function("knowledge/resolve x1M", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for i in 0..1_000_000usize {
                if let Ok(h) = k.resolve(black_box(MIXED[i % MIXED.len()])) {
                    acc = acc.wrapping_add(h.0);
                }
            }
            acc
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
